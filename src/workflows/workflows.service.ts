import { Injectable } from '@nestjs/common';
import { isDeepStrictEqual } from 'node:util';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { AuthPrincipal } from '../common/auth/principal';
import { AppError, ErrorCode, PlanViolationError } from '../common/errors/app-error';
import { EventBus } from '../common/events/event-bus';
import { SuccessResponse } from '../common/http/dto';
import { isUniqueViolation } from '../database/db.service';
import { WorkflowEntity } from '../database/entities/workflow.entity';
import { UserRepository } from '../database/repositories/user.repository';
import { WorkflowLogRepository } from '../database/repositories/workflow-log.repository';
import { SaveSideEffects, WorkflowRepository } from '../database/repositories/workflow.repository';
import { WorkspaceRepository } from '../database/repositories/workspace.repository';
import { parseGraph } from '../engine/graph';
import { NodeRegistry } from '../engine/node-registry';
import {
  assessSoloGraph,
  SOLO_VERSION_RETENTION,
  SOLO_WORKFLOW_LIMIT,
  WORKSPACE_VERSION_RETENTION,
  WORKFLOW_LIMIT_MESSAGE,
  WORKFLOW_LOCKED_MESSAGE,
} from '../plans/plan-assessment';
import { computePlanContext, MembershipRef, PlanContext, workflowAccessible } from '../plans/plan-context';
import { PlanTier } from '../plans/plan-tier';
import { PlansService } from '../plans/plans.service';
import { restoreMasked } from '../secrets/redactor';
import { SecretsService } from '../secrets/secrets.service';
import { asRedacted, credentialPairPaths, DiffEntry, diffGraphs, isUnder } from './graph-diff';
import { assertValidGraph } from './graph-validation';
import { ScheduleSync } from './schedule-sync';
import { graphReferences, syncGraphSecrets } from './secret-sync';
import { WorkflowAccess, WorkflowAction } from './workflow-access';
import {
  CHANGE_SUMMARY_MAX,
  CreateWorkflowDto,
  toWorkflowLogResponse,
  toWorkflowResponse,
  UpdateWorkflowDto,
  toScheduleResponse,
  WorkflowDetailEnvelope,
  WorkflowEnvelope,
  WorkflowListResponse,
  WorkflowLogsResponse,
  WorkflowResponse,
} from './workflows.dto';

const CONFLICT_MESSAGE = 'This workflow was updated by someone else. Reload to continue editing.';
const NAME_TAKEN = 'A workflow with this name already exists';
const NO_WORKSPACE_ACCESS = 'You do not have access to this workspace.';
const NOT_IN_CONTEXT = 'This workflow is not available in the current plan context.';
const LOG_LIMIT = 200;
const SOLO_LOG_WINDOW_MS = 24 * 3_600_000;

/** Versions a workflow on `tier` keeps. */
const versionRetention = (tier: PlanTier) => (tier === 'solo' ? SOLO_VERSION_RETENTION : WORKSPACE_VERSION_RETENTION);

type Saved = { name: string; description: string | null; data: unknown };

/** A version's summary when the saver gave none: what changed, counted. */
export function changeSummary(before: Saved, after: Saved, diffs: DiffEntry[]): string {
  const parts: string[] = [];
  if (before.name !== after.name) parts.push(`renamed from "${before.name}" to "${after.name}"`);
  if ((before.description ?? '') !== (after.description ?? '')) parts.push('description changed');
  const ids = (data: unknown) => new Set(parseGraph(data).graph.nodes.map((n) => n.id));
  const [was, is] = [ids(before.data), ids(after.data)];
  const added = [...is].filter((id) => !was.has(id)).length;
  const removed = [...was].filter((id) => !is.has(id)).length;
  const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  if (added) parts.push(`${count(added, 'node', 'nodes')} added`);
  if (removed) parts.push(`${count(removed, 'node', 'nodes')} removed`);
  if (diffs.length) parts.push(`${count(diffs.length, 'node setting', 'node settings')} changed`);
  // Key order is not a change (PostgreSQL's jsonb keeps its own).
  const edges = (data: unknown) => (data as { edges?: unknown } | null)?.edges ?? [];
  if (!isDeepStrictEqual(edges(before.data), edges(after.data))) parts.push('connections changed');
  if (!parts.length) return 'No changes';
  const text = parts.join('; ');
  return (text[0].toUpperCase() + text.slice(1)).slice(0, CHANGE_SUMMARY_MAX);
}

