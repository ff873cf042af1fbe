import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { hostname } from 'node:os';
import { Metrics } from '../metrics/metrics';
import { Clock } from '../common/clock';
import { LoopSignal } from '../common/loop-signal';
import { Retention } from '../common/retention';
import type { ArgOf } from '../common/events/app-events';
import { OnAppEvent } from '../common/events/event-bus';
import { AppConfig } from '../config/app-config';
import { RunEntity } from '../database/entities/run.entity';
import { ClaimedRun, RunQueueRepository } from '../database/repositories/run-queue.repository';
import { RunRepository } from '../database/repositories/run.repository';
import { ExecutionOutcome, RunExecutor, StopReason } from '../engine/run-executor';
import { UserRepository } from '../database/repositories/user.repository';
import { RunQuotaService } from '../plans/run-quota.service';
import { SecretsService } from '../secrets/secrets.service';
import { ClaimBatchLookups } from './claim-batch-lookups';
import { RunJournals } from './run-journals';

const REQUEUE_EVERY_MS = 2_000;
const PURGE_EVERY_MS = 600_000;
const ERROR_BACKOFF_MS = 1_000;

interface InFlight {
  run: ClaimedRun;
  controller: AbortController;
  reason: StopReason | null;
  done: Promise<ExecutionOutcome | 'error'>;
}

/**
 * The worker role (docs/contract.md §4.3): claims due runs under a lease and executes them, up to
 * WORKER_MAX_INFLIGHT_RUNS at once. Heartbeats renew the lease while a run executes (also during a
 * long node) and notice cancels made elsewhere; expired leases of dead workers are put back in the
 * queue. On shutdown it stops claiming, lets in-flight runs finish for the grace period, then
 * hands the rest back. Errors never stop the loop (deviation 1 in docs/deviations.md).
 */
