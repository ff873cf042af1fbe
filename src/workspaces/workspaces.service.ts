import { Injectable } from '@nestjs/common';
import { AuthPrincipal } from '../common/auth/principal';
import { AppError, ErrorCode } from '../common/errors/app-error';
import type { AppEventMap } from '../common/events/app-events';
import { EventBus } from '../common/events/event-bus';
import { WorkspaceRole } from '../database/entities/workspace-member.entity';
import { UserRepository } from '../database/repositories/user.repository';
import { Membership, WorkspaceRepository } from '../database/repositories/workspace.repository';
import { PlansService } from '../plans/plans.service';
import {
  ChangePlanDto,
  CreateWorkspaceDto,
  LeaveResponse,
  MemberRevokedResponse,
  MembersListResponse,
  RevokeMemberDto,
  toMemberResponse,
  toMembershipResponse,
  toWorkspaceResponse,
  UpdateMemberDto,
  WorkspaceCreatedResponse,
  WorkspacesListResponse,
} from './workspaces.dto';

const MANAGERS: WorkspaceRole[] = ['owner', 'admin'];

@Injectable()
export class WorkspacesService {
  constructor(
    private readonly workspaces: WorkspaceRepository,
    private readonly users: UserRepository,
    private readonly plans: PlansService,
    private readonly events: EventBus,
  ) {}

  async list(caller: AuthPrincipal): Promise<WorkspacesListResponse> {
    const memberships = await this.workspaces.membershipsForUser(caller.userId);
    return { success: true, workspaces: memberships.map((m) => toMembershipResponse(m, this.plans.limits)) };
  }

  /** A new workspace takes the caller's plan tier: a solo user gets a solo workspace to upgrade later. */
  async create(caller: AuthPrincipal, dto: CreateWorkspaceDto): Promise<WorkspaceCreatedResponse> {
    const tier = await this.plans.resolvePlanTier(caller.userId, caller.claimsPlan);
    const workspace = await this.workspaces.createWithOwner({
      name: dto.name.trim(),
      ownerId: caller.userId,
      plan: tier,
    });
    this.membershipChanged(workspace.id, caller.userId, 'added', caller);
    return this.withMemberships(caller, workspace.id);
  }

  async members(caller: AuthPrincipal, workspaceId: string): Promise<MembersListResponse> {
    await this.membershipOf(caller, workspaceId);
    return this.memberList(workspaceId);
  }

  // Members join by accepting an invitation (InvitationsService); nobody is added without consent.

  /**
   * docs/contract.md §1.6: admins and the owner manage members; only the owner hands over ownership
   * (the old owner stays on as admin); the owner's own role changes only by that transfer.
   */
  async updateMember(
    caller: AuthPrincipal,
    workspaceId: string,
    userId: string,
    dto: UpdateMemberDto,
  ): Promise<MembersListResponse> {
    const mine = await this.requireManager(caller, workspaceId);
    const target = await this.workspaces.findMembership(workspaceId, userId);
    if (!target) throw new AppError(ErrorCode.NotFound, 'Member not found');
    if (dto.role === 'owner') {
      if (mine.role !== 'owner')
        throw new AppError(ErrorCode.Forbidden, 'Only the workspace owner can transfer ownership');
      if (userId !== caller.userId) {
        await this.workspaces.transferOwnership(workspaceId, caller.userId, userId);
        this.membershipChanged(workspaceId, userId, 'role_changed', caller);
        this.membershipChanged(workspaceId, caller.userId, 'role_changed', caller);
      }
      return this.memberList(workspaceId);
    }
    if (target.role === 'owner') {
      throw new AppError(
        ErrorCode.InvalidRequest,
        "Transfer ownership to another member before changing the owner's role",
      );
    }
    await this.workspaces.setRole(workspaceId, userId, dto.role);
    this.membershipChanged(workspaceId, userId, 'role_changed', caller);
    return this.memberList(workspaceId);
  }

  async removeMember(caller: AuthPrincipal, workspaceId: string, userId: string): Promise<MembersListResponse> {
    await this.requireManager(caller, workspaceId);
    const target = await this.workspaces.findMembership(workspaceId, userId);
    if (!target) throw new AppError(ErrorCode.NotFound, 'Member not found');
    if (target.role === 'owner') throw new AppError(ErrorCode.InvalidRequest, 'The workspace owner cannot be removed');
    await this.workspaces.removeMember(workspaceId, userId);
    await this.ensureSomeWorkspace(userId);
    this.membershipChanged(workspaceId, userId, 'removed', caller);
    return this.memberList(workspaceId);
  }

  /**
   * The original server's "revoke member" (its web client never calls it): removing a member by
   * another name, with the same rules and effects as DELETE members/:userId.
   */
  async revokeMember(caller: AuthPrincipal, workspaceId: string, dto: RevokeMemberDto): Promise<MemberRevokedResponse> {
    await this.removeMember(caller, workspaceId, dto.member_id.toLowerCase());
    return { success: true };
  }