/** What every `/:id` route establishes first: the workflow, the caller's standing and context. */
interface CallerView {
  workflow: WorkflowEntity;
  role: MembershipRef['role'] | null;
  memberships: MembershipRef[];
  context: PlanContext;
}

@Injectable()
export class WorkflowsService {
  constructor(
    private readonly workflows: WorkflowRepository,
    private readonly access: WorkflowAccess,
    private readonly logs: WorkflowLogRepository,
    private readonly workspaces: WorkspaceRepository,
    private readonly users: UserRepository,
    private readonly plans: PlansService,
    private readonly secrets: SecretsService,
    private readonly schedules: ScheduleSync,
    private readonly events: EventBus,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly nodeTypes: NodeRegistry,
  ) {}

  /** docs/contract.md §2.2, with the graph validated first (deviation 25 in docs/deviations.md). */
  async create(caller: AuthPrincipal, dto: CreateWorkflowDto): Promise<WorkflowEnvelope> {
    const data = dto.data;
    assertValidGraph(data, this.nodeTypes);
    const tier = await this.tier(caller);
    const memberships = await this.membershipsOf(caller);
    const context = computePlanContext(
      this.plans.contextPlan(caller.claimsPlan),
      memberships,
      dto.workspace_id ?? null,
    );
    if (tier === 'solo' && context.kind === 'solo') this.assertSoloGraph(data);
    else this.assertGraphSize(data);

    const workspaceId =
      dto.workspace_id ?? (context.kind === 'owned' || context.kind === 'member' ? context.workspaceId : null);
    if (workspaceId) {
      const role = memberships.find((m) => m.workspaceId === workspaceId)?.role;
      if (!role) throw new AppError(ErrorCode.Forbidden, NO_WORKSPACE_ACCESS);
      if (role === 'viewer') throw new AppError(ErrorCode.Forbidden, 'Workspace viewers cannot create workflows.');
    } else if (tier === 'solo') {
      const personal = await this.workflows.personalIdsOldestFirst(caller.userId);
      if (personal.length >= SOLO_WORKFLOW_LIMIT) {
        throw new PlanViolationError([{ code: 'workflow-limit', message: WORKFLOW_LIMIT_MESSAGE }]);
      }
    }

    const now = this.clock.now();
    const scope = { ownerId: caller.userId, workspaceId };
    const synced = await syncGraphSecrets(this.secrets, caller.userId, scope, data);
    await this.secrets.assertMayUse(caller.userId, scope, graphReferences(synced.graph), synced.inserts);
    const effects: SaveSideEffects = {
      version: {
        createdBy: caller.userId,
        summary: dto.change_summary?.trim() || 'Created',
        keep: versionRetention(await this.workflowTier({ userId: caller.userId, workspaceId })),
      },
      secrets: synced.inserts,
      schedule: await this.schedules.scheduleFor(synced.graph, { ownerId: caller.userId, workspaceId }, null, now),
    };
    const workflow = await this.saveOrConflict(() =>
      this.workflows.create(
        {
          userId: caller.userId,
          workspaceId,
          name: dto.name.trim(),
          description: dto.description ?? null,
          data: synced.graph as Record<string, unknown>,
        },
        effects,
        now,
      ),
    );
    this.events.emit('workflow.created', this.changedEvent(workflow, caller));
    return { success: true, workflow: this.present(workflow) };
  }

