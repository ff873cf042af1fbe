import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Clock, toRfc3339 } from '../common/clock';
import { LoopSignal } from '../common/loop-signal';
import type { ArgOf } from '../common/events/app-events';
import { OnAppEvent } from '../common/events/event-bus';
import { isRelayed } from '../common/events/relayed';
import { writtenFinishOf } from '../common/events/run-facts';
import { ExpiringCache } from '../common/expiring-cache';
import { AppConfig } from '../config/app-config';
import { NotificationDeliveryEntity } from '../database/entities/notification-delivery.entity';
import { NotificationEndpointEntity } from '../database/entities/notification-endpoint.entity';
import {
  AttemptOutcome,
  NotificationRepository,
  NotifiedRun,
  SendingContext,
} from '../database/repositories/notification.repository';
import { OutboundError, OutboundHttp } from '../egress/outbound-http';
import { SecretsService } from '../secrets/secrets.service';
import { NotificationsService } from './notifications.service';
import { messageId, signatureHeader } from './standard-webhooks';

/** An attempt made, to record with the rest of its batch. */
type Attempt = { delivery: NotificationDeliveryEntity; outcome: AttemptOutcome };

/** How long a dispatcher's word on a workflow's endpoints holds (the sweep covers what a stale one misses). */
const ENDPOINTS_CACHED_MS = 5_000;
/** Messages claimed, sent and recorded together. */
const CLAIM_BATCH = 32;
/** How long a claimed message is this dispatcher's: past its send timeout, so a live dispatcher never loses one. */
const claimMs = (timeoutMs: number) => timeoutMs * 2 + 5_000;
const SWEEP_BATCH = 500;
/** Most messages kept in memory to send under this dispatcher's claim (beyond it, claimed from the table). */
const READY_KEPT = 4_096;
/** Finished runs whose messages are queued together. */
const QUEUE_BATCH = 256;
/** How far back a process's first sweep looks (a downtime shorter than this loses nothing). */
const FIRST_SWEEP_MS = 24 * 3_600_000;

/**
 * Sends run notifications (docs/contract.md §2.18), in the worker role: a run that finishes is
 * queued for each endpoint of its workflow that wants its status (one message per endpoint and run,
 * in the database first), then sent, signed as Standard Webhooks, through the egress client, at
 * least once: a failed attempt is tried again with exponential backoff and jitter until
 * NOTIFICATION_MAX_ATTEMPTS. A sweep queues what an event did not (a crash between the run's
 * terminal write and its queueing, a cache that had not seen a new endpoint).
 */