  /** Leaving the last workspace provisions a solo one, so nobody is left without a home. */
  async leave(caller: AuthPrincipal, workspaceId: string): Promise<LeaveResponse> {
    const mine = await this.membershipOf(caller, workspaceId);
    if (mine.role === 'owner') {
      throw new AppError(ErrorCode.InvalidRequest, 'Transfer ownership to another member before leaving the workspace');
    }
    await this.workspaces.removeMember(workspaceId, caller.userId);
    await this.ensureSomeWorkspace(caller.userId);
    this.membershipChanged(workspaceId, caller.userId, 'removed', caller);
    const memberships = await this.workspaces.membershipsForUser(caller.userId);
    return { success: true, memberships: memberships.map((m) => toMembershipResponse(m, this.plans.limits)) };
  }

  /**
   * docs/contract.md §1.6 (no payment provider): `workspace` upgrades the caller's solo workspace (or creates
   * one); `solo` moves every workspace the caller owns back to solo. Both change the user's plan.
   */
  async changePlan(caller: AuthPrincipal, dto: ChangePlanDto): Promise<WorkspaceCreatedResponse> {
    const owned = await this.workspaces.ownedBy(caller.userId);
    const user = await this.users.findById(caller.userId);
    if (!user) throw new AppError(ErrorCode.Unauthorized, 'Session expired');
    if (dto.plan_tier === 'workspace') {
      const solo = owned.find((w) => this.plans.workspaceTier(w) === 'solo');
      const name = dto.workspace_name?.trim();
      const workspace = solo
        ? await this.workspaces.update(solo.id, { plan: 'workspace', ...(name ? { name } : {}) })
        : await this.workspaces.createWithOwner({
            name: name || `${user.firstName}'s Workspace`,
            ownerId: caller.userId,
            plan: 'workspace',
          });
      if (!solo) this.membershipChanged(workspace.id, caller.userId, 'added', caller);
      await this.users.setPlan(caller.userId, 'workspace');
      this.events.emit('workspace.plan_changed', {
        workspaceId: workspace.id,
        plan: 'workspace',
        actorId: caller.userId,
      });
      return this.withMemberships(caller, workspace.id);
    }
    const paidOwned = owned.filter((w) => this.plans.workspaceTier(w) !== 'solo');
    await this.workspaces.setPlanForAll(
      paidOwned.map((w) => w.id),
      'solo',
    );
    await this.users.setPlan(caller.userId, 'solo');
    for (const w of paidOwned) {
      this.events.emit('workspace.plan_changed', { workspaceId: w.id, plan: 'solo', actorId: caller.userId });
    }
    const target =
      owned[0] ??
      (await this.createSoloWorkspace(caller, dto.workspace_name?.trim() || `${user.firstName}'s Workspace`));
    return this.withMemberships(caller, target.id);
  }

  /** Solo works in a workspace of one's own: someone who only belongs to others' workspaces gets one. */
  private async createSoloWorkspace(caller: AuthPrincipal, name: string) {
    const workspace = await this.workspaces.createWithOwner({
      name: name.trim(),
      ownerId: caller.userId,
      plan: 'solo',
    });
    this.membershipChanged(workspace.id, caller.userId, 'added', caller);
    return workspace;
  }

  /**
   * After the change is committed: live streams of `userId` re-check what they may see and end
   * (or drop the workspace) when read access is gone (SECURITY.md: live streams follow access).
   */
  private membershipChanged(
    workspaceId: string,
    userId: string,
    change: AppEventMap['workspace.membership_changed']['change'],
    actor: AuthPrincipal,
  ): void {
    this.events.emit('workspace.membership_changed', { workspaceId, userId, change, actorId: actor.userId });
  }

  private async withMemberships(caller: AuthPrincipal, workspaceId: string): Promise<WorkspaceCreatedResponse> {
    const memberships = await this.workspaces.membershipsForUser(caller.userId);
    const current = memberships.find((m) => m.workspace.id === workspaceId)!;
    return {
      success: true,
      workspace: toWorkspaceResponse(current.workspace, this.plans.limits),
      memberships: memberships.map((m) => toMembershipResponse(m, this.plans.limits)),
    };
  }

  /** Non-members get the same 404 as for a workspace that does not exist. */
  private async membershipOf(caller: AuthPrincipal, workspaceId: string): Promise<Membership> {
    const membership = await this.workspaces.findMembership(workspaceId, caller.userId);
    if (!membership) throw new AppError(ErrorCode.NotFound, 'Workspace not found');
    return membership;
  }

  private async requireManager(caller: AuthPrincipal, workspaceId: string): Promise<Membership> {
    const membership = await this.membershipOf(caller, workspaceId);
    if (!MANAGERS.includes(membership.role)) throw new AppError(ErrorCode.Forbidden, 'Admin permissions required');
    return membership;
  }

  private async memberList(workspaceId: string): Promise<MembersListResponse> {
    const rows = await this.workspaces.listMembers(workspaceId);
    return { success: true, members: rows.map((r) => toMemberResponse(r.member, r.user)) };
  }

  private async ensureSomeWorkspace(userId: string) {
    if ((await this.workspaces.membershipsForUser(userId)).length > 0) return null;
    const user = await this.users.findById(userId);
    return this.workspaces.createWithOwner({
      name: `${user?.firstName ?? 'My'}'s Workspace`,
      ownerId: userId,
      plan: 'solo',
    });
  }
}