  /** docs/contract.md §2.3: the union of own workflows and workspace workflows visible in the context. */
  async list(caller: AuthPrincipal, workspace?: string): Promise<WorkflowListResponse> {
    const tier = await this.tier(caller);
    const memberships = await this.membershipsOf(caller);
    const context = computePlanContext(this.plans.contextPlan(caller.claimsPlan), memberships, workspace ?? null);
    if (workspace && context.kind !== 'owned' && context.kind !== 'member') {
      throw new AppError(ErrorCode.Forbidden, NO_WORKSPACE_ACCESS);
    }
    const visibleWorkspaces = memberships
      .filter((m) => workflowAccessible(context, { workspaceId: m.workspaceId }, memberships))
      .map((m) => m.workspaceId);
    const candidates = await this.workflows.listVisibleTo(caller.userId, visibleWorkspaces);
    let workflows = candidates.filter((w) => workflowAccessible(context, w, memberships));
    if (tier !== 'solo') return { success: true, workflows: workflows.map((w) => this.present(w)) };

    // Solo: only the three oldest personal workflows stay usable; the rest are hidden.
    const usable = new Set((await this.workflows.personalIdsOldestFirst(caller.userId)).slice(0, SOLO_WORKFLOW_LIMIT));
    const before = workflows.length;
    workflows = workflows.filter((w) => w.workspaceId !== null || w.userId !== caller.userId || usable.has(w.id));
    return { success: true, workflows: workflows.map((w) => this.present(w)), hidden_count: before - workflows.length };
  }

  /** docs/contract.md §2.4. */
  async get(caller: AuthPrincipal, id: string, workspace?: string): Promise<WorkflowDetailEnvelope> {
    const view = await this.view(caller, id, workspace, 'read');
    await this.assertNotSoloLocked(caller, view.workflow, await this.tier(caller));
    const schedule = await this.schedules.existing(id);
    return {
      success: true,
      workflow: this.present(view.workflow),
      schedule: schedule ? toScheduleResponse(schedule) : null,
    };
  }

  /**
   * docs/contract.md §2.5 with its quirk fixed: every check, the concurrency token included, runs under
   * the row lock before anything is written, so a rejected update persists nothing.
   */
  async update(
    caller: AuthPrincipal,
    id: string,
    workspace: string | undefined,
    dto: UpdateWorkflowDto,
    /** A restore (docs/contract.md §2.17): the version whose copy this save is. */
    restoredFrom?: number,
  ): Promise<WorkflowEnvelope> {
    assertValidGraph(dto.data, this.nodeTypes);
    const view = await this.view(caller, id, workspace, 'edit', { checkContextLater: true });
    const tier = await this.tier(caller);
    const now = this.clock.now();
    const result = await this.saveOrConflict(() =>
      this.workflows.updateChecked(id, now, async (current) => {
        this.assertFresh(current, dto.updated_at);
        this.assertInContext(view, workspace, current);
        if (tier === 'solo' && view.context.kind === 'solo') this.assertSoloGraph(dto.data);
        else this.assertGraphSize(dto.data);
        this.assertUnlockedFor(caller, current, view.role);
        await this.assertNotSoloLocked(caller, current, tier);

        // A client that saves what it was shown sends masked credentials back: keep the stored ones.
        const incoming = restoreMasked(dto.data, current.data);
        // Credentials follow who saves: only references the saver may use are kept (403 otherwise).
        const scope = { ownerId: current.userId, workspaceId: current.workspaceId };
        const synced = await syncGraphSecrets(this.secrets, caller.userId, scope, incoming);
        await this.secrets.assertMayUse(caller.userId, scope, graphReferences(synced.graph), synced.inserts);
        const existingSchedule = await this.schedules.existing(current.id);
        const next = { name: dto.name.trim(), description: dto.description ?? null, data: synced.graph };
        const diffs = this.graphDiff(current.data, synced.graph);
        return {
          changes: { ...next, data: synced.graph as Record<string, unknown> },
          effects: {
            version: {
              createdBy: caller.userId,
              summary:
                dto.change_summary?.trim() ||
                (restoredFrom !== undefined ? `Restored version ${restoredFrom}` : changeSummary(current, next, diffs)),
              restoredFrom,
              keep: versionRetention(await this.workflowTier(current)),
            },
            log: { userId: caller.userId, diffs },
            secrets: synced.inserts,
            schedule: await this.schedules.scheduleFor(
              synced.graph,
              { ownerId: current.userId, workspaceId: current.workspaceId },
              existingSchedule,
              now,
            ),
          },
        };
      }),
    );
    if (!result) throw new AppError(ErrorCode.NotFound, 'Workflow not found');
    this.events.emit('workflow.updated', this.changedEvent(result.workflow, caller));
    return { success: true, workflow: this.present(result.workflow) };
  }

