import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { AsyncResource } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Clock, toRfc3339 } from '../common/clock';
import { AppError, PlanViolationError, RunawayProtectionError } from '../common/errors/app-error';
import { OnAppEvent } from '../common/events/event-bus';
import { AppConfig } from '../config/app-config';
import { WorkflowEntity } from '../database/entities/workflow.entity';
import { WorkflowScheduleEntity } from '../database/entities/workflow-schedule.entity';
import { FiringOutcome, ScheduleRepository } from '../database/repositories/schedule.repository';
import { WorkflowRepository } from '../database/repositories/workflow.repository';
import { RunLauncher } from '../runs/run-launcher';
import { buildSnapshot, SNAPSHOT_KEYS } from '../engine/snapshot';
import {
  findScheduleTrigger,
  latestRunAtOrBefore,
  nextRunAfter,
  parseScheduleConfig,
  ScheduleConfig,
  tooFrequent,
} from '../engine/schedule-math';

/** Schedules claimed per query; the scheduler claims again until nothing is due. */
const BATCH = 50;
/** A claim lapses after this long, so a scheduler that died mid-firing is taken over. */
const CLAIM_MS = 60_000;
/** A due time older than this when fired was missed (no scheduler ran): the catch-up policy applies. */
const MISFIRE_GRACE_MS = 60_000;
const INTERVAL_NAME = 'scheduler';

/**
 * A scheduled run's snapshot (docs/contract.md §10.3): the saved trigger context plus when and by
 * which schedule it fired, starting at the schedule's trigger node.
 */
function scheduledSnapshot(
  workflow: WorkflowEntity,
  schedule: WorkflowScheduleEntity,
  dueAt: Date,
): Record<string, unknown> {
  const saved = workflow.data[SNAPSHOT_KEYS.triggerContext];
  return buildSnapshot(workflow.data, {
    triggerContext: {
      ...(saved && typeof saved === 'object' && !Array.isArray(saved) ? saved : {}),
      scheduled: true,
      scheduleId: schedule.id,
      scheduledFor: toRfc3339(dueAt),
      scheduleConfig: schedule.config,
    },
    startFromNodeId: schedule.triggerNodeId ?? undefined,
    egressAllowlist: workflow.egressAllowlist,
  });
}

/**
 * The scheduler role (docs/contract.md §10.3, deviation 19 in docs/deviations.md): fires due schedules exactly
 * once per due time, whatever the number of processes. A schedule is claimed with a lease
 * (`SKIP LOCKED` on PostgreSQL), its run queued idempotently on (schedule, due time), and only
 * then moved to its next time; a crash in between leaves the claim to lapse and the retry finds
 * the run already there. Ticks come from `@nestjs/schedule` (SchedulerRegistry) every
 * SCHEDULER_TICK_MS, plus a timer for the soonest due time so a schedule fires on time.
 */
