import { isUUID } from 'class-validator';
import type { WorkspaceRole } from '../database/entities/workspace-member.entity';
import { normalizePlan } from './plan-tier';

/** Which workflows a caller "sees" (docs/contract.md §3). */
export type PlanContext =
  | { kind: 'solo' }
  | { kind: 'owned'; workspaceId: string }
  | { kind: 'member'; workspaceId: string }
  | { kind: 'unknown' };

export interface MembershipRef {
  workspaceId: string;
  role: WorkspaceRole;
}

/** The first valid UUID embedded in a plan string such as `workspace:<uuid>` (docs/contract.md §3). */
export function workspaceIdInPlan(plan: string | null | undefined): string | null {
  for (const raw of (plan ?? '').split(/[:/|,; \n\t]+/)) {
    const token = raw.replace(/^[[\](){}"'<>]+|[[\](){}"'<>]+$/g, '');
    if (token.length === 36 && isUUID(token)) return token.toLowerCase();
  }
  return null;
}

export function computePlanContext(
  claimsPlan: string | null | undefined,
  memberships: MembershipRef[],
  explicitWorkspaceId?: string | null,
): PlanContext {
  const workspaceId = explicitWorkspaceId ?? workspaceIdInPlan(claimsPlan);
  if (workspaceId) {
    const membership = memberships.find((m) => m.workspaceId === workspaceId);
    if (!membership) return { kind: 'unknown' };
    return membership.role === 'owner' ? { kind: 'owned', workspaceId } : { kind: 'member', workspaceId };
  }
  return normalizePlan(claimsPlan) === 'solo' ? { kind: 'solo' } : { kind: 'unknown' };
}

/** docs/contract.md §3: may a workspace's workflows be seen in this context? */
export function workspaceAccessible(context: PlanContext, workspaceId: string, memberships: MembershipRef[]): boolean {
  const role = memberships.find((m) => m.workspaceId === workspaceId)?.role;
  switch (context.kind) {
    case 'solo':
      return role === 'owner';
    case 'owned':
      return workspaceId === context.workspaceId || role === 'owner';
    case 'member':
      return workspaceId === context.workspaceId;
    case 'unknown':
      return role !== undefined;
  }
}

/** docs/contract.md §3: workspace workflows follow their workspace; personal ones hide in a member context. */
export function workflowAccessible(
  context: PlanContext,
  workflow: { workspaceId: string | null },
  memberships: MembershipRef[],
): boolean {
  if (workflow.workspaceId) return workspaceAccessible(context, workflow.workspaceId, memberships);
  return context.kind !== 'member';
}