  /**
   * A workspace admin or owner deletes (the creator, a personal workflow); members who can see it
   * get 403, not the confusing 404 of the original.
   */
  async delete(caller: AuthPrincipal, id: string, workspace?: string): Promise<SuccessResponse> {
    const { workflow } = await this.view(caller, id, workspace, 'delete');
    const fanOut = workflow.workspaceId
      ? {
          workspaceId: workflow.workspaceId,
          userId: caller.userId,
          diffs: [await this.actorEntry(caller), { path: 'workflow.deleted', from: workflow.name, to: workflow.id }],
        }
      : undefined;
    if (!(await this.workflows.delete(id, fanOut, this.clock.now())))
      throw new AppError(ErrorCode.NotFound, 'Workflow not found');
    this.events.emit('workflow.deleted', { workflowId: id, workspaceId: workflow.workspaceId, actorId: caller.userId });
    return { success: true };
  }

  /** A setting (the creator or an admin); `updated_at` moves (it is the concurrency token). */
  async lock(caller: AuthPrincipal, id: string, workspace?: string): Promise<WorkflowEnvelope> {
    await this.view(caller, id, workspace, 'configure');
    const now = this.clock.now();
    const result = await this.workflows.updateChecked(id, now, async () => ({
      changes: { lockedBy: caller.userId, lockedAt: now },
    }));
    if (!result) throw new AppError(ErrorCode.NotFound, 'Workflow not found');
    this.events.emit('workflow.updated', this.changedEvent(result.workflow, caller));
    return { success: true, workflow: this.present(result.workflow) };
  }

  /** The creator or an admin; unlocking an unlocked workflow is a no-op. */
  async unlock(caller: AuthPrincipal, id: string, workspace?: string): Promise<WorkflowEnvelope> {
    const view = await this.view(caller, id, workspace, 'configure');
    if (!view.workflow.lockedBy) return { success: true, workflow: this.present(view.workflow) };
    const result = await this.workflows.updateChecked(id, this.clock.now(), async () => ({
      changes: { lockedBy: null, lockedAt: null },
    }));
    if (!result) throw new AppError(ErrorCode.NotFound, 'Workflow not found');
    this.events.emit('workflow.updated', this.changedEvent(result.workflow, caller));
    return { success: true, workflow: this.present(result.workflow) };
  }

  /** A workspace workflow to another member who may edit; the workspace owner or an admin decides. */
  async reassign(caller: AuthPrincipal, id: string, userId: string): Promise<WorkflowEnvelope> {
    const { workflow } = await this.access.require(caller, id, 'reassign');
    const workspaceId = workflow.workspaceId!; // 'reassign' is never granted on a personal workflow
    const target = await this.workspaces.findMembership(workspaceId, userId);
    if (!target) throw new AppError(ErrorCode.InvalidRequest, 'The new owner must be a member of the workspace.');
    if (target.role === 'viewer')
      throw new AppError(ErrorCode.InvalidRequest, 'Workspace viewers cannot own workflows; change their role first.');
    // Runs will resolve credentials from the new owner's store: the graph may only name secrets the
    // admin could use there (else an admin could plant a reference to the new owner's secret).
    await this.secrets.assertMayUse(caller.userId, { ownerId: userId, workspaceId }, graphReferences(workflow.data));
    const reassigned = await this.workflows.reassign(id, userId, this.clock.now());
    if (!reassigned) throw new AppError(ErrorCode.NotFound, 'Workflow not found');
    this.events.emit('workflow.updated', this.changedEvent(reassigned, caller));
    return { success: true, workflow: this.present(reassigned) };
  }

