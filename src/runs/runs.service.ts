import { Injectable } from '@nestjs/common';
import { Clock, toRfc3339 } from '../common/clock';
import { KeyedLock } from '../common/keyed-lock';
import { AuthPrincipal } from '../common/auth/principal';
import { AppError, ErrorCode, PlanViolationError } from '../common/errors/app-error';
import { runEvent } from '../common/events/app-events';
import { EventBus } from '../common/events/event-bus';
import { withRunFacts } from '../common/events/run-facts';
import { currentRequestId } from '../common/http/request-context';
import { RunEntity, RUN_STATUSES, RunStatus } from '../database/entities/run.entity';
import { WorkflowEntity } from '../database/entities/workflow.entity';
import { QuotaTicket } from '../database/repositories/run-usage.repository';
import { NewRun, RunRepository } from '../database/repositories/run.repository';
import { WorkflowAccess } from '../workflows/workflow-access';
import { WorkflowRepository } from '../database/repositories/workflow.repository';
import { WorkspaceRepository } from '../database/repositories/workspace.repository';
import { assessSoloGraph, SCHEDULE_TRIGGER_MESSAGE, SOLO_WORKFLOW_LIMIT } from '../plans/plan-assessment';
import { PlansService } from '../plans/plans.service';
import { RunQuotaService } from '../plans/run-quota.service';
import { SecretsService } from '../secrets/secrets.service';
import {
  CancelAllResponse,
  CancelResponse,
  ConcurrencyResponse,
  DeadLetterPageResponse,
  DeletedResponse,
  RerunDto,
  RunDetailResponse,
  RunDownload,
  RunEnvelope,
  RunListResponse,
  RunPageResponse,
  StartRunDto,
  toDeadLetterResponse,
  toNodeRunResponse,
  toRunResponse,
} from './runs.dto';
import { buildSnapshot, rerunSnapshot, resumeFromFailedSnapshot, SNAPSHOT_KEYS } from './snapshot';

interface EnqueueOptions {
  idempotencyKey?: string;
  priority?: number;
  /** What started the run (the run's `triggered_by`). */
  triggeredBy: string;
  /** Who asked, for the run's event when it is not `triggeredBy` (a rerun's user). */
  requestedBy?: string;
  /** The HTTP request that asked for it (docs/operations.md, Logs). */
  requestId?: string | null;
}

type CanceledRun = Pick<
  RunEntity,
  'id' | 'workflowId' | 'workspaceId' | 'ownerId' | 'triggeredBy' | 'requestId' | 'createdAt' | 'firstClaimedAt'
>;

const SOLO_LOCKED_RUN = 'This workflow is locked on the solo plan. Upgrade in Settings → Plan to run it.';

export function clampPaging(page?: number, perPage?: number): { page: number; perPage: number } {
  return { page: Math.max(1, page ?? 1), perPage: Math.min(100, Math.max(1, perPage ?? 20)) };
}

/** `status=a&status=b`, `status=a,b` or the client's `status[]=a` (deviation 18 in docs/deviations.md). */
export function parseStatuses(...raw: unknown[]): RunStatus[] {
  const values = raw
    .flat()
    .filter((v): v is string => typeof v === 'string')
    .flatMap((v) => v.split(','))
    .map((v) => v.trim().toLowerCase())
    .filter(Boolean);
  const invalid = values.filter((v) => !(RUN_STATUSES as readonly string[]).includes(v));
  if (invalid.length) {
    throw new AppError(
      ErrorCode.InvalidRequest,
      `Invalid status filter: ${invalid.join(', ')} (expected ${RUN_STATUSES.join(', ')})`,
    );
  }
  return [...new Set(values)] as RunStatus[];
}

/** The runs API (docs/contract.md §2.8–2.13): start, list, inspect, cancel, rerun, concurrency, dead letters. */
@Injectable()
export class RunsService {
  constructor(
    private readonly runs: RunRepository,
    private readonly workflows: WorkflowRepository,
    private readonly access: WorkflowAccess,
    private readonly workspaces: WorkspaceRepository,
    private readonly quota: RunQuotaService,
    private readonly plans: PlansService,
    private readonly secrets: SecretsService,
    private readonly events: EventBus,
    private readonly clock: Clock,
  ) {}

  /** Manual starts with the same workflow and idempotency key, one at a time (see `start`). */
  private readonly sameKey = new KeyedLock();

