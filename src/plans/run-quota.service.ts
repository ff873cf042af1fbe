import { Injectable } from '@nestjs/common';
import { AppError, ErrorCode, PlanViolationError, RunawayProtectionError } from '../common/errors/app-error';
import { KeyedLock } from '../common/keyed-lock';
import { AppConfig } from '../config/app-config';
import { RunRepository } from '../database/repositories/run.repository';
import type { TicketRequest } from '../database/repositories/run-usage.repository';
import { UserRepository } from '../database/repositories/user.repository';
import { WorkspaceRepository } from '../database/repositories/workspace.repository';
import { UserEntity } from '../database/entities/user.entity';
import { WorkspaceEntity } from '../database/entities/workspace.entity';
import { PlanTier } from './plan-tier';
import { PlansService } from './plans.service';
import { runawayProtectionEnabled } from './runaway-setting';

const FIVE_MINUTES_MS = 5 * 60_000;

/** First day of the UTC month: the quota period (no billing cycles without a payment provider). */
export function periodStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

/**
 * The gates a run passes before it is queued (docs/contract.md §8.5–8.7): runaway protection,
 * the workspace run quota (atomic tickets), the Solo monthly cap. Used by the runs API, webhooks,
 * the scheduler and the worker, so every path applies the same rules.
 */
@Injectable()
export class RunQuotaService {
  constructor(
    private readonly runs: RunRepository,
    private readonly users: UserRepository,
    private readonly workspaces: WorkspaceRepository,
    private readonly plans: PlansService,
    private readonly config: AppConfig,
  ) {}

  /** Solo-gated starts, one at a time per owner (see `withinSoloLimit`). */
  private readonly soloStarts = new KeyedLock();

  /**
   * True when the workspace started more runs than allowed in 5 minutes and its owner's toggle is
   * on. `loadedOwner`: the workflow's owner when the caller already read it.
   */
  async runawayBlocked(
    workflow: { workspaceId: string | null; userId: string },
    now: Date,
    loadedOwner?: UserEntity | null,
  ): Promise<boolean> {
    if (!workflow.workspaceId) return false;
    const owner = loadedOwner !== undefined ? loadedOwner : await this.users.findById(workflow.userId);
    if (!runawayProtectionEnabled(owner?.settings, workflow.workspaceId)) return false;
    const limit = this.config.runs.runawayLimit5Min;
    const recent = await this.runs.countCreatedSince(
      { workspaceId: workflow.workspaceId },
      new Date(now.getTime() - FIVE_MINUTES_MS),
      limit + 1,
    );
    return recent > limit;
  }

  async assertNotRunaway(
    workflow: { workspaceId: string | null; userId: string },
    now: Date,
    loadedOwner?: UserEntity | null,
  ): Promise<void> {
    if (await this.runawayBlocked(workflow, now, loadedOwner)) throw new RunawayProtectionError();
  }

  /**
   * The workspace-plan ticket a start must take (docs/contract.md §8.6), or the Solo tier that
   * gates the run instead. The ticket is taken by the run's insert (an `Admission`), so a start
   * refused on the way holds none. The quota belongs to the paying account, so extra workspaces
   * bring no fresh allowance:
   * - a workspace-plan workspace's runs take a ticket from its **owner's** allocation, shared by
   *   every workspace-plan workspace that user owns (429 `workspace_run_limit`, see `exhausted`,
   *   when the period is used up, unless overage is allowed);
   * - a solo-plan workspace takes no ticket and is gated as solo (the owner's Solo monthly cap);
   * - a personal workflow goes by its **owner's** tier: on the workspace plan it takes a ticket from
   *   the owner's same allocation; on Solo it is gated as solo.
   * `caller`'s login-time plan is the fallback when the owner's row is missing and the caller is
   * the owner.
   */
  async ticketFor(
    workflow: { workspaceId: string | null; userId: string },
    caller: { userId: string; claimsPlan: string | null } | null,
    now: Date,
    /** The workflow's workspace when the caller already loaded it (one lookup fewer per webhook). */
    loaded?: WorkspaceEntity,
  ): Promise<{ ticket: TicketRequest | null; tier: PlanTier }> {
    if (this.plans.limitsOff) return { ticket: null, tier: 'workspace' };
    let accountId: string;
    if (!workflow.workspaceId) {
      const claimsPlan = caller?.userId === workflow.userId ? caller.claimsPlan : null;
      if ((await this.plans.resolvePlanTier(workflow.userId, claimsPlan)) === 'solo')
        return { ticket: null, tier: 'solo' };
      accountId = workflow.userId;
    } else {
      const workspace =
        loaded?.id === workflow.workspaceId ? loaded : await this.workspaces.findActive(workflow.workspaceId);
      if (!workspace) throw new AppError(ErrorCode.NotFound, 'Workspace not found');
      if (this.plans.workspaceTier(workspace) === 'solo') return { ticket: null, tier: 'solo' };
      accountId = workspace.ownerId;
    }
    const limit = this.config.workspaces.monthlyRunLimit;
    const allowOverage = this.config.runs.overage === 'allow';
    return {
      ticket: { accountId, periodStart: periodStart(now).toISOString(), limit, allowOverage },
      tier: 'workspace',
    };
  }

  /** The refusal of a start whose ticket the period has no room for. */
  exhausted(): AppError {
    const limit = this.config.workspaces.monthlyRunLimit;
    return new AppError(
      ErrorCode.WorkspaceRunLimit,
      `This workspace plan has used its ${limit} runs for this billing period (one allowance per owner, shared by all of their workspaces). Upgrade or wait for the next period to run more workflows.`,
    );
  }

  /**
   * Enqueues a Solo-gated run under the owner's monthly cap (docs/contract.md §8): manual runs, reruns and
   * webhook triggers all count against it. The check and the insert happen one start at a time per
   * owner in this process, so a burst of concurrent starts cannot all pass the count before any of
   * them is written. (Across processes on PostgreSQL, the cap can be passed by at most one run per
   * other process at the moment it is reached.)
   */
  withinSoloLimit<T>(ownerId: string, now: Date, enqueue: () => Promise<T>): Promise<T> {
    return this.soloStarts.run(ownerId, async () => {
      await this.assertSoloMonthlyLimit(ownerId, now);
      return enqueue();
    });
  }

  /** docs/contract.md §8.5: the owner's runs since the start of the UTC month; at the cap → 403 `run-limit`. */
  async assertSoloMonthlyLimit(ownerId: string, now: Date): Promise<void> {
    const limit = this.config.runs.soloMonthlyLimit;
    const used = await this.runs.countCreatedSince({ userId: ownerId }, periodStart(now), limit);
    if (used >= limit) {
      throw new PlanViolationError([
        {
          code: 'run-limit',
          message: `Solo accounts can run workflows ${limit} times per month. You have reached this month's limit; upgrade in Settings → Plan to keep running workflows.`,
        },
      ]);
    }
  }
}
