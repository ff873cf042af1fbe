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

/**
 * Across processes on PostgreSQL (SPEC §8, DESIGN §1): lifecycle events emitted here are sent
 * with NOTIFY, and events NOTIFY'd by other processes are emitted here, so an API process streams
 * what a worker process executes and a cancel reaches the worker at once. Payloads are small ids
 * (streams fetch bodies by id). On SQLite there is one process, so this does nothing.
 */
@Injectable()
export class PgEventRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(PgEventRelay.name);
  private readonly origin = randomUUID();
  /** Payloads that arrived from other processes: emitted locally, never sent back. */
  private readonly relayed = new WeakSet<object>();
  private listener: Client | null = null;
  private sender: Client | null = null;
  private stopped = false;
  private sending: Promise<void> = Promise.resolve();
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

  private async send(name: string | string[], payload: unknown): Promise<void> {
    if (typeof name !== 'string' || !RELAYED.has(name as AppEventName) || !this.sender) return;
    if (payload && typeof payload === 'object' && this.relayed.has(payload)) return;
    const sender = this.sender;
    const text = JSON.stringify({ origin: this.origin, name, payload });
    // One query at a time on the connection (pg 9 refuses overlapping queries), in emit order.
    this.sending = this.sending
      .then(() => sender.query('SELECT pg_notify($1, $2)', [CHANNEL, text]))
      .then(
        () => undefined,
        (error: Error) =>
          this.logger.warn({ event: name, err: { message: error.message } }, 'event relay notify failed'),
      );
    await this.sending;
  }

  private receive(raw: string | undefined): void {
    if (!raw) return;
    try {
      const { origin, name, payload } = JSON.parse(raw) as { origin: string; name: AppEventName; payload: object };
      if (origin === this.origin || !RELAYED.has(name)) return;
      this.relayed.add(payload);
      this.emitter.emit(name, payload);
    } catch (error) {
      this.logger.warn({ err: { message: (error as Error).message } }, 'event relay dropped a malformed notification');
    }
  }
}
