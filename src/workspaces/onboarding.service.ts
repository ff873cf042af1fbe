import { Injectable } from '@nestjs/common';
import { toUserResponse } from '../auth/auth.dto';
import { Clock } from '../common/clock';
import type { AuthPrincipal } from '../common/auth/principal';
import { AppError, ErrorCode } from '../common/errors/app-error';
import { EventBus } from '../common/events/event-bus';
import { AppConfig } from '../config/app-config';
import { isUniqueViolation } from '../database/db.service';
import { UserEntity } from '../database/entities/user.entity';
import { WorkflowEntity } from '../database/entities/workflow.entity';
import { UserRepository } from '../database/repositories/user.repository';
import { nameKey, WorkflowRepository } from '../database/repositories/workflow.repository';
import { Membership, WorkspaceRepository } from '../database/repositories/workspace.repository';
import { PlansService } from '../plans/plans.service';
import { REDACTOR } from '../secrets/redactor';
import { WorkflowAccess } from '../workflows/workflow-access';
import { toWorkflowResponse, WorkflowResponse } from '../workflows/workflows.dto';
import {
  CompleteOnboardingDto,
  OnboardingCompletedResponse,
  OnboardingContextResponse,
  PlanOptionResponse,
} from './onboarding.dto';
import { toMembershipResponse, toWorkspaceResponse } from './workspaces.dto';
import { WorkspacesService } from './workspaces.service';

const NO_SUBSCRIPTION = 'There is no subscription to resume: this server has no billing provider.';

/**
 * The onboarding page and the Plan tab: what the caller has (GET, which changes nothing) and the
 * plan they choose (POST). There is no payment provider, so choosing the workspace plan takes
 * effect at once, as `POST /api/workspaces/plan` does, and also shares the chosen workflows.
 */
