import {
  computePlanContext,
  MembershipRef,
  workflowAccessible,
  workspaceAccessible,
  workspaceIdInPlan,
} from './plan-context';

const A = '6f1c1b9e-3f7a-4d33-9c55-1b0e2f0a9a10';
const B = '0b7d3c1e-8f2a-4b6c-9d0e-1f2a3b4c5d6e';
const C = '11111111-2222-4333-8444-555555555555';

describe('plan context (docs/contract.md §3)', () => {
  const memberships: MembershipRef[] = [
    { workspaceId: A, role: 'owner' },
    { workspaceId: B, role: 'user' },
  ];

  it('finds a workspace id embedded in the plan string', () => {
    expect(workspaceIdInPlan(`workspace:${A}`)).toBe(A);
    expect(workspaceIdInPlan(`team | "${B.toUpperCase()}"`)).toBe(B);
    expect(workspaceIdInPlan('workspace')).toBeNull();
  });

  it('context_identifies_workspace_owner / member (docs/contract.md §3)', () => {
    expect(computePlanContext(`workspace:${A}`, memberships)).toEqual({ kind: 'owned', workspaceId: A });
    expect(computePlanContext(`workspace:${B}`, memberships)).toEqual({ kind: 'member', workspaceId: B });
    expect(computePlanContext('solo', memberships, B)).toEqual({ kind: 'member', workspaceId: B });
    expect(computePlanContext('solo', memberships, C)).toEqual({ kind: 'unknown' });
    expect(computePlanContext('solo', memberships)).toEqual({ kind: 'solo' });
    expect(computePlanContext('workspace', memberships)).toEqual({ kind: 'unknown' });
  });

  it('non_owned_workflow_inaccessible_in_solo_context', () => {
    expect(workflowAccessible({ kind: 'solo' }, { workspaceId: B }, memberships)).toBe(false);
    expect(workflowAccessible({ kind: 'solo' }, { workspaceId: A }, memberships)).toBe(true);
    expect(workflowAccessible({ kind: 'solo' }, { workspaceId: null }, memberships)).toBe(true);
  });

  it('member_context_limited_to_active_workspace', () => {
    const ctx = { kind: 'member' as const, workspaceId: B };
    expect(workspaceAccessible(ctx, B, memberships)).toBe(true);
    expect(workspaceAccessible(ctx, A, memberships)).toBe(false);
    expect(workflowAccessible(ctx, { workspaceId: null }, memberships)).toBe(false);
  });

  it('owned context sees its workspace and every other owned one; unknown sees all memberships', () => {
    const owned = { kind: 'owned' as const, workspaceId: A };
    expect(workspaceAccessible(owned, A, memberships)).toBe(true);
    expect(workspaceAccessible(owned, B, memberships)).toBe(false);
    expect(workspaceAccessible({ kind: 'unknown' }, B, memberships)).toBe(true);
    expect(workspaceAccessible({ kind: 'unknown' }, C, memberships)).toBe(false);
  });
});