@Injectable()
export class NotificationDispatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(NotificationDispatcher.name);
  readonly dispatcherId = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  /** A workflow's endpoints, as events and sends see them; dropped on `notification.endpoints_changed`. */
  private readonly endpointCache = new ExpiringCache<NotificationEndpointEntity[]>(ENDPOINTS_CACHED_MS);
  /** What sending a workflow's messages needs of it (name, owner, allowlist); dropped on `workflow.updated`. */
  private readonly contextCache = new ExpiringCache<SendingContext | null>(ENDPOINTS_CACHED_MS);
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  private readonly signal = new LoopSignal();
  private lastSweep = 0;
  /**
   * Finished runs to queue messages for, written together on the next turn of the event loop: as
   * this process's worker wrote them, or null (read them: a cancel, a run this process did not finish).
   */
  private readonly toQueue = new Map<string, NotifiedRun | null>();
  private queueing: Promise<void> | null = null;
  /** Messages this dispatcher queued under its own claim, sent from memory. */
  private readonly ready: NotificationDeliveryEntity[] = [];
  /** Whether to claim from the table before the next send, and when it was last looked at. */
  private tableDue = true;
  private tableLookedAt = -Infinity;
  private readonly claimMs: number;
  /** Until when the last sweep that succeeded looked: the next one looks back at least that far. */
  private sweptUpTo: number | null = null;
  /** Aborts the sends in flight at shutdown: their messages go back unattempted. */
  private readonly stopping = new AbortController();

  constructor(
    private readonly notifications: NotificationRepository,
    private readonly service: NotificationsService,
    private readonly http: OutboundHttp,
    private readonly secrets: SecretsService,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {
    this.claimMs = claimMs(config.notifications.timeoutMs);
  }

  onApplicationBootstrap(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Before the egress client closes (at application shutdown, after every module is destroyed). */
  async onModuleDestroy(): Promise<void> {
    this.running = false;
    this.stopping.abort();
    this.wake();
    // Messages of runs that finished are written before the database closes.
    while (this.queueing) await this.queueing;
    await this.loop;
    // What this dispatcher queued and did not send goes back to every dispatcher now, not when
    // its claims expire.
    if (this.ready.length) {
      this.ready.length = 0;
      await this.notifications
        .releaseAll(this.dispatcherId, this.clock.now())
        .catch((error: unknown) =>
          this.logger.warn({ err: { message: (error as Error).message } }, 'notifications not released at shutdown'),
        );
    }
  }

  @OnAppEvent('run.finished')
  async onRunFinished(event: ArgOf<'run.finished'>): Promise<void> {
    // A run a worker finished is queued by that worker; from elsewhere only a cancel (API
    // processes have no dispatcher). The sweep covers a process that died first.
    if (isRelayed(event) && event.status !== 'canceled') return;
    try {
      const endpoints = await this.endpointsOf(event.workflowId);
      if (!endpoints.some((e) => e.statuses.includes(event.status))) return;
    } catch (error) {
      // The sweep queues it later.
      this.logger.warn(
        { runId: event.runId, err: { message: (error as Error).message } },
        'queueing notifications failed',
      );
      return;
    }
    const written = isRelayed(event) ? undefined : writtenFinishOf(event);
    this.toQueue.set(
      event.runId,
      written
        ? {
            id: event.runId,
            workflowId: event.workflowId,
            workspaceId: event.workspaceId,
            status: event.status,
            // As the database keeps it: a lone surrogate is stored as U+FFFD.
            error: event.error?.toWellFormed() ?? null,
            ...written,
          }
        : null,
    );
    this.flushQueue();
  }

  /**
   * Queues the messages of the runs that finished meanwhile, together: one read of the runs and
   * one write of their messages for all of them; runs finishing while that is in flight go next.
   */
  private flushQueue(): void {
    if (this.queueing) return;
    this.queueing = (async () => {
      // Runs finishing in this turn of the event loop (a batched terminal write) come along.
      await nextTurn();
      while (this.toQueue.size) {
        const batch = [...this.toQueue].slice(0, QUEUE_BATCH);
        for (const [id] of batch) this.toQueue.delete(id);
        // Runs this process finished, then those to read: a failure of one leaves the other queued.
        const known = batch.flatMap(([, run]) => (run ? [run] : []));
        const unknown = batch.flatMap(([id, run]) => (run ? [] : [id]));
        for (const [runIds, finished] of [
          [known.map((run) => run.id), () => Promise.resolve(known)],
          [unknown, () => this.notifications.finishedRuns(unknown)],
        ] as const) {
          if (!runIds.length) continue;
          try {
            await this.queue(await finished());
            this.wake();
          } catch (error) {
            // The sweep queues them later.
            this.logger.warn(
              { runs: runIds, err: { message: (error as Error).message } },
              'queueing notifications failed',
            );
          }
        }
      }
    })().finally(() => {
      this.queueing = null;
      // A run that finished after the last look, before this settled.
      if (this.toQueue.size) this.flushQueue();
    });
  }

  @OnAppEvent('notification.endpoints_changed')
  onEndpointsChanged(event: ArgOf<'notification.endpoints_changed'>): void {
    this.endpointCache.delete(event.workflowId);
  }

  /** An allowlist or owner change (a setting, a hand-over) applies to the next send. */
  @OnAppEvent('workflow.updated')
  onWorkflowUpdated(event: ArgOf<'workflow.updated'>): void {
    this.contextCache.delete(event.workflowId);
  }

  @OnAppEvent('workflow.deleted')
  onWorkflowDeleted(event: ArgOf<'workflow.deleted'>): void {
    this.contextCache.delete(event.workflowId);
    this.endpointCache.delete(event.workflowId);
  }

  /** A redeliver: in the table, for whichever dispatcher looks first. */
  @OnAppEvent('notification.queued')
  onQueued(): void {
    this.tableDue = true;
    this.wake();
  }

  private endpointsOf(workflowId: string): Promise<NotificationEndpointEntity[]> {
    return this.endpointCache.get(workflowId, () => this.notifications.listEndpoints(workflowId));
  }

  private contextOf(workflowId: string): Promise<SendingContext | null> {
    return this.contextCache.get(workflowId, () => this.notifications.sendingContext(workflowId));
  }

  /**
   * Queues a message per endpoint that wants the run's status and existed when it finished. The
   * sweep (`only`: the pairs it found missing) reads the endpoints afresh; events use the cache.
   */
  private async queue(finished: NotifiedRun[], only?: ReadonlySet<string>): Promise<void> {
    if (!finished.length) return;
    const workflowIds = [...new Set(finished.map((run) => run.workflowId))];
    const [endpoints, contexts] = await Promise.all([
      only
        ? this.notifications.endpointsOf(workflowIds)
        : Promise.all(workflowIds.map((id) => this.endpointsOf(id))).then((lists) => lists.flat()),
      Promise.all(workflowIds.map(async (id) => [id, await this.contextOf(id)] as const)).then((e) => new Map(e)),
    ]);
    const now = this.clock.now();
    // Queued under this dispatcher's claim, to send from memory, while its backlog is short and it
    // is not stopping (runs finishing during the worker's shutdown grace); the sweep's finds and
    // the rest wait for a claim.
    const claim = !only && this.running && this.ready.length < READY_KEPT;
    const rows: NotificationDeliveryEntity[] = [];
    for (const run of finished) {
      // Deleted meanwhile: its endpoints went with it.
      const workflow = contexts.get(run.workflowId);
      if (!workflow) continue;
      const payload = JSON.stringify(this.body(run, workflow.name));
      for (const endpoint of endpoints) {
        if (endpoint.workflowId !== run.workflowId || !endpoint.statuses.includes(run.status)) continue;
        if (endpoint.createdAt > run.finishedAt || (only && !only.has(`${endpoint.id}\n${run.id}`))) continue;
        rows.push(
          Object.assign(new NotificationDeliveryEntity(), {
            id: randomUUID(),
            endpointId: endpoint.id,
            workflowId: run.workflowId,
            runId: run.id,
            event: `run.${run.status}`,
            payload,
            status: 'pending' as const,
            attempts: 0,
            nextAttemptAt: now,
            claimedBy: claim ? this.dispatcherId : null,
            claimExpiresAt: claim ? new Date(now.getTime() + this.claimMs) : null,
            log: [],
            deliveredAt: null,
            createdAt: now,
            updatedAt: now,
          }),
        );
      }
    }
    const written = await this.notifications.enqueue(rows);
    if (claim) this.ready.push(...rows.filter((row) => written.has(row.id)));
    else if (written.size) this.tableDue = true;
  }

  /** The message: the run's summary, redacted as every response is. */
  private body(run: NotifiedRun, workflowName: string) {
    return this.secrets.redactor.redact({
      type: `run.${run.status}`,
      timestamp: toRfc3339(run.finishedAt),
      data: {
        run: {
          id: run.id,
          workflow_id: run.workflowId,
          workspace_id: run.workspaceId,
          status: run.status,
          error: run.error,
          version: run.workflowVersion,
          triggered_by: run.triggeredBy,
          started_at: toRfc3339(run.startedAt),
          finished_at: toRfc3339(run.finishedAt),
        },
        workflow: { id: run.workflowId, name: workflowName },
      },
    });
  }

  private async run(): Promise<void> {
    const { pollMs } = this.config.notifications;
    while (this.running) {
      try {
        for (;;) {
          await this.sweepIfDue();
          const now = this.clock.now();
          // The table (retries come due, a redeliver, what another dispatcher let go) once per poll
          // or when told; messages this dispatcher queued are in memory, under its claim already.
          // Monotonic: a wall clock stepped back must not keep the table unread.
          if (performance.now() - this.tableLookedAt >= pollMs) this.tableDue = true;
          let due: NotificationDeliveryEntity[] = [];
          if (this.tableDue) {
            this.tableDue = false;
            this.tableLookedAt = performance.now();
            due = await this.notifications.claimDue(
              this.dispatcherId,
              now,
              new Date(now.getTime() + this.claimMs),
              CLAIM_BATCH,
            );
            // A full batch may have left more.
            if (due.length === CLAIM_BATCH) this.tableDue = true;
          }
          if (!due.length) {
            if (!this.ready.length) break;
            due = this.fromReady(now);
            if (!due.length) continue;
          }
          const batch = this.batchLookups(due, now);
          const sent = await Promise.all(due.map((d) => this.send(d, batch)));
          // The batch's attempts in one write (a message whose claim was lost meanwhile keeps the
          // record of whoever holds it now).
          const attempts = sent.filter((a): a is Attempt => a !== null);
          await this.notifications.recordAttempts(this.dispatcherId, attempts, this.clock.now());
          if (!this.running) break;
        }
      } catch (error) {
        this.logger.error({ err: { message: (error as Error).message } }, 'notification loop error');
      }
      if (this.running) await this.signal.sleep(pollMs);
    }
  }

  /**
   * Looks back the sweep window, and at least to where the last successful sweep looked (after a
   * downtime: the first sweep of a process looks back a day).
   */
  private async sweepIfDue(): Promise<void> {
    const now = this.clock.now().getTime();
    if (now - this.lastSweep < this.config.notifications.sweepMs) return;
    this.lastSweep = now;
    const { sweepWindowMs } = this.config.notifications;
    const since = Math.min(now - sweepWindowMs, this.sweptUpTo ?? now - FIRST_SWEEP_MS);
    const missing = await this.notifications.missing(new Date(since), SWEEP_BATCH);
    if (missing.length) {
      await this.queue(
        await this.notifications.finishedRuns([...new Set(missing.map((m) => m.runId))]),
        new Set(missing.map((m) => `${m.endpointId}\n${m.runId}`)),
      );
      this.logger.log({ messages: missing.length }, 'queued run notifications the events had not');
    }
    // A full batch may have left some: look from the same place next time.
    if (missing.length < SWEEP_BATCH) this.sweptUpTo = now - sweepWindowMs;
  }

  /**
   * What the sends of one batch look up once: the endpoints and sending contexts of their
   * workflows (from the caches, which events keep current across processes; at most a few seconds
   * old otherwise) and the signing secrets as of the batch's start.
   */
  private batchLookups(due: NotificationDeliveryEntity[], now: Date) {
    const workflowIds = [...new Set(due.map((d) => d.workflowId))];
    const endpoints = Promise.all(workflowIds.map((id) => this.endpointsOf(id))).then((lists) => lists.flat());
    const contexts = new Map(workflowIds.map((id) => [id, this.contextOf(id)]));
    const secretsOf = (endpoint: NotificationEndpointEntity) => this.service.signingSecrets(endpoint, now);
    // Read by each send, which handles a failure as its own.
    void endpoints.catch(() => undefined);
    for (const context of contexts.values()) void context.catch(() => undefined);
    return { endpoints, contexts, secretsOf };
  }

  /**
   * One attempt: sign, send through the egress client; what came of it, to record (null: nothing
   * to record: the message went with its endpoint, or went back unattempted). Never throws.
   */
  private async send(
    delivery: NotificationDeliveryEntity,
    batch: ReturnType<NotificationDispatcher['batchLookups']>,
  ): Promise<Attempt | null> {
    const started = this.clock.now();
    let prepared: {
      endpoint: NotificationEndpointEntity;
      context: SendingContext;
      secrets: string[];
    } | null;
    try {
      const endpoint = (await batch.endpoints).find((e) => e.id === delivery.endpointId);
      const context = await batch.contexts.get(delivery.workflowId)!;
      // Deleted meanwhile (the workflow or the endpoint): its messages went with it.
      if (!endpoint || !context) return null;
      prepared = { endpoint, context, secrets: batch.secretsOf(endpoint) };
    } catch (error) {
      // Our side failed (the database, a secret that no longer decrypts): no attempt is counted.
      this.logger.error(
        { deliveryId: delivery.id, err: { message: (error as Error).message } },
        'notification not sent: could not prepare it',
      );
      await this.release(delivery, new Date(started.getTime() + this.config.notifications.retryBaseMs), started);
      return null;
    }
    const { endpoint, context, secrets } = prepared;
    const timestamp = Math.floor(started.getTime() / 1000);
    const id = messageId(delivery.id);
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const response = await this.http.request({
        method: 'POST',
        url: endpoint.url,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Runloom-Notifications/1',
          'webhook-id': id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signatureHeader(secrets, id, timestamp, delivery.payload),
        },
        body: delivery.payload,
        timeoutMs: this.config.notifications.timeoutMs,
        signal: this.stopping.signal,
        followRedirects: false,
        // As an HTTP node of the workflow: its allowlist now, blocks in its log under its owner.
        origin: {
          workflowId: delivery.workflowId,
          runId: delivery.runId,
          nodeId: `notification:${endpoint.id}`,
          ownerId: context.ownerId,
          egressAllowlist: context.egressAllowlist,
        },
      });
      statusCode = response.status;
      if (response.status < 200 || response.status > 299) error = `HTTP ${response.status}`;
    } catch (e) {
      if (this.stopping.signal.aborted) {
        // Shutting down: the message goes back as it was, for this or another process.
        await this.release(delivery, started, this.clock.now());
        return null;
      }
      error = e instanceof OutboundError ? e.message : 'Delivery failed';
    }
    const now = this.clock.now();
    const attempts = delivery.attempts + 1;
    const delivered = error === null;
    const exhausted = attempts >= this.config.notifications.maxAttempts;
    return {
      delivery,
      outcome: {
        status: delivered ? 'delivered' : exhausted ? 'failed' : 'pending',
        attempt: {
          at: toRfc3339(started)!,
          status_code: statusCode,
          error,
          duration_ms: now.getTime() - started.getTime(),
        },
        nextAttemptAt: delivered || exhausted ? now : new Date(now.getTime() + this.backoff(attempts)),
      },
    };
  }

  /** Gives a claimed message back unattempted; a failure here leaves it to its claim's expiry. */
  private async release(delivery: NotificationDeliveryEntity, nextAttemptAt: Date, now: Date): Promise<void> {
    try {
      await this.notifications.release(delivery, this.dispatcherId, nextAttemptAt, now);
    } catch (error) {
      this.logger.warn(
        { deliveryId: delivery.id, err: { message: (error as Error).message } },
        'notification not released: it is sent again when its claim expires',
      );
    }
  }

  /**
   * The next queued messages to send from memory. One whose claim would run out before its send
   * could end is left to be claimed from the table (another dispatcher, or this one, takes it then).
   */
  private fromReady(now: Date): NotificationDeliveryEntity[] {
    const safeUntil = now.getTime() + this.config.notifications.timeoutMs;
    return this.ready.splice(0, CLAIM_BATCH).filter((d) => (d.claimExpiresAt?.getTime() ?? 0) > safeUntil);
  }

  /** Exponential from NOTIFICATION_RETRY_BASE_MS, capped, with jitter: between half and all of it. */
  private backoff(attempts: number): number {
    const { retryBaseMs, retryMaxMs } = this.config.notifications;
    const full = Math.min(retryMaxMs, retryBaseMs * 2 ** Math.min(attempts - 1, 30));
    return Math.round(full / 2 + (Math.random() * full) / 2);
  }

  private wake(): void {
    this.signal.wake();
  }
}