  /**
   * docs/contract.md §2.8: runaway → quota ticket → Solo gates → snapshot → idempotent insert.
   * With an idempotency key, the run already made for it is answered first, and requests with the
   * same key take turns in this process: a replay, however many arrive at once, takes no quota.
   * (Across processes on PostgreSQL two first attempts may each take a ticket for a moment; the
   * insert that loses the race gives its ticket back.)
   */
  async start(caller: AuthPrincipal, workflowId: string, dto: StartRunDto | undefined): Promise<RunEnvelope> {
    const { workflow } = await this.access.require(caller, workflowId, 'run');
    const key = dto?.idempotency_key;
    if (!key) return this.startChecked(caller, workflow, dto);
    return this.sameKey.run(`${workflow.id}\n${key}`, async () => {
      const existing = await this.runs.findByIdempotencyKey(
        { workflowId: workflow.id, workspaceId: workflow.workspaceId, ownerId: workflow.userId },
        key,
      );
      if (!existing) return this.startChecked(caller, workflow, dto);
      return this.replay(existing, `user:${caller.userId}`, dto?.priority, this.clock.now());
    });
  }

  private async startChecked(
    caller: AuthPrincipal,
    workflow: WorkflowEntity,
    dto: StartRunDto | undefined,
  ): Promise<RunEnvelope> {
    const now = this.clock.now();
    await this.quota.assertNotRunaway(workflow, now);
    const { ticket, tier } = await this.quota.takeTicket(workflow, caller, now);
    return this.withTicket(ticket, now, async () => {
      if (tier === 'solo') {
        if (!workflow.workspaceId && workflow.userId === caller.userId) {
          const usable = (await this.workflows.personalIdsOldestFirst(caller.userId)).slice(0, SOLO_WORKFLOW_LIMIT);
          if (!usable.includes(workflow.id))
            throw new PlanViolationError([{ code: 'workflow-limit', message: SOLO_LOCKED_RUN }]);
          const violations = assessSoloGraph(workflow.data);
          if (violations.length) throw new PlanViolationError(violations);
        }
      }
      const snapshot = buildSnapshot(workflow.data, {
        triggerContext: dto?.context,
        startFromNodeId: dto?.start_from_node_id,
        egressAllowlist: workflow.egressAllowlist,
      });
      const enqueue = () =>
        this.enqueue(
          workflow,
          snapshot,
          {
            idempotencyKey: dto?.idempotency_key,
            priority: dto?.priority,
            triggeredBy: `user:${caller.userId}`,
            requestId: currentRequestId(),
          },
          ticket,
          now,
        );
      // The owner's Solo monthly cap, checked and taken one start at a time (docs/contract.md §8).
      return tier === 'solo' ? this.quota.withinSoloLimit(workflow.userId, now, enqueue) : enqueue();
    });
  }

