import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { UserRepository } from '../database/repositories/user.repository';
import { WorkspaceEntity } from '../database/entities/workspace.entity';
import { normalizePlan, PlanLimits, PlanTier } from './plan-tier';

/**
 * Answers "is there an active paid subscription for this user?". DSentr asked Stripe; Runloom has
 * no payment provider yet, so the default trusts the stored plan. A billing integration replaces
 * this provider. It must not write: plan resolution has no side effects (deviation 23 in docs/deviations.md).
 */
export abstract class SubscriptionVerifier {
  abstract hasActiveSubscription(userId: string): Promise<boolean | null>;
}

export class StoredPlanVerifier extends SubscriptionVerifier {
  async hasActiveSubscription(): Promise<boolean | null> {
    return null; // unknown: the stored plan stands
  }
}

@Injectable()
export class PlansService {
  constructor(
    private readonly users: UserRepository,
    private readonly subscriptions: SubscriptionVerifier,
    private readonly config: AppConfig,
  ) {}

  /** PLAN_LIMITS=off: a private install where every account has the workspace plan. */
  get limitsOff(): boolean {
    return this.config.plans.limits === 'off';
  }

  get limits(): PlanLimits {
    return this.config.plans.limits;
  }

  /**
   * The login-time plan that decides which workflows a caller sees (the plan context): without
   * plan limits a stored `solo` counts as the workspace plan, as responses show it.
   */
  contextPlan(claimsPlan: string | null | undefined): string | null | undefined {
    return this.limitsOff && normalizePlan(claimsPlan) === 'solo' ? 'workspace' : claimsPlan;
  }

  /**
   * docs/contract.md §8.2 without the downgrade side effect: a missing user falls back to the login-time
   * claims; a solo plan is solo; a workspace plan stays workspace unless the verifier says the
   * subscription is definitely gone.
   */
  async resolvePlanTier(userId: string, claimsPlan: string | null | undefined): Promise<PlanTier> {
    if (this.limitsOff) return 'workspace';
    const user = await this.users.findById(userId);
    if (!user) return normalizePlan(claimsPlan);
    if (normalizePlan(user.plan) === 'solo') return 'solo';
    const active = await this.subscriptions.hasActiveSubscription(userId);
    return active === false ? 'solo' : 'workspace';
  }

  workspaceTier(workspace: Pick<WorkspaceEntity, 'plan'>): PlanTier {
    return this.limitsOff ? 'workspace' : normalizePlan(workspace.plan);
  }
}
