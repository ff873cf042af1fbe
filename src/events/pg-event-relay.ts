import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { AppEventName } from '../common/events/app-events';
import { AppConfig } from '../config/app-config';

/** Events other processes need: streams in API processes, cancels in worker processes. */
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
]);

const CHANNEL = 'runloom_events';
const RECONNECT_MS = 1_000;
/** NOTIFY payloads must stay under 8,000 bytes; events are packed into notifications up to this size. */
const MAX_PAYLOAD_BYTES = 7_000;

interface Relayed {
  name: AppEventName;
  payload: object;
}

/**
 * Across processes on PostgreSQL (SPEC §8, DESIGN §1): lifecycle events emitted here are sent
 * with NOTIFY, and events NOTIFY'd by other processes are emitted here, so an API process streams
 * what a worker process executes and a cancel reaches the worker at once. Payloads are small ids
 * (streams fetch bodies by id). Events emitted while a NOTIFY is in flight go together in the next
 * one, in emit order: one NOTIFY per event capped a process at ~1,000 events/s (about nine per
 * run), which bounded end-to-end throughput (bench/run.ts). On SQLite there is one process, so
 * this does nothing.
 */
@Injectable()
export class PgEventRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(PgEventRelay.name);
  private readonly origin = randomUUID();
  /** How this process's own notifications begin: they come back to it and are dropped unparsed. */
  private readonly ownPrefix = `{"origin":${JSON.stringify(this.origin)},`;
  /** Payloads that arrived from other processes: emitted locally, never sent back. */
  private readonly relayed = new WeakSet<object>();
  private listener: Client | null = null;
  private sender: Client | null = null;
  private stopped = false;
  /** Encoded events (`{"name":…,"payload":…}`) waiting for the next NOTIFY. */
  private outbox: string[] = [];
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
    if (payload && typeof payload === 'object' && this.relayed.has(payload)) return;
    this.outbox.push(JSON.stringify({ name, payload }));
    if (!this.flushing) void this.flush();
  }

  /** One query at a time on the connection (pg refuses overlapping queries), in emit order. */
  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.outbox.length && this.sender) {
        const sender = this.sender;
        const batch = this.takeBatch();
        const text = `${this.ownPrefix}"events":[${batch.join(',')}]}`;
        await sender.query('SELECT pg_notify($1, $2)', [CHANNEL, text]).catch((error: Error) => {
          this.logger.warn({ events: batch.length, err: { message: error.message } }, 'event relay notify failed');
        });
      }
    } finally {
      this.flushing = false;
    }
  }

  /** The oldest events that fit in one notification (always at least one). */
  private takeBatch(): string[] {
    let bytes = 0;
    let count = 0;
    while (count < this.outbox.length) {
      bytes += Buffer.byteLength(this.outbox[count]) + 1;
      if (count > 0 && bytes > MAX_PAYLOAD_BYTES) break;
      count += 1;
    }
    return this.outbox.splice(0, count);
  }

  private receive(raw: string | undefined): void {
    if (!raw || raw.startsWith(this.ownPrefix)) return;
    try {
      const { origin, events } = JSON.parse(raw) as { origin: string; events: Relayed[] };
      if (origin === this.origin || !Array.isArray(events)) return;
      for (const { name, payload } of events) {
        if (!RELAYED.has(name) || !payload || typeof payload !== 'object') continue;
        this.relayed.add(payload);
        this.emitter.emit(name, payload);
      }
    } catch (error) {
      this.logger.warn({ err: { message: (error as Error).message } }, 'event relay dropped a malformed notification');
    }
  }
}