  /**
   * A schedule's run for one due time (docs/contract.md §10.3): runaway protection and the
   * workspace quota apply, and schedule triggers need the workspace plan (the owner's, or the
   * workspace's). Idempotent on (schedule, due time): a firing retried after a crash finds the
   * run it queued instead of queueing another. A gate that refuses throws; the scheduler records
   * its message as the reason the due time was skipped.
   */
  async startScheduled(
    workflow: WorkflowEntity,
    schedule: { id: string; triggerNodeId: string | null; config: Record<string, unknown> | null },
    dueAt: Date,
    now: Date,
  ): Promise<RunEnvelope> {
    await this.quota.assertNotRunaway(workflow, now);
    const { ticket, tier } = await this.quota.takeTicket(workflow, { userId: workflow.userId, claimsPlan: null }, now);
    return this.withTicket(ticket, now, async () => {
      if (tier === 'solo')
        throw new PlanViolationError([{ code: 'premium-trigger', message: SCHEDULE_TRIGGER_MESSAGE }]);
      const saved = workflow.data[SNAPSHOT_KEYS.triggerContext];
      const snapshot = buildSnapshot(workflow.data, {
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
      return this.enqueue(
        workflow,
        snapshot,
        { idempotencyKey: `schedule:${schedule.id}:${dueAt.toISOString()}`, triggeredBy: `schedule:${schedule.id}` },
        ticket,
        now,
      );
    });
  }

  /** Queued and running runs of one workflow, or of every workflow the caller sees (deviation 14 in docs/deviations.md). */
  async listActive(caller: AuthPrincipal, workflowId?: string): Promise<RunListResponse> {
    let ids: string[];
    if (workflowId) {
      ids = [(await this.access.require(caller, workflowId, 'read')).workflow.id];
    } else {
      const memberships = await this.workspaces.membershipsForUser(caller.userId);
      ids = (
        await this.workflows.listVisibleTo(
          caller.userId,
          memberships.map((m) => m.workspace.id),
        )
      ).map((w) => w.id);
    }
    const runs = await this.runs.listActive(ids);
    return { success: true, runs: runs.map((r) => this.presentRun(r)) };
  }

  async list(
    caller: AuthPrincipal,
    workflowId: string,
    paging: { page: number; perPage: number },
    statuses: RunStatus[],
  ): Promise<RunPageResponse> {
    await this.access.require(caller, workflowId, 'read');
    const runs = await this.runs.listForWorkflow(workflowId, paging.page, paging.perPage, statuses);
    return { success: true, runs: runs.map((r) => this.presentRun(r)), page: paging.page, per_page: paging.perPage };
  }

  async get(caller: AuthPrincipal, workflowId: string, runId: string): Promise<RunDetailResponse> {
    const { run, nodeRuns } = await this.runWithNodes(caller, workflowId, runId);
    return { success: true, ...this.presentDetail(run, nodeRuns) };
  }

  async download(caller: AuthPrincipal, workflowId: string, runId: string): Promise<RunDownload> {
    const { run, nodeRuns } = await this.runWithNodes(caller, workflowId, runId);
    return this.presentDetail(run, nodeRuns);
  }

  /** Cancel wins (deviation 3 in docs/deviations.md): the row flips at once and an executing worker is told to stop. */
  async cancel(caller: AuthPrincipal, workflowId: string, runId: string): Promise<CancelResponse> {
    await this.access.require(caller, workflowId, 'run');
    const run = await this.runs.findForWorkflow(workflowId, runId);
    if (!run || !(await this.runs.cancel(workflowId, runId, this.clock.now()))) {
      throw new AppError(ErrorCode.InvalidRequest, 'Run is not cancelable or not found');
    }
    this.announceCanceled(run, `canceled by user:${caller.userId}`);
    return { success: true, status: 'canceled' };
  }

  async cancelAll(caller: AuthPrincipal, workflowId: string): Promise<CancelAllResponse> {
    const { workflow } = await this.access.require(caller, workflowId, 'run');
    const runs = await this.runs.cancelAllActive(workflowId, this.clock.now());
    for (const run of runs) {
      this.announceCanceled(
        { ...run, workflowId, workspaceId: workflow.workspaceId, ownerId: workflow.userId },
        `canceled by user:${caller.userId} (cancel all)`,
      );
    }
    return { success: true, canceled: runs.length };
  }

  /** docs/contract.md §2.11, fixed: current allowlist, no stale resume state; runaway and quota apply. */
  async rerun(caller: AuthPrincipal, workflowId: string, runId: string, dto: RerunDto): Promise<RunEnvelope> {
    const { workflow } = await this.access.require(caller, workflowId, 'run');
    const base = await this.runs.findForWorkflow(workflowId, runId);
    if (!base) throw new AppError(ErrorCode.NotFound, 'Run not found');
    await this.assertMayUseCredentials(caller, workflow, base.snapshot);
    const snapshot = rerunSnapshot(base.snapshot, {
      triggerContext: dto.context,
      startFromNodeId: dto.start_from_node_id,
      egressAllowlist: workflow.egressAllowlist,
    });
    return this.gatedEnqueue(workflow, snapshot, {
      idempotencyKey: dto.idempotency_key,
      triggeredBy: `rerun:${base.id}`,
      requestedBy: `user:${caller.userId}`,
      requestId: currentRequestId(),
    });
  }

  /** Resumes at the last failed node, reusing the outputs recorded before it (deviation 6 in docs/deviations.md). */
  async rerunFromFailed(caller: AuthPrincipal, workflowId: string, runId: string, dto: RerunDto): Promise<RunEnvelope> {
    const { workflow } = await this.access.require(caller, workflowId, 'run');
    const base = await this.runs.findForWorkflow(workflowId, runId);
    const nodeRuns = base ? await this.runs.nodeRuns(base.id) : [];
    const failed = nodeRuns
      .filter((n) => n.status === 'failed')
      .sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime())[0];
    if (!base || !failed) throw new AppError(ErrorCode.InvalidRequest, 'No failed node found for this run');
    await this.assertMayUseCredentials(caller, workflow, base.snapshot);
    const snapshot = resumeFromFailedSnapshot(base.snapshot, nodeRuns, failed.nodeId, {
      triggerContext: dto.context,
      egressAllowlist: workflow.egressAllowlist,
    });
    return this.gatedEnqueue(workflow, snapshot, {
      idempotencyKey: dto.idempotency_key,
      triggeredBy: `rerun:${base.id}`,
      requestedBy: `user:${caller.userId}`,
      requestId: currentRequestId(),
    });
  }

  /** A setting: the creator or an admin; Solo (personal or solo-plan workspace) stays at 1. */
  async setConcurrency(caller: AuthPrincipal, workflowId: string, limit: number): Promise<ConcurrencyResponse> {
    const { workflow } = await this.access.require(caller, workflowId, 'configure');
    if (limit < 1) throw new AppError(ErrorCode.InvalidRequest, 'limit must be >= 1');
    let solo = !workflow.workspaceId;
    if (workflow.workspaceId) {
      const workspace = await this.workspaces.findActive(workflow.workspaceId);
      solo = !workspace || this.plans.workspaceTier(workspace) === 'solo';
    }
    if (solo && limit > 1) {
      throw new PlanViolationError([
        {
          code: 'concurrency-limit',
          message: 'Solo plan workflows run one job at a time. Upgrade in Settings → Plan to increase concurrency.',
        },
      ]);
    }
    const result = await this.workflows.updateChecked(workflowId, this.clock.now(), async () => ({
      changes: { concurrencyLimit: limit },
    }));
    if (!result) throw new AppError(ErrorCode.NotFound, 'Workflow not found');
    this.events.emit('workflow.updated', {
      workflowId,
      workspaceId: workflow.workspaceId,
      actorId: caller.userId,
      updatedAt: result.workflow.updatedAt.toISOString(),
    });
    return { success: true, limit };
  }

  async listDeadLetters(
    caller: AuthPrincipal,
    workflowId: string,
    paging: { page: number; perPage: number },
  ): Promise<DeadLetterPageResponse> {
    await this.access.require(caller, workflowId, 'configure');
    const items = await this.runs.listDeadLetters(workflowId, paging.page, paging.perPage);
    return {
      success: true,
      dead_letters: items.map((d) => this.secrets.redactor.redact(toDeadLetterResponse(d))),
      page: paging.page,
      per_page: paging.perPage,
    };
  }

  async clearDeadLetters(caller: AuthPrincipal, workflowId: string): Promise<DeletedResponse> {
    await this.access.require(caller, workflowId, 'configure');
    return { success: true, deleted: await this.runs.clearDeadLetters(workflowId) };
  }

  /** docs/contract.md §2.13: a new run from the snapshot with the current allowlist; no quota, no plan checks. */
  async requeueDeadLetter(caller: AuthPrincipal, workflowId: string, deadLetterId: string): Promise<RunEnvelope> {
    const { workflow } = await this.access.require(caller, workflowId, 'configure');
    const deadLetter = await this.runs.findDeadLetter(workflowId, deadLetterId);
    if (!deadLetter) throw new AppError(ErrorCode.NotFound, 'Dead letter not found');
    await this.assertMayUseCredentials(caller, workflow, deadLetter.snapshot);
    const snapshot = { ...deadLetter.snapshot, [SNAPSHOT_KEYS.egressAllowlist]: [...workflow.egressAllowlist] };
    const now = this.clock.now();
    const run = await this.runs.requeueDeadLetter(
      deadLetter.id,
      this.newRun(workflow, snapshot, { triggeredBy: `dead_letter:${deadLetter.id}`, requestId: currentRequestId() }),
      now,
    );
    if (!run) throw new AppError(ErrorCode.NotFound, 'Dead letter not found');
    this.events.emit('run.queued', withRunFacts(runEvent(run), run));
    return { success: true, run: this.presentRun(run) };
  }

  // --- helpers --------------------------------------------------------------------------------

  /**
   * Reruns: runaway check, then what the run costs: a ticket from the paying account, or the
   * owner's Solo monthly cap (docs/contract.md §8; the Solo graph assessment is skipped, as the reference does).
   */
  private async gatedEnqueue(
    workflow: WorkflowEntity,
    snapshot: Record<string, unknown>,
    options: EnqueueOptions,
  ): Promise<RunEnvelope> {
    const now = this.clock.now();
    await this.quota.assertNotRunaway(workflow, now);
    const { ticket, tier } = await this.quota.takeTicket(workflow, null, now);
    const enqueue = () => this.enqueue(workflow, snapshot, options, ticket, now);
    return this.withTicket(ticket, now, () =>
      tier === 'solo' ? this.quota.withinSoloLimit(workflow.userId, now, enqueue) : enqueue(),
    );
  }

  private async enqueue(
    workflow: WorkflowEntity,
    snapshot: Record<string, unknown>,
    options: EnqueueOptions,
    ticket: QuotaTicket | null,
    now: Date,
  ): Promise<RunEnvelope> {
    const requestedBy = options.requestedBy ?? options.triggeredBy;
    const { run, duplicate } = await this.runs.insert(this.newRun(workflow, snapshot, options), now, [
      { triggeredBy: requestedBy },
    ]);
    if (duplicate) {
      // An idempotent replay consumes nothing: give the ticket back.
      await this.quota.release(ticket, now);
      return this.replay(run, requestedBy, options.priority, now);
    }
    if (options.priority !== undefined) {
      await this.runs.setPriority(run.id, options.priority);
      run.queuePriority = options.priority;
    }
    this.events.emit('run.queued', withRunFacts(runEvent(run), run));
    return { success: true, run: this.presentRun(run) };
  }

  /** A request for a run its idempotency key already made: the same run; who asked is recorded (docs/contract.md §4.8). */
  private async replay(
    run: RunEntity,
    triggeredBy: string,
    priority: number | undefined,
    now: Date,
  ): Promise<RunEnvelope> {
    await this.runs.recordEvents(run, [{ triggeredBy }], now);
    if (priority !== undefined) {
      await this.runs.setPriority(run.id, priority);
      run.queuePriority = priority;
    }
    return { success: true, run: this.presentRun(run) };
  }

  /** Releases the quota ticket when anything after taking it fails (docs/contract.md §8). */
  private async withTicket<T>(ticket: QuotaTicket | null, now: Date, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      await this.quota.release(ticket, now);
      throw error;
    }
  }