@Injectable()
export class Scheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(Scheduler.name);
  private readonly schedulerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private running: Promise<void> | null = null;
  private again = false;
  private wakeTimer: NodeJS.Timeout | null = null;
  private stopped = true;
  /**
   * Runs a function in the context this scheduler was made in, outside any request: a tick a
   * workflow save starts must not log (nor queue runs) as part of that request.
   */
  private readonly outsideRequests = AsyncResource.bind((work: () => void) => work());

  constructor(
    private readonly schedules: ScheduleRepository,
    private readonly workflows: WorkflowRepository,
    private readonly launcher: RunLauncher,
    private readonly registry: SchedulerRegistry,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.stopped = false;
    this.registry.addInterval(
      INTERVAL_NAME,
      setInterval(() => void this.tick(), this.config.scheduler.tickMs),
    );
    void this.tick();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.registry.deleteInterval(INTERVAL_NAME);
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    await this.running;
  }

  /** A saved schedule may be due sooner than the next tick. */
  @OnAppEvent('workflow.created')
  @OnAppEvent('workflow.updated')
  onWorkflowSaved(): void {
    if (!this.stopped) this.outsideRequests(() => void this.tick());
  }

  /** Fires what is due; ticks that arrive while one runs make it look again once done. */
  tick(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.fireDue().catch((error: unknown) => this.logger.error(`Scheduler tick failed: ${describe(error)}`));
      } while (this.again && !this.stopped);
      await this.armWake().catch(() => undefined);
    })().finally(() => (this.running = null));
    return this.running;
  }

  private async fireDue(): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      const claimed = await this.schedules.claimDue(this.schedulerId, now, new Date(now.getTime() + CLAIM_MS), BATCH);
      for (const schedule of claimed) {
        try {
          await this.fire(schedule);
        } catch (error) {
          // The database or something else worth retrying: the schedule stays as it was.
          this.logger.error(`Schedule ${schedule.id} not fired, retried on the next tick: ${describe(error)}`);
          await this.schedules.release(schedule, this.schedulerId).catch(() => undefined);
        }
      }
      if (claimed.length < BATCH || this.stopped) return;
    }
  }

  private async fire(schedule: WorkflowScheduleEntity): Promise<void> {
    const parsed = parseScheduleConfig(schedule.config);
    if ('error' in parsed) return this.disable(schedule, parsed.error);
    const workflow = await this.workflows.findById(schedule.workflowId);
    if (!workflow || workflow.userId !== schedule.userId) {
      return this.disable(schedule, 'The workflow or its owner changed');
    }
    // Saves refuse a faster schedule; one stored before the minimum was raised is turned off here.
    const label = findScheduleTrigger(workflow.data)?.label ?? schedule.triggerNodeId ?? 'Schedule';
    const tooOften = tooFrequent(parsed.config, this.config.scheduler.minIntervalMs, label);
    if (tooOften) return this.disable(schedule, tooOften);
    const now = this.clock.now();
    const plan = this.plan(parsed.config, schedule.nextRunAt!, now);
    let outcome: FiringOutcome;
    let runId: string | null = null;
    if ('skipped' in plan) {
      outcome = { skipped: plan.skipped };
    } else {
      try {
        const { run } = await this.launcher.launch({
          workflow,
          trigger: { kind: 'schedule', scheduleId: schedule.id, dueAt: plan.dueAt },
          snapshot: () => scheduledSnapshot(workflow, schedule, plan.dueAt),
          now,
        });
        runId = run.id;
        outcome = { firedFor: plan.dueAt };
      } catch (error) {
        if (!isGateRefusal(error)) throw error;
        outcome = {
          skipped:
            error instanceof RunawayProtectionError
              ? 'Runaway protection: the workspace started too many runs in the last 5 minutes'
              : error.message,
        };
      }
    }
    const moved = await this.schedules.finishFiring(schedule, this.schedulerId, outcome, plan.next, now);
    // One line per firing (docs/operations.md, Logs); a skipped due time is worth a look.
    const line = {
      event: 'firedFor' in outcome ? 'schedule.fired' : 'schedule.skipped',
      schedule_id: schedule.id,
      workflow_id: workflow.id,
      due_at: ('dueAt' in plan ? plan.dueAt : schedule.nextRunAt!).toISOString(),
      ...('firedFor' in outcome ? { run_id: runId } : { reason: outcome.skipped }),
      // Not moved: a save changed the schedule meanwhile, and its new time stands.
      next_run_at: moved ? (plan.next?.toISOString() ?? null) : undefined,
    };
    if ('firedFor' in outcome) this.logger.log(line, 'schedule fired');
    else this.logger.warn(line, 'schedule skipped a due time');
    if (moved && !plan.next) this.logDisabled(schedule, 'The schedule has no further runs');
  }

  /** Turns a schedule off for good, with the reason its owner sees. */
  private async disable(schedule: WorkflowScheduleEntity, reason: string): Promise<void> {
    await this.schedules.disable(schedule, this.schedulerId, reason);
    this.logDisabled(schedule, reason);
  }

  private logDisabled(schedule: WorkflowScheduleEntity, reason: string): void {
    this.logger.warn(
      { event: 'schedule.disabled', schedule_id: schedule.id, workflow_id: schedule.workflowId, reason },
      'schedule disabled',
    );
  }

  /**
   * Which due time to fire and what comes next, by the catch-up policy. On time (or only a little
   * late) a schedule fires for its due time; after downtime `latest` fires once for the most recent
   * missed time, `all` fires each in turn (the next one is due at once), `skip` fires none.
   */
  private plan(
    config: ScheduleConfig,
    dueAt: Date,
    now: Date,
  ): { dueAt: Date; next: Date | null } | { skipped: string; next: Date | null } {
    const policy = this.config.scheduler.catchUp;
    if (policy === 'all') return { dueAt, next: nextRunAfter(config, dueAt) };
    const latest = latestRunAtOrBefore(config, now);
    const fireFor = latest && latest > dueAt ? latest : dueAt;
    if (policy === 'skip' && now.getTime() - dueAt.getTime() > MISFIRE_GRACE_MS) {
      const next = nextRunAfter(config, fireFor);
      return { skipped: `Missed while no scheduler was running (catch-up policy: skip)`, next };
    }
    return { dueAt: fireFor, next: nextRunAfter(config, fireFor) };
  }

  /** Sets a timer for the soonest due time when it comes before the next tick. */
  private async armWake(): Promise<void> {
    if (this.stopped) return;
    const soonest = await this.schedules.soonestDue();
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = null;
    if (!soonest) return;
    const wait = soonest.getTime() - this.clock.now().getTime();
    if (wait >= this.config.scheduler.tickMs) return;
    this.wakeTimer = setTimeout(() => void this.tick(), Math.max(0, wait));
    this.wakeTimer.unref();
  }
}

/** Refusals of the run gates (quota, runaway protection, plan): the due time is skipped, not retried. */
function isGateRefusal(error: unknown): error is Error {
  return (
    error instanceof PlanViolationError ||
    error instanceof RunawayProtectionError ||
    (error instanceof AppError && error.status < 500)
  );
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
