import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { AuthPrincipal } from '../common/auth/principal';
import { AppError, ErrorCode, PlanViolationError } from '../common/errors/app-error';
import { EventBus } from '../common/events/event-bus';
import { RunEntity, RUN_STATUSES, RunStatus } from '../database/entities/run.entity';
import { WorkflowEntity } from '../database/entities/workflow.entity';
import { WorkflowChanges } from '../database/repositories/workflow.repository';
import { NodeRunEntity } from '../database/entities/node-run.entity';
import { DeadLetterRepository } from '../database/repositories/dead-letter.repository';
import { NodeRunRepository } from '../database/repositories/node-run.repository';
import { RunRepository } from '../database/repositories/run.repository';
import { graphReferences } from '../workflows/secret-sync';
import { WorkflowAccess } from '../workflows/workflow-access';
import { WorkflowSettings } from '../workflows/workflow-settings';
import { WorkflowRepository } from '../database/repositories/workflow.repository';
import { WorkspaceRepository } from '../database/repositories/workspace.repository';
import { PlansService } from '../plans/plans.service';
import { SecretsService } from '../secrets/secrets.service';
import {
  CancelAllResponse,
  CancelResponse,
  ConcurrencyDto,
  ConcurrencyResponse,
  toConcurrencyResponse,
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
import {
  buildSnapshot,
  controlPart,
  graphPart,
  rerunSnapshot,
  resumeFromFailedSnapshot,
  SNAPSHOT_KEYS,
} from '../engine/snapshot';
import { Launched, RunLauncher } from './run-launcher';
import { announceCanceled } from './run-cancellation';

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
    private readonly nodeRuns: NodeRunRepository,
    private readonly deadLetters: DeadLetterRepository,
    private readonly workflows: WorkflowRepository,
    private readonly access: WorkflowAccess,
    private readonly settings: WorkflowSettings,
    private readonly workspaces: WorkspaceRepository,
    private readonly launcher: RunLauncher,
    private readonly plans: PlansService,
    private readonly secrets: SecretsService,
    private readonly events: EventBus,
    private readonly clock: Clock,
  ) {}

  /** docs/contract.md §2.8: the caller may run the workflow; the launcher applies the gates. */
  async start(caller: AuthPrincipal, workflowId: string, dto: StartRunDto | undefined): Promise<RunEnvelope> {
    const { workflow } = await this.access.require(caller, workflowId, 'run');
    return this.launched(
      await this.launcher.launch({
        workflow,
        trigger: { kind: 'manual', caller },
        idempotencyKey: dto?.idempotency_key,
        priority: dto?.priority,
        snapshot: () =>
          buildSnapshot(workflow.data, {
            triggerContext: dto?.context,
            startFromNodeId: dto?.start_from_node_id,
            egressAllowlist: workflow.egressAllowlist,
          }),
      }),
    );
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
    announceCanceled(this.events, run, `canceled by user:${caller.userId}`);
    return { success: true, status: 'canceled' };
  }

  async cancelAll(caller: AuthPrincipal, workflowId: string): Promise<CancelAllResponse> {
    const { workflow } = await this.access.require(caller, workflowId, 'run');
    const runs = await this.runs.cancelAllActive(workflowId, this.clock.now());
    for (const run of runs) {
      announceCanceled(
        this.events,
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
    // "latest": the workflow's graph as it is now, with the base run's trigger payload and start node.
    const latest = dto.version === 'latest';
    const source = latest ? { ...graphPart(workflow.data), ...controlPart(base.snapshot) } : base.snapshot;
    await this.assertMayUseCredentials(caller, workflow, source);
    const snapshot = rerunSnapshot(source, {
      triggerContext: dto.context,
      startFromNodeId: dto.start_from_node_id,
      egressAllowlist: workflow.egressAllowlist,
    });
    return this.relaunch(caller, workflow, base, dto, snapshot, latest ? workflow.version : base.workflowVersion);
  }

  /** Resumes at the last failed node, reusing the outputs recorded before it (deviation 6 in docs/deviations.md). */
  async rerunFromFailed(caller: AuthPrincipal, workflowId: string, runId: string, dto: RerunDto): Promise<RunEnvelope> {
    // The outputs reused are the base run's, of its graph: only that version can resume from them.
    if (dto.version === 'latest')
      throw new AppError(
        ErrorCode.InvalidRequest,
        'Rerun from the failed node runs the same version; use rerun for "latest"',
      );
    const { workflow } = await this.access.require(caller, workflowId, 'run');
    const base = await this.runs.findForWorkflow(workflowId, runId);
    const nodeRuns = base ? await this.nodeRuns.nodeRuns(workflowId, base.id) : [];
    const failed = nodeRuns
      .filter((n) => n.status === 'failed')
      .sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime())[0];
    if (!base || !failed) throw new AppError(ErrorCode.InvalidRequest, 'No failed node found for this run');
    await this.assertMayUseCredentials(caller, workflow, base.snapshot);
    const snapshot = resumeFromFailedSnapshot(base.snapshot, nodeRuns, failed.nodeId, {
      triggerContext: dto.context,
      egressAllowlist: workflow.egressAllowlist,
    });
    return this.relaunch(caller, workflow, base, dto, snapshot, base.workflowVersion);
  }

  /** Both rerun routes: a run of `workflow` from `snapshot`, recorded as a rerun of `base`. */
  private async relaunch(
    caller: AuthPrincipal,
    workflow: WorkflowEntity,
    base: RunEntity,
    dto: RerunDto,
    snapshot: Record<string, unknown>,
    version: number | null,
  ): Promise<RunEnvelope> {
    return this.launched(
      await this.launcher.launch({
        workflow,
        trigger: { kind: 'rerun', caller, baseRunId: base.id },
        version,
        idempotencyKey: dto.idempotency_key,
        snapshot: () => snapshot,
      }),
    );
  }

  /**
   * A setting (the creator or an admin): the workflow's concurrency and backpressure
   * (docs/contract.md §2.19). Absent fields keep their value. Solo (personal or solo-plan
   * workspace) runs one at a time, per key too; backpressure itself is on every plan.
   */
  async setConcurrency(caller: AuthPrincipal, workflowId: string, dto: ConcurrencyDto): Promise<ConcurrencyResponse> {
    const { workflow } = await this.access.require(caller, workflowId, 'configure');
    const fields = ['limit', 'key', 'key_limit', 'on_limit', 'max_queued', 'queued_ttl_sec'] as const;
    if (!fields.some((f) => dto[f] !== undefined)) {
      throw new AppError(ErrorCode.InvalidRequest, `Nothing to change: give any of ${fields.join(', ')}`);
    }
    if (dto.limit !== undefined && dto.limit < 1) throw new AppError(ErrorCode.InvalidRequest, 'limit must be >= 1');
    if ((dto.limit ?? 1) > 1 || (dto.key_limit ?? 1) > 1) await this.assertNotSolo(workflow);
    // Decided on the row under its lock: a key limit needs the key as it is then, not as read above.
    const decide = (current: WorkflowEntity): WorkflowChanges => {
      const changes: WorkflowChanges = {};
      if (dto.limit !== undefined) changes.concurrencyLimit = dto.limit;
      const key = dto.key === undefined ? current.concurrencyKey : dto.key === null ? null : dto.key.trim();
      if (dto.key !== undefined) changes.concurrencyKey = key;
      if (key === null) {
        if (dto.key_limit !== undefined)
          throw new AppError(ErrorCode.InvalidRequest, 'key_limit needs a key: set key too');
        if (dto.key !== undefined) changes.concurrencyKeyLimit = null;
      } else {
        changes.concurrencyKeyLimit = dto.key_limit ?? current.concurrencyKeyLimit ?? 1;
      }
      if (dto.on_limit !== undefined) changes.concurrencyOnLimit = dto.on_limit;
      if (dto.max_queued !== undefined) changes.maxQueued = dto.max_queued;
      if (dto.queued_ttl_sec !== undefined) changes.queuedTtlSec = dto.queued_ttl_sec;
      return changes;
    };
    return toConcurrencyResponse(await this.settings.update(caller, workflow, decide));
  }

  private async assertNotSolo(workflow: WorkflowEntity): Promise<void> {
    let solo = !workflow.workspaceId;
    if (workflow.workspaceId) {
      const workspace = await this.workspaces.findActive(workflow.workspaceId);
      solo = !workspace || this.plans.workspaceTier(workspace) === 'solo';
    }
    if (solo) {
      throw new PlanViolationError([
        {
          code: 'concurrency-limit',
          message: 'Solo plan workflows run one job at a time. Upgrade in Settings → Plan to increase concurrency.',
        },
      ]);
    }
  }

  async listDeadLetters(
    caller: AuthPrincipal,
    workflowId: string,
    paging: { page: number; perPage: number },
  ): Promise<DeadLetterPageResponse> {
    await this.access.require(caller, workflowId, 'configure');
    const items = await this.deadLetters.list(workflowId, paging.page, paging.perPage);
    return {
      success: true,
      dead_letters: items.map((d) => this.secrets.redactor.redact(toDeadLetterResponse(d))),
      page: paging.page,
      per_page: paging.perPage,
    };
  }

  async clearDeadLetters(caller: AuthPrincipal, workflowId: string): Promise<DeletedResponse> {
    await this.access.require(caller, workflowId, 'configure');
    return { success: true, deleted: await this.deadLetters.clear(workflowId) };
  }

  /** docs/contract.md §2.13: a new run from the snapshot with the current allowlist; no quota, no plan checks. */
  async requeueDeadLetter(caller: AuthPrincipal, workflowId: string, deadLetterId: string): Promise<RunEnvelope> {
    const { workflow } = await this.access.require(caller, workflowId, 'configure');
    const deadLetter = await this.deadLetters.find(workflowId, deadLetterId);
    if (!deadLetter) throw new AppError(ErrorCode.NotFound, 'Dead letter not found');
    await this.assertMayUseCredentials(caller, workflow, deadLetter.snapshot);
    const failedRun = await this.runs.findForWorkflow(workflowId, deadLetter.runId);
    return this.launched(
      await this.launcher.launch({
        workflow,
        trigger: { kind: 'dead_letter', caller, deadLetterId: deadLetter.id },
        version: failedRun?.workflowVersion ?? null,
        snapshot: () => ({ ...deadLetter.snapshot, [SNAPSHOT_KEYS.egressAllowlist]: [...workflow.egressAllowlist] }),
      }),
    );
  }

  // --- helpers --------------------------------------------------------------------------------

  private launched({ run }: Launched): RunEnvelope {
    return { success: true, run: this.presentRun(run) };
  }

  /**
   * A rerun or requeue executes a stored graph with today's secrets: it runs under today's rules,
   * so whoever starts it must be allowed to use every credential that graph references.
   */
  private assertMayUseCredentials(caller: AuthPrincipal, workflow: WorkflowEntity, graph: unknown): Promise<void> {
    return this.secrets.assertMayUse(
      caller.userId,
      { ownerId: workflow.userId, workspaceId: workflow.workspaceId },
      graphReferences(graph),
    );
  }

  private async runWithNodes(caller: AuthPrincipal, workflowId: string, runId: string) {
    await this.access.require(caller, workflowId, 'read');
    const run = await this.runs.findForWorkflow(workflowId, runId);
    if (!run) throw new AppError(ErrorCode.NotFound, 'Run not found');
    return { run, nodeRuns: await this.nodeRuns.nodeRuns(workflowId, run.id) };
  }

  private presentRun(run: RunEntity) {
    return this.secrets.redactor.redact(toRunResponse(run));
  }

  private presentDetail(run: RunEntity, nodeRuns: NodeRunEntity[]): RunDownload {
    return this.secrets.redactor.redact({ run: toRunResponse(run), node_runs: nodeRuns.map(toNodeRunResponse) });
  }
}
