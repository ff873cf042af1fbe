import { SetMetadata } from '@nestjs/common';
import { PlanTier } from './plan-tier';

export const REQUIRES_PLAN = 'runloom:requires-plan';

export interface PlanRequirement {
  tier: PlanTier;
  /** Route parameter holding the workspace id whose plan is checked. */
  workspaceParam: string;
  /** What the caller is told on 403; defaults to the generic workspace_plan_required message. */
  message?: string;
}

/** The route needs the workspace named by `workspaceParam` to be on `tier` (else 403 workspace_plan_required). */
export const RequiresPlan = (tier: PlanTier, options: { workspaceParam?: string; message?: string } = {}) =>
  SetMetadata<string, PlanRequirement>(REQUIRES_PLAN, {
    tier,
    workspaceParam: options.workspaceParam ?? 'id',
    message: options.message,
  });
