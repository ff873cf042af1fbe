import { Injectable } from '@nestjs/common';
import { AuthPrincipal } from '../common/auth/principal';
import { AppError, ErrorCode } from '../common/errors/app-error';
import { EventBus } from '../common/events/event-bus';
import { AppConfig } from '../config/app-config';
import { WorkspaceRole } from '../database/entities/workspace-member.entity';
import { UserRepository } from '../database/repositories/user.repository';
import { Membership, WorkspaceRepository } from '../database/repositories/workspace.repository';
import { PlansService } from '../plans/plans.service';
import {
  AddMemberDto,
  ChangePlanDto,
  CreateWorkspaceDto,
  LeaveResponse,
  MembersListResponse,
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
    private readonly config: AppConfig,
    private readonly events: EventBus,
  ) {}

  async list(caller: AuthPrincipal): Promise<WorkspacesListResponse> {
    const memberships = await this.workspaces.membershipsForUser(caller.userId);
    return { success: true, workspaces: memberships.map(toMembershipResponse) };
  }

  /** A new workspace takes the caller's plan tier: a solo user gets a solo workspace to upgrade later. */
  async create(caller: AuthPrincipal, dto: CreateWorkspaceDto): Promise<WorkspaceCreatedResponse> {
    const tier = await this.plans.resolvePlanTier(caller.userId, caller.claimsPlan);
    const workspace = await this.workspaces.createWithOwner({
      name: dto.name.trim(),
      ownerId: caller.userId,
      plan: tier,
    });
    return this.withMemberships(caller, workspace.id);
  }

  async members(caller: AuthPrincipal, workspaceId: string): Promise<MembersListResponse> {
    await this.membershipOf(caller, workspaceId);
    return this.memberList(workspaceId);
  }

  /** Plan gating (`workspace_plan_required`) happens first, in PlanGuard. */
  async addMember(caller: AuthPrincipal, workspaceId: string, dto: AddMemberDto): Promise<MembersListResponse> {
    await this.requireManager(caller, workspaceId);
    const user = dto.user_id ? await this.users.findById(dto.user_id) : await this.users.findByEmail(dto.email!);
    if (!user) throw new AppError(ErrorCode.NotFound, 'User not found');
    const limit = this.config.workspaces.memberLimit;
    const result = await this.workspaces.addMember(workspaceId, user.id, dto.role, limit);
    if (result === 'already_member')
      throw new AppError(ErrorCode.Conflict, 'User is already a member of this workspace');
    if (result === 'limit_reached') {
      throw new AppError(
        ErrorCode.WorkspaceMemberLimit,
        `Workspace plans support up to ${limit} combined members and pending invitations. Remove an existing member or revoke invites to free up seats.`,
      );
    }
    return this.memberList(workspaceId);
  }

  /**
   * Reference §1.4b: admins and the owner manage members; only the owner hands over ownership
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
      if (userId !== caller.userId) await this.workspaces.transferOwnership(workspaceId, caller.userId, userId);
      return this.memberList(workspaceId);
    }
    if (target.role === 'owner') {
      throw new AppError(
        ErrorCode.InvalidRequest,
        "Transfer ownership to another member before changing the owner's role",
      );
    }
    await this.workspaces.setRole(workspaceId, userId, dto.role);
    return this.memberList(workspaceId);
  }

  async removeMember(caller: AuthPrincipal, workspaceId: string, userId: string): Promise<MembersListResponse> {
    await this.requireManager(caller, workspaceId);
    const target = await this.workspaces.findMembership(workspaceId, userId);
    if (!target) throw new AppError(ErrorCode.NotFound, 'Member not found');
    if (target.role === 'owner') throw new AppError(ErrorCode.InvalidRequest, 'The workspace owner cannot be removed');
    await this.workspaces.removeMember(workspaceId, userId);
    await this.ensureSomeWorkspace(userId);
    return this.memberList(workspaceId);
  }

  /** Leaving the last workspace provisions a solo one, so nobody is left without a home. */
  async leave(caller: AuthPrincipal, workspaceId: string): Promise<LeaveResponse> {
    const mine = await this.membershipOf(caller, workspaceId);
    if (mine.role === 'owner') {
      throw new AppError(ErrorCode.InvalidRequest, 'Transfer ownership to another member before leaving the workspace');
    }
    await this.workspaces.removeMember(workspaceId, caller.userId);
    await this.ensureSomeWorkspace(caller.userId);
    const memberships = await this.workspaces.membershipsForUser(caller.userId);
    return { success: true, memberships: memberships.map(toMembershipResponse) };
  }

  /**
   * SPEC §3 (no payment provider): `workspace` upgrades the caller's solo workspace (or creates
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
            name: name ?? `${user.firstName}'s Workspace`,
            ownerId: caller.userId,
            plan: 'workspace',
          });
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
    const target = owned[0] ?? (await this.ensureSomeWorkspace(caller.userId));
    return this.withMemberships(caller, target!.id);
  }

  private async withMemberships(caller: AuthPrincipal, workspaceId: string): Promise<WorkspaceCreatedResponse> {
    const memberships = await this.workspaces.membershipsForUser(caller.userId);
    const current = memberships.find((m) => m.workspace.id === workspaceId)!;
    return {
      success: true,
      workspace: toWorkspaceResponse(current.workspace),
      memberships: memberships.map(toMembershipResponse),
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