  /** docs/contract.md §2.14: newest 200 from every actor; a Solo caller sees the last 24 hours. */
  async listLogs(caller: AuthPrincipal, id: string): Promise<WorkflowLogsResponse> {
    const { workflow } = await this.access.require(caller, id, 'read');
    const since =
      (await this.tier(caller)) === 'solo' ? new Date(this.clock.now().getTime() - SOLO_LOG_WINDOW_MS) : undefined;
    const logs = await this.logs.listForWorkflow(id, LOG_LIMIT, since);
    return this.secrets.redactor.redact({
      success: true as const,
      logs: logs.map(toWorkflowLogResponse),
      workflow: { id: workflow.id, name: workflow.name },
    });
  }

  async deleteLog(caller: AuthPrincipal, id: string, logId: string): Promise<SuccessResponse> {
    await this.access.require(caller, id, 'edit');
    if (!(await this.logs.deleteOwn(id, logId, caller.userId))) throw new AppError(ErrorCode.NotFound, 'Log not found');
    return { success: true };
  }

  async clearLogs(caller: AuthPrincipal, id: string): Promise<SuccessResponse> {
    await this.access.require(caller, id, 'edit');
    await this.logs.deleteAllOwn(id, caller.userId);
    return { success: true };
  }

  // --- shared checks -------------------------------------------------------------------------

  /** The access check for `action`, then the workspace-param and plan-context checks. */
  private async view(
    caller: AuthPrincipal,
    id: string,
    workspace: string | undefined,
    action: WorkflowAction,
    options: { checkContextLater?: boolean } = {},
  ): Promise<CallerView> {
    const { workflow, role } = await this.access.require(caller, id, action);
    const memberships = await this.membershipsOf(caller);
    const context = computePlanContext(this.plans.contextPlan(caller.claimsPlan), memberships, workspace ?? null);
    const view = { workflow, role, memberships, context };
    if (!options.checkContextLater) this.assertInContext(view, workspace, workflow);
    return view;
  }

  private assertInContext(view: CallerView, workspace: string | undefined, workflow: WorkflowEntity): void {
    if (workspace && view.context.kind !== 'owned' && view.context.kind !== 'member') {
      throw new AppError(ErrorCode.Forbidden, NO_WORKSPACE_ACCESS);
    }
    if (!workflowAccessible(view.context, workflow, view.memberships))
      throw new AppError(ErrorCode.Forbidden, NOT_IN_CONTEXT);
  }

  /** Optimistic concurrency (docs/contract.md §2.5): a stale or (for workspace workflows) missing token is a 409 with the current copy. */
  private assertFresh(current: WorkflowEntity, expected: Date | undefined): void {
    const stale = expected ? expected.getTime() !== current.updatedAt.getTime() : current.workspaceId !== null;
    if (stale) {
      throw new AppError(ErrorCode.WorkflowConflict, CONFLICT_MESSAGE, { workflow: this.present(current) });
    }
  }

  private assertUnlockedFor(caller: AuthPrincipal, workflow: WorkflowEntity, role: CallerView['role']): void {
    if (!workflow.lockedBy || workflow.lockedBy === caller.userId) return;
    if (role === 'admin' || role === 'owner') return;
    throw new AppError(
      ErrorCode.Forbidden,
      'This workflow is locked and can only be modified by the creator or an admin.',
    );
  }

  /** Solo keeps the three oldest personal workflows usable; the others are locked (docs/contract.md §2.4). */
  private async assertNotSoloLocked(caller: AuthPrincipal, workflow: WorkflowEntity, tier: PlanTier): Promise<void> {
    if (tier !== 'solo' || workflow.userId !== caller.userId || workflow.workspaceId !== null) return;
    const usable = (await this.workflows.personalIdsOldestFirst(caller.userId)).slice(0, SOLO_WORKFLOW_LIMIT);
    if (!usable.includes(workflow.id)) {
      throw new PlanViolationError([{ code: 'workflow-limit', message: WORKFLOW_LOCKED_MESSAGE }]);
    }
  }

