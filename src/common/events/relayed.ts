/**
 * Payloads another process emitted, brought into this one by the PostgreSQL event relay
 * (src/events/pg-event-relay.ts). Listeners that act for the process that made a change (the
 * relay itself, lifecycle logs) skip them; the rest treat them as local events.
 */
const relayed = new WeakSet<object>();

export function markRelayed(payload: object): void {
  relayed.add(payload);
}

export function isRelayed(payload: unknown): boolean {
  return typeof payload === 'object' && payload !== null && relayed.has(payload);
}