@Injectable()
export class OnboardingService {
  constructor(
    private readonly users: UserRepository,
    private readonly workspaces: WorkspaceRepository,
    private readonly workflows: WorkflowRepository,
    private readonly access: WorkflowAccess,
    private readonly workspacePlans: WorkspacesService,
    private readonly plans: PlansService,
    private readonly events: EventBus,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  /** Read only: unlike the original, opening the Plan tab never downgrades anyone. */
  async context(caller: AuthPrincipal): Promise<OnboardingContextResponse> {
    const user = await this.requireUser(caller);
    const memberships = await this.workspaces.membershipsForUser(caller.userId);
    const workflows = await this.ownedWorkflows(caller.userId, memberships);
    return {
      success: true,
      user: toUserResponse(user, this.config.plans.limits),
      workflows: workflows.map(present),
      memberships: memberships.map((m) => toMembershipResponse(m, this.config.plans.limits)),
      plan_options: this.planOptions(),
      billing: {},
    };
  }

  /** Sets the plan, shares the chosen workflows (workspace plan) and marks the caller onboarded. */
  async complete(caller: AuthPrincipal, dto: CompleteOnboardingDto): Promise<OnboardingCompletedResponse> {
    await this.requireUser(caller);
    const sharedIds = [...new Set((dto.shared_workflow_ids ?? []).map((id) => id.toLowerCase()))];
    const name = dto.workspace_name?.trim() || undefined;

    if (dto.plan_tier === 'solo') {
      if (sharedIds.length) {
        throw new AppError(ErrorCode.InvalidRequest, 'Solo plans do not support sharing workflows with a workspace');
      }
      const ownedBefore = new Set((await this.workspaces.ownedBy(caller.userId)).map((w) => w.id));
      const changed = await this.workspacePlans.changePlan(caller, { plan_tier: 'solo', workspace_name: name });
      await this.users.markOnboarded(caller.userId, this.clock.now());
      return {
        success: true,
        plan: 'solo',
        workspace: ownedBefore.has(changed.workspace.id) ? null : changed.workspace,
        memberships: changed.memberships,
        shared_workflows: [],
      };
    }

    if (!name) throw new AppError(ErrorCode.InvalidRequest, 'Workspace name is required for this subscription tier');
    const owned = await this.workspaces.ownedBy(caller.userId);
    // A second submission (a retry, another tab) finishes in the workspace the first one made.
    const paid = owned.find((w) => this.plans.workspaceTier(w) === 'workspace');
    // Otherwise changePlan upgrades the oldest solo workspace the caller owns, or creates one.
    const target = paid ?? owned.find((w) => this.plans.workspaceTier(w) === 'solo') ?? null;
    const sharing = await this.sharingPlan(caller, sharedIds, target?.id ?? null);

    let workspaceId: string;
    if (paid) {
      if (paid.name !== name) await this.workspaces.update(paid.id, { name });
      await this.users.setPlan(caller.userId, 'workspace');
      workspaceId = paid.id;
    } else {
      const changed = await this.workspacePlans.changePlan(caller, { plan_tier: 'workspace', workspace_name: name });
      workspaceId = changed.workspace.id;
    }

    const now = this.clock.now();
    const moved = await this.move(caller, sharing.move, workspaceId, now);
    await this.users.markOnboarded(caller.userId, now);
    const memberships = await this.workspaces.membershipsForUser(caller.userId);
    const workspace = memberships.find((m) => m.workspace.id === workspaceId)!.workspace;
    return {
      success: true,
      plan: 'workspace',
      workspace: toWorkspaceResponse(workspace, this.config.plans.limits),
      memberships: memberships.map((m) => toMembershipResponse(m, this.config.plans.limits)),
      shared_workflows: [...sharing.kept, ...moved].map(present),
    };
  }

  /** Resuming is only meaningful with a payment provider's subscription; there is none here. */
  resumeSubscription(): Promise<never> {
    return Promise.reject(new AppError(ErrorCode.NotFound, NO_SUBSCRIPTION));
  }

  /**
   * Which of the chosen workflows move, checked before anything changes: each must be one the
   * caller can open (404 otherwise, as for one that does not exist). Personal workflows move;
   * those already in the target workspace stay; a workflow of another workspace belongs to that
   * workspace and stays there too.
   */
  private async sharingPlan(
    caller: AuthPrincipal,
    ids: string[],
    targetId: string | null,
  ): Promise<{ move: WorkflowEntity[]; kept: WorkflowEntity[] }> {
    const move: WorkflowEntity[] = [];
    const kept: WorkflowEntity[] = [];
    for (const id of ids) {
      const grant = await this.access.find(caller, id);
      if (!grant) throw new AppError(ErrorCode.NotFound, 'Workflow not found');
      if (grant.workflow.workspaceId === null) move.push(grant.workflow);
      else if (grant.workflow.workspaceId === targetId) kept.push(grant.workflow);
    }
    if (move.length && targetId) {
      const taken = new Set(
        (await this.workflows.listVisibleTo(caller.userId, [targetId]))
          .filter((w) => w.workspaceId === targetId)
          .map((w) => nameKey(w.name)),
      );
      const clash = move.find((w) => taken.has(nameKey(w.name)));
      if (clash) throw this.nameTaken(clash.name);
    }
    return { move, kept };
  }

  private async move(
    caller: AuthPrincipal,
    workflows: WorkflowEntity[],
    workspaceId: string,
    now: Date,
  ): Promise<WorkflowEntity[]> {
    let moved: WorkflowEntity[];
    try {
      moved = await this.workflows.moveToWorkspace(
        workflows.map((w) => w.id),
        workspaceId,
        now,
      );
    } catch (error) {
      // A workflow of the same name was created in the workspace meanwhile.
      if (isUniqueViolation(error)) throw this.nameTaken(null);
      throw error;
    }
    for (const workflow of moved) {
      this.events.emit('workflow.updated', {
        workflowId: workflow.id,
        workspaceId,
        actorId: caller.userId,
        updatedAt: toWorkflowResponse(workflow).updated_at,
      });
    }
    return moved;
  }

  /** Workflows the caller owns and can still open: a removed member's old workflows are not theirs to list. */
  private async ownedWorkflows(userId: string, memberships: Membership[]): Promise<WorkflowEntity[]> {
    const visible = await this.workflows.listVisibleTo(
      userId,
      memberships.map((m) => m.workspace.id),
    );
    return visible.filter((w) => w.userId === userId);
  }

  private planOptions(): PlanOptionResponse[] {
    return [
      {
        tier: 'solo',
        name: 'Solo',
        description: 'Build personal automations with a single user account.',
        price: 'Free',
      },
      {
        tier: 'workspace',
        name: 'Workspace',
        description: 'Collaborate with your team inside one shared workspace.',
        price: this.config.workspaces.planPrice,
      },
    ];
  }

  private async requireUser(caller: AuthPrincipal): Promise<UserEntity> {
    const user = await this.users.findById(caller.userId);
    // The session row cascades with the user, so this is a race with account deletion at most.
    if (!user) throw new AppError(ErrorCode.Unauthorized, 'Session expired');
    return user;
  }

  private nameTaken(name: string | null): AppError {
    return new AppError(
      ErrorCode.Conflict,
      name === null
        ? 'A workflow with this name already exists in the workspace. Rename it and try again.'
        : `A workflow named "${name}" already exists in the workspace. Rename one of them and try again.`,
    );
  }
}

/** Every workflow leaves through the redactor (credential fields masked). */
function present(workflow: WorkflowEntity): WorkflowResponse {
  return REDACTOR.redact(toWorkflowResponse(workflow));
}