  private newRun(workflow: WorkflowEntity, snapshot: Record<string, unknown>, options: EnqueueOptions): NewRun {
    return {
      ownerId: workflow.userId,
      workflowId: workflow.id,
      workspaceId: workflow.workspaceId,
      snapshot,
      idempotencyKey: options.idempotencyKey ?? null,
      triggeredBy: options.triggeredBy,
      requestId: options.requestId ?? null,
      queuePriority: options.priority ?? 0,
    };
  }

  /**
   * A rerun or requeue executes a stored graph with today's secrets: it runs under today's rules,
   * so whoever starts it must be allowed to use every credential that graph references.
   */
  private assertMayUseCredentials(caller: AuthPrincipal, workflow: WorkflowEntity, graph: unknown): Promise<void> {
    return this.secrets.assertMayUse(
      caller.userId,
      { ownerId: workflow.userId, workspaceId: workflow.workspaceId },
      graph,
    );
  }

  private async runWithNodes(caller: AuthPrincipal, workflowId: string, runId: string) {
    await this.access.require(caller, workflowId, 'read');
    const run = await this.runs.findForWorkflow(workflowId, runId);
    if (!run) throw new AppError(ErrorCode.NotFound, 'Run not found');
    return { run, nodeRuns: await this.runs.nodeRuns(run.id) };
  }

  private announceCanceled(run: CanceledRun, reason: string): void {
    const event = runEvent(run);
    this.events.emit('run.cancel_requested', event);
    this.events.emit('run.finished', withRunFacts({ ...event, status: 'canceled', error: null }, run, reason));
  }

  private presentRun(run: RunEntity) {
    return this.secrets.redactor.redact(toRunResponse(run));
  }

  private presentDetail(run: RunEntity, nodeRuns: Awaited<ReturnType<RunRepository['nodeRuns']>>): RunDownload {
    return this.secrets.redactor.redact({ run: toRunResponse(run), node_runs: nodeRuns.map(toNodeRunResponse) });
  }
}
