import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { AppEventMap, AppEventName } from '../common/events/app-events';
import { isRelayed, markRelayed } from '../common/events/relayed';
import { AppConfig } from '../config/app-config';

/**
 * Events other processes need: streams in API processes, cancels in worker processes, and the
 * access changes that end a stream held by another API process (a logout, a removal…).
 */
const RELAYED: ReadonlySet<AppEventName> = new Set<AppEventName>([
  'run.queued',
  'run.started',
  'run.paused',
  'run.finished',
  'run.cancel_requested',
  'node.started',
  'node.finished',
  'workflow.created',
  'workflow.updated',
  'workflow.deleted',
  'auth.credential_revoked',
  'workspace.membership_changed',
  'notification.endpoints_changed',
  'notification.queued',
]);

const CHANNEL = 'runloom_events';
const RECONNECT_MS = 1_000;
/** NOTIFY payloads must stay under 8,000 bytes; events are packed into notifications up to this size. */
const MAX_PAYLOAD_BYTES = 7_000;

interface Relayed {
  name: AppEventName;
  payload: object;
}

type NodeEvent = AppEventMap['node.started'] | AppEventMap['node.finished'];
const NODE_EVENT_KEYS = { 'node.started': 'nodeType', 'node.finished': 'status' } as const;
/** `[kind, run, nodeId, nodeType | status]`: a node event in a notification (`run` indexes its `runs`). */
type CompactNodeEvent = [0 | 1, number, string, string];
const NODE_EVENT_NAMES = ['node.started', 'node.finished'] as const;

/**
 * A node event whose payload is exactly the run's ids, the node id and its one detail: sent as a
 * short array, the run's ids once per notification. A 5,000-node run emits 10,000 of these.
 */
function compactable(name: string, payload: unknown): payload is NodeEvent {
  if (name !== 'node.started' && name !== 'node.finished') return false;
  const event = payload as Record<string, unknown>;
  const detail = NODE_EVENT_KEYS[name];
  return (
    Object.keys(event).length === 6 &&
    typeof event.runId === 'string' &&
    typeof event.workflowId === 'string' &&
    (typeof event.workspaceId === 'string' || event.workspaceId === null) &&
    typeof event.ownerId === 'string' &&
    typeof event.nodeId === 'string' &&
    typeof event[detail] === 'string'
  );
}

/**
 * Across processes on PostgreSQL (docs/contract.md §11): lifecycle events emitted here are sent
 * with NOTIFY, and events NOTIFY'd by other processes are emitted here, so an API process streams
 * what a worker process executes and a cancel reaches the worker at once. Payloads are small ids
 * (streams fetch bodies by id). Events emitted while a NOTIFY is in flight go together in the next
 * one, in emit order: one NOTIFY per event capped a process at ~1,000 events/s (about nine per
 * run), which bounded end-to-end throughput (bench/run.ts). Node events go as short arrays with
 * their run's ids once per notification: a 5,000-node run sends 10,000 of them, and at full size
 * they cost PostgreSQL and every listening process megabytes per run. On SQLite there is one
 * process, so this does nothing.
 */