  private assertSoloGraph(data: unknown): void {
    const violations = assessSoloGraph(parseGraph(data).graph);
    if (violations.length) throw new PlanViolationError(violations);
  }

  /** Beyond Solo, graphs are still bounded: every run of one walks and records each node. */
  private assertGraphSize(data: unknown): void {
    const limit = this.config.workspaces.nodeLimit;
    const nodes = parseGraph(data).graph.nodes.length;
    if (nodes > limit) {
      throw new PlanViolationError([
        {
          code: 'node-limit',
          message: `Workflows support up to ${limit} nodes. Remove ${nodes - limit} ${nodes - limit === 1 ? 'node' : 'nodes'}.`,
        },
      ]);
    }
  }

  private async saveOrConflict<T>(save: () => Promise<T>): Promise<T> {
    try {
      return await save();
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError(ErrorCode.Conflict, NAME_TAKEN);
      throw error;
    }
  }

  /**
   * The plan a workflow is on, whoever acts on it: its workspace's, or its owner's for a personal
   * workflow (as its run quota goes). Version retention follows it, not the saver's plan.
   */
  private async workflowTier(workflow: Pick<WorkflowEntity, 'userId' | 'workspaceId'>): Promise<PlanTier> {
    if (!workflow.workspaceId) return this.plans.resolvePlanTier(workflow.userId, null);
    const workspace = await this.workspaces.findById(workflow.workspaceId);
    return workspace ? this.plans.workspaceTier(workspace) : 'solo';
  }

  private tier(caller: AuthPrincipal): Promise<PlanTier> {
    return this.plans.resolvePlanTier(caller.userId, caller.claimsPlan);
  }

  private async membershipsOf(caller: AuthPrincipal): Promise<MembershipRef[]> {
    const memberships = await this.workspaces.membershipsForUser(caller.userId);
    return memberships.map((m) => ({ workspaceId: m.workspace.id, role: m.role }));
  }

  private async actorEntry(caller: AuthPrincipal) {
    const user = await this.users.findById(caller.userId);
    const to = user ? `${user.firstName} ${user.lastName} <${user.email}>` : caller.email;
    return { path: 'actor', from: null, to };
  }

  private changedEvent(workflow: WorkflowEntity, caller: AuthPrincipal) {
    return {
      workflowId: workflow.id,
      workspaceId: workflow.workspaceId,
      actorId: caller.userId,
      updatedAt: toWorkflowResponse(workflow).updated_at,
    };
  }

  /**
   * The change-log diff of two graphs, credential fields masked: change logs are stored, so they are
   * masked before they are written, as every response masks them: fields named like a credential,
   * and the value of a `{key, value}` pair (header, query parameter) whose name is one.
   */
  graphDiff(before: unknown, after: unknown): DiffEntry[] {
    const diffs = diffGraphs(before, after);
    const { redactor } = this.secrets;
    const pairValues = [...credentialPairPaths(before, after, (key) => redactor.isSensitiveKey(key))];
    const named = diffs.map((d) => {
      const name = /([A-Za-z0-9_]+)(?:\[\d+\])*$/.exec(d.path)?.[1];
      const credential = pairValues.some((base) => isUnder(d.path, base)) || (!!name && redactor.isSensitiveKey(name));
      if (!credential) return d;
      return { path: d.path, from: redactor.maskCredential(d.from), to: redactor.maskCredential(d.to) };
    });
    // Then as the graphs read through the response redactor: a credential under a key of any
    // shape (`X-Api-Key`, `secrets.prod`) is masked as `GET` masks it.
    return asRedacted(named, redactor.redact(before), redactor.redact(after), (v) => redactor.maskCredential(v));
  }

  /** Every workflow leaves through the redactor (credential fields masked). */
  private present(workflow: WorkflowEntity): WorkflowResponse {
    return this.secrets.redactor.redact(toWorkflowResponse(workflow));
  }
}