@Injectable()
export class RunWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(RunWorker.name);
  readonly workerId = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly inflight = new Map<string, InFlight>();
  private running = false;
  private loop: Promise<void> | null = null;
  private readonly signal = new LoopSignal();
  private lastLoopAt = 0;
  private wakeScheduled = false;
  private lastRequeue = 0;
  private lastPurge = 0;

  constructor(
    private readonly runs: RunRepository,
    private readonly queue: RunQueueRepository,
    private readonly executor: RunExecutor,
    private readonly journals: RunJournals,
    private readonly quota: RunQuotaService,
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
    private readonly retention: Retention,
    private readonly users: UserRepository,
    private readonly secrets: SecretsService,
  ) {}

  /**
   * Readiness: the claim loop went round recently (it goes round at least every poll interval).
   * A loop stuck on the database or on a blocked event loop stops being ready.
   */
  loopHealthy(now: Date): boolean {
    if (!this.running) return false;
    const allowedMs = Math.max(10_000, 5 * this.config.worker.pollMs);
    return now.getTime() - this.lastLoopAt < allowedMs;
  }

  onApplicationBootstrap(): void {
    this.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stop claiming; give in-flight runs the grace period, then abort them (they are handed back). */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake();
    await this.loop;
    const all = () => Promise.all([...this.inflight.values()].map((f) => f.done));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      all(),
      new Promise((resolve) => (timer = setTimeout(resolve, this.config.worker.shutdownGraceMs))),
    ]);
    clearTimeout(timer);
    for (const flight of this.inflight.values()) this.abort(flight, 'shutdown');
    await all();
  }

  get inflightCount(): number {
    return this.inflight.size;
  }

  /** A run was queued in this process: look now instead of at the next poll. */
  @OnAppEvent('run.queued')
  onQueued(): void {
    this.wake();
  }

  /** A cancel in this process stops the execution at once (other processes notice on heartbeat). */
  @OnAppEvent('run.cancel_requested')
  onCancel(event: ArgOf<'run.cancel_requested'>): void {
    const flight = this.inflight.get(event.runId);
    if (flight) this.abort(flight, 'canceled');
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.lastLoopAt = this.clock.now().getTime();
      try {
        await this.housekeeping();
        while (this.running && this.inflight.size < this.config.worker.maxInflight) {
          const wanted = this.config.worker.maxInflight - this.inflight.size;
          const batch = await this.queue.claimBatch(
            this.workerId,
            this.config.worker.leaseMs,
            this.clock.now(),
            wanted,
          );
          const lookups = new ClaimBatchLookups(this.users, this.secrets, batch.length);
          for (const run of batch) this.spawn(run, lookups);
          // Fewer than asked for: nothing else is due right now.
          if (batch.length < wanted) break;
        }
      } catch (error) {
        this.logger.error(
          { err: { name: (error as Error).name, message: (error as Error).message } },
          'worker loop error',
        );
        await this.signal.pause(ERROR_BACKOFF_MS);
        continue;
      }
      // The queue is drained or every slot is taken: a run queued here or finishing wakes the
      // loop at once; the poll interval covers runs queued by other processes and due delays.
      await this.signal.sleep(this.config.worker.pollMs);
    }
  }

  private async housekeeping(): Promise<void> {
    const now = this.clock.now().getTime();
    if (now - this.lastRequeue >= REQUEUE_EVERY_MS) {
      this.lastRequeue = now;
      const { requeued, abandoned } = await this.queue.requeueExpired(this.clock.now(), this.config.runs.maxAttempts);
      if (requeued.length) this.logger.warn({ runs: requeued }, 'requeued runs whose lease expired');
      if (abandoned.length) {
        // The repository emitted run.finished for them.
        this.metrics.runsFinished.inc({ status: 'failed' }, abandoned.length);
        this.logger.error({ runs: abandoned }, 'runs failed: lease lost RUN_MAX_ATTEMPTS times');
      }
      // Emitted as run.finished by the repository; each has its lifecycle line.
      const expired = await this.queue.expireQueued(this.clock.now());
      if (expired.length) this.metrics.runsFinished.inc({ status: 'expired' }, expired.length);
    }
    if (now - this.lastPurge >= PURGE_EVERY_MS) {
      this.lastPurge = now;
      await this.retention.pruneAll(this.clock.now());
    }
  }

  private spawn(run: ClaimedRun, lookups: ClaimBatchLookups): void {
    if (run.attempt === 1 && run.firstClaimedAt) {
      this.metrics.queueToStart.observe((run.firstClaimedAt.getTime() - run.createdAt.getTime()) / 1000);
    }
    const controller = new AbortController();
    const flight: InFlight = { run, controller, reason: null, done: Promise.resolve('error') };
    flight.done = this.process(flight, lookups).finally(() => {
      this.inflight.delete(run.id);
      this.wake();
    });
    this.inflight.set(run.id, flight);
  }

  private async process(flight: InFlight, lookups: ClaimBatchLookups): Promise<ExecutionOutcome | 'error'> {
    const heartbeat = setInterval(() => void this.heartbeat(flight), this.config.worker.heartbeatMs);
    const deadline =
      this.config.worker.deadlineMs > 0
        ? setTimeout(() => this.abort(flight, 'deadline'), this.config.worker.deadlineMs)
        : null;
    // The batch's lookups are released once every run has its store (or never will).
    let lookupsDone = false;
    const doneWithLookups = () => {
      if (lookupsDone) return;
      lookupsDone = true;
      lookups.done();
    };
    try {
      const run = await this.withSnapshot(flight.run);
      // Deleted with its workflow since the claim: nothing left to run or to record.
      if (!run) return 'lost';
      // docs/contract.md §4.3: runaway protection is checked again by the worker, for workspace runs.
      const owner = { workspaceId: run.workspaceId, userId: run.ownerId };
      if (
        run.workspaceId &&
        (await this.quota.runawayBlocked(owner, this.clock.now(), await lookups.owner(run.ownerId)))
      ) {
        await this.runs.recordEvents(
          run,
          [{ triggeredBy: `worker:${this.workerId}`, connectionType: 'runaway_protection_triggered' }],
          this.clock.now(),
        );
        // Through the journal: streams and the lifecycle log hear of it like any other failure.
        await this.journals.open(run, this.workerId).finished('failed', 'runaway_protection_triggered', []);
        return 'failed';
      }
      const journal = this.journals.open(run, this.workerId);
      let outcome: ExecutionOutcome | 'error' = 'error';
      try {
        outcome = await this.executor.execute(
          run,
          { signal: flight.controller.signal, stopReason: () => flight.reason },
          journal,
          () => lookups.secretStore({ ownerId: run.ownerId, workspaceId: run.workspaceId }).finally(doneWithLookups),
        );
      } finally {
        // A cancel or a lost lease ends an execution without a journal write: its span ends here.
        journal.end(outcome);
      }
      if (outcome === 'succeeded' || outcome === 'failed' || outcome === 'canceled') {
        this.metrics.runsFinished.inc({ status: outcome });
      }
      return outcome;
    } catch (error) {
      this.logger.error(
        { runId: flight.run.id, err: { name: (error as Error).name, message: (error as Error).message } },
        'run execution failed',
      );
      return 'error';
    } finally {
      doneWithLookups();
      clearInterval(heartbeat);
      if (deadline) clearTimeout(deadline);
    }
  }

  /**
   * The claimed run with its snapshot. One too large to come with the claim is read now, on a turn
   * of the event loop of its own: a batch of large runs is parsed one run at a time, with requests
   * served in between.
   */
  private async withSnapshot(run: ClaimedRun): Promise<RunEntity | null> {
    if (run.snapshot) return run as RunEntity;
    await nextTurn();
    const snapshot = await this.queue.snapshotOf(run.id);
    return snapshot ? Object.assign(run, { snapshot }) : null;
  }

  /** Renews the lease; a run that is no longer ours (canceled, or requeued after a stall) is stopped. */
  private async heartbeat(flight: InFlight): Promise<void> {
    if (flight.controller.signal.aborted) return;
    try {
      const renewed = await this.queue.renewLease(
        flight.run.id,
        this.workerId,
        this.config.worker.leaseMs,
        this.clock.now(),
      );
      if (renewed) return;
      const status = await this.runs.statusOf(flight.run.id);
      this.abort(flight, status === 'canceled' ? 'canceled' : 'lease_lost');
    } catch (error) {
      this.logger.warn({ runId: flight.run.id, err: { message: (error as Error).message } }, 'heartbeat failed');
    }
  }

  private abort(flight: InFlight, reason: StopReason): void {
    if (flight.controller.signal.aborted) return;
    flight.reason = reason;
    flight.controller.abort(new Error(reason));
  }

  /** Next turn of the event loop, once however many ask in this one (a batch of runs queued). */
  private wake(): void {
    if (this.wakeScheduled) return;
    this.wakeScheduled = true;
    setImmediate(() => {
      this.wakeScheduled = false;
      this.signal.wake();
    });
  }
}