@Injectable()
export class PgEventRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(PgEventRelay.name);
  private readonly origin = randomUUID();
  /** How this process's own notifications begin: they come back to it and are dropped unparsed. */
  private readonly ownPrefix = `{"origin":${JSON.stringify(this.origin)},`;
  private listener: Client | null = null;
  private sender: Client | null = null;
  private stopped = false;
  /** Events waiting for the next NOTIFY, in emit order. */
  private outbox: Relayed[] = [];
  private flushing = false;
  private readonly forward = (name: string | string[], payload: unknown) => void this.send(name, payload);

  constructor(
    private readonly emitter: EventEmitter2,
    private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.database.type !== 'postgres') return;
    await this.connect();
    this.emitter.onAny(this.forward);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.emitter.offAny(this.forward);
    await Promise.all([this.listener?.end().catch(() => undefined), this.sender?.end().catch(() => undefined)]);
  }

  private async connect(): Promise<void> {
    if (this.config.database.type !== 'postgres') return;
    const url = this.config.database.url;
    const listener = new Client({ connectionString: url });
    const sender = new Client({ connectionString: url });
    const reconnect = () => {
      if (this.stopped) return;
      this.listener = this.sender = null;
      setTimeout(
        () =>
          void this.connect().catch((e: Error) =>
            this.logger.warn({ err: { message: e.message } }, 'event relay reconnect failed'),
          ),
        RECONNECT_MS,
      ).unref();
    };
    listener.on('error', (e) => this.logger.warn({ err: { message: e.message } }, 'event relay listener error'));
    sender.on('error', (e) => this.logger.warn({ err: { message: e.message } }, 'event relay sender error'));
    listener.on('end', reconnect);
    listener.on('notification', (message) => this.receive(message.payload));
    await listener.connect();
    await sender.connect();
    await listener.query(`LISTEN ${CHANNEL}`);
    this.listener = listener;
    this.sender = sender;
  }

  private send(name: string | string[], payload: unknown): void {
    if (typeof name !== 'string' || !RELAYED.has(name as AppEventName) || !this.sender) return;
    // Arrived from another process: emitted here, never sent back.
    if (isRelayed(payload)) return;
    this.outbox.push({ name: name as AppEventName, payload: payload as object });
    if (!this.flushing) void this.flush();
  }

  /** One query at a time on the connection (pg refuses overlapping queries), in emit order. */
  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.outbox.length && this.sender) {
        const sender = this.sender;
        const { text, events } = this.takeBatch();
        await sender.query('SELECT pg_notify($1, $2)', [CHANNEL, text]).catch((error: Error) => {
          this.logger.warn({ events, err: { message: error.message } }, 'event relay notify failed');
        });
      }
    } finally {
      this.flushing = false;
    }
  }

  /**
   * The oldest events that fit in one notification (always at least one), encoded:
   * `{"origin":…,"runs":[[runId, workflowId, workspaceId, ownerId]…],"events":[…]}` where an event
   * is `{"name":…,"payload":…}` or, for a node event, a `CompactNodeEvent`.
   */
  private takeBatch(): { text: string; events: number } {
    const runs: string[] = [];
    const runIndex = new Map<string, number>();
    const events: string[] = [];
    let bytes = Buffer.byteLength(this.ownPrefix) + 24;
    for (const { name, payload } of this.outbox) {
      let encoded: string;
      let run: { id: string; json: string } | null = null;
      if (compactable(name, payload)) {
        let index = runIndex.get(payload.runId);
        if (index === undefined) {
          index = runs.length;
          const json = JSON.stringify([payload.runId, payload.workflowId, payload.workspaceId, payload.ownerId]);
          run = { id: payload.runId, json };
        }
        const detail = 'status' in payload ? payload.status : payload.nodeType;
        encoded = JSON.stringify([name === 'node.started' ? 0 : 1, index, payload.nodeId, detail]);
      } else {
        encoded = JSON.stringify({ name, payload });
      }
      const size = Buffer.byteLength(encoded) + 1 + (run ? Buffer.byteLength(run.json) + 1 : 0);
      if (events.length > 0 && bytes + size > MAX_PAYLOAD_BYTES) break;
      bytes += size;
      events.push(encoded);
      if (run) {
        runIndex.set(run.id, runs.length);
        runs.push(run.json);
      }
    }
    this.outbox.splice(0, events.length);
    return {
      text: `${this.ownPrefix}"runs":[${runs.join(',')}],"events":[${events.join(',')}]}`,
      events: events.length,
    };
  }

  private receive(raw: string | undefined): void {
    if (!raw || raw.startsWith(this.ownPrefix)) return;
    try {
      const { origin, runs, events } = JSON.parse(raw) as {
        origin: string;
        runs?: [string, string, string | null, string][];
        events: (Relayed | CompactNodeEvent)[];
      };
      if (origin === this.origin || !Array.isArray(events)) return;
      for (const event of events) {
        const relayed = Array.isArray(event) ? this.expand(event, runs ?? []) : event;
        if (!relayed || !RELAYED.has(relayed.name) || !relayed.payload || typeof relayed.payload !== 'object') continue;
        markRelayed(relayed.payload);
        this.emitter.emit(relayed.name, relayed.payload);
      }
    } catch (error) {
      this.logger.warn({ err: { message: (error as Error).message } }, 'event relay dropped a malformed notification');
    }
  }

  private expand(
    [kind, index, nodeId, detail]: CompactNodeEvent,
    runs: [string, string, string | null, string][],
  ): Relayed | null {
    const name = NODE_EVENT_NAMES[kind];
    const run = runs[index];
    if (!name || !Array.isArray(run)) return null;
    const [runId, workflowId, workspaceId, ownerId] = run;
    return { name, payload: { runId, workflowId, workspaceId, ownerId, nodeId, [NODE_EVENT_KEYS[name]]: detail } };
  }
}
