import { Injectable, Logger } from '@nestjs/common';
import { isEmail } from 'class-validator';
import { randomUUID } from 'node:crypto';
import { AuthPrincipal } from '../common/auth/principal';
import { Clock } from '../common/clock';
import { AppError, ErrorCode } from '../common/errors/app-error';
import { EventBus } from '../common/events/event-bus';
import { AppConfig } from '../config/app-config';
import { WorkspaceInvitationEntity } from '../database/entities/workspace-invitation.entity';
import { WorkspaceRole } from '../database/entities/workspace-member.entity';
import { UserEntity } from '../database/entities/user.entity';
import { WorkspaceEntity } from '../database/entities/workspace.entity';
import { InvitationWithWorkspace, WorkspaceInvitationRepository } from '../database/repositories/invitation.repository';
import { NewUser, UserRepository } from '../database/repositories/user.repository';
import { Membership, WorkspaceRepository } from '../database/repositories/workspace.repository';
import { MailMessage, Mailer } from '../mail/mailer';
import { oneLine } from '../mail/text';
import { PlansService } from '../plans/plans.service';
import { InvitationTokens } from './invitation-tokens';
import {
  CreateInvitationDto,
  InvitationAcceptedResponse,
  InvitationCreatedResponse,
  InvitationDeclinedResponse,
  InvitationPreviewResponse,
  InvitationResponse,
  InvitationRevokedResponse,
  InvitationsListResponse,
  InvitationWithWorkspaceResponse,
  MyInvitationsResponse,
  toInvitationResponse,
} from './invitations.dto';
import { AddMemberDto } from './workspaces.dto';

const MANAGERS: WorkspaceRole[] = ['owner', 'admin'];
const MAX_TTL_DAYS = 60;
const DAY_MS = 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;
const INVITE_MAILS_PER_DAY = 50;
const PLAN_REQUIRED = 'Upgrade to the Workspace plan to invite or manage members in this workspace';
const INVALID_INVITE_LINK = 'Invalid or expired invite link';

/**
 * Workspace invitations: nobody becomes a member without consent. Admins and the owner
 * invite an e-mail address; the account signed in with that address accepts or declines. The
 * answer to an invitation is the same whether the address has an account or not. A pending,
 * unexpired invitation holds a seat of WORKSPACE_MEMBER_LIMIT.
 */
@Injectable()
export class InvitationsService {
  private readonly logger = new Logger(InvitationsService.name);

  constructor(
    private readonly invitations: WorkspaceInvitationRepository,
    private readonly workspaces: WorkspaceRepository,
    private readonly users: UserRepository,
    private readonly plans: PlansService,
    private readonly tokens: InvitationTokens,
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly events: EventBus,
    private readonly mailer: Mailer,
  ) {}

  /** `POST /api/workspaces/:id/invites` (the web client's Members tab). */
  async create(
    caller: AuthPrincipal,
    workspaceId: string,
    dto: CreateInvitationDto,
  ): Promise<InvitationCreatedResponse> {
    const mine = await this.requireManager(caller, workspaceId);
    if (dto.role === 'owner') {
      if (mine.role !== 'owner') {
        throw new AppError(ErrorCode.Forbidden, 'Only the current owner can initiate ownership transfers');
      }
      throw new AppError(
        ErrorCode.InvalidRequest,
        'Invite members as admin, user, or viewer and transfer ownership after they join',
      );
    }
    const email = dto.email.trim().toLowerCase();
    if (!email) throw new AppError(ErrorCode.InvalidRequest, 'Email is required');
    if (!isEmail(email)) throw new AppError(ErrorCode.InvalidRequest, 'Invalid request: email must be an email');
    return this.invite(caller, mine.workspace, email, dto.role, dto.expires_in_days);
  }

  /**
   * `POST /api/workspaces/:id/members`: kept for API callers, it no longer adds anyone. It invites
   * the account named by `user_id` (its e-mail) or the e-mail given, exactly as `/invites` does.
   */
  async inviteMember(
    caller: AuthPrincipal,
    workspaceId: string,
    dto: AddMemberDto,
  ): Promise<InvitationCreatedResponse> {
    const mine = await this.requireManager(caller, workspaceId);
    let email = dto.email?.trim().toLowerCase();
    if (dto.user_id) {
      const user = await this.users.findById(dto.user_id);
      if (!user) throw new AppError(ErrorCode.NotFound, 'User not found');
      email = user.email;
    }
    return this.invite(caller, mine.workspace, email!, dto.role, undefined);
  }

  /** `GET /api/workspaces/:id/invites`: every invitation, newest first; links are not shown again. */
  async listForWorkspace(caller: AuthPrincipal, workspaceId: string): Promise<InvitationsListResponse> {
    await this.requireManager(caller, workspaceId);
    const rows = await this.invitations.listForWorkspace(workspaceId);
    return { success: true, invitations: rows.map((row) => toInvitationResponse(row)) };
  }

  /**
   * `GET /api/invites`: the caller's pending invitations, with the token the client answers them by
   * only when the account's e-mail is verified. Without verification anyone may sign up with the
   * invitee's address, so only whoever holds the link the inviter sent can answer.
   */
  async listMine(caller: AuthPrincipal): Promise<MyInvitationsResponse> {
    const rows = await this.invitations.listPendingForEmail(caller.email.toLowerCase(), this.clock.now());
    const usable = rows.filter((row) => this.tokens.matches(row.invitation.id, row.invitation.tokenHash));
    // Accounts count as verified when verification is off: only a required verification proves the address.
    const verified =
      this.config.auth.requireEmailVerification && (await this.users.findById(caller.userId))?.isVerified === true;
    return {
      success: true,
      invitations: usable.map((row) =>
        this.withWorkspace(row, verified ? this.tokens.tokenFor(row.invitation.id) : undefined),
      ),
    };
  }

  /**
   * `GET /api/invites/:token` (public): what the login and signup pages show. 200 with flags even
   * when the invitation can no longer be used; 404 for a token that names none.
   */
  async preview(rawToken: string): Promise<InvitationPreviewResponse> {
    const token = InvitationTokens.normalise(rawToken);
    const found = token ? await this.lookup(token) : null;
    if (!token || !found) throw new AppError(ErrorCode.NotFound, 'Invalid or expired token');
    const { invitation } = found;
    return {
      success: true,
      invitation: this.withWorkspace(found, token),
      expired: invitation.expiresAt.getTime() <= this.clock.now().getTime(),
      revoked: invitation.status === 'revoked',
      accepted: invitation.status === 'accepted',
      declined: invitation.status === 'declined',
    };
  }

  /** `POST /api/invites/accept`: the invited account joins with the invited role. */
  async accept(caller: AuthPrincipal, rawToken: string): Promise<InvitationAcceptedResponse> {
    const { invitation, workspace } = await this.answerable(caller, rawToken);
    if (this.plans.workspaceTier(workspace) !== 'workspace') {
      throw new AppError(ErrorCode.WorkspacePlanRequired, PLAN_REQUIRED);
    }
    const limit = this.config.workspaces.memberLimit;
    const result = await this.invitations.accept(invitation.id, caller.userId, limit, this.clock.now());
    if (result.kind === 'gone') throw new AppError(ErrorCode.NotFound, 'Invite not found');
    if (result.kind === 'not_usable') this.assertUsable(result.invitation);
    if (result.kind === 'limit_reached') throw this.limitReached(limit);
    if (result.kind === 'accepted') {
      this.events.emit('workspace.membership_changed', {
        workspaceId: workspace.id,
        userId: caller.userId,
        change: 'added',
        actorId: caller.userId,
      });
    }
    return { success: true, workspace_id: workspace.id };
  }

  /** `POST /api/invites/decline`: the seat is freed; the invitation cannot be used afterwards. */
  async decline(caller: AuthPrincipal, rawToken: string): Promise<InvitationDeclinedResponse> {
    const { invitation } = await this.answerable(caller, rawToken);
    if (!(await this.invitations.close(invitation.id, 'declined', this.clock.now()))) {
      // Answered or revoked meanwhile: say how.
      const now = await this.invitations.findInWorkspace(invitation.workspaceId, invitation.id);
      this.assertUsable(now ?? invitation);
    }
    return { success: true, message: 'Invite declined' };
  }

  /**
   * Signup with `invite_token`: the invitation must be usable and name the signup's e-mail, else
   * 400 `Invalid or expired invite link`. Checked before anything is written.
   */
  async forSignup(
    rawToken: string,
    email: string,
  ): Promise<{ invitation: WorkspaceInvitationEntity; workspace: WorkspaceEntity }> {
    const found = await this.lookup(rawToken);
    const invitation = found?.invitation;
    if (
      !found?.workspace ||
      !invitation ||
      invitation.status !== 'pending' ||
      invitation.expiresAt.getTime() <= this.clock.now().getTime() ||
      invitation.email !== email
    ) {
      throw new AppError(ErrorCode.InvitationUnusable, INVALID_INVITE_LINK);
    }
    return { invitation, workspace: found.workspace };
  }

  /**
   * Signup that joins the invited workspace (no personal one): the plan and seat checks of
   * accepting, then the account, its membership and the accepted invitation in one transaction.
   * A refusal leaves no account behind.
   */
  async joinAtSignup(
    found: { invitation: WorkspaceInvitationEntity; workspace: WorkspaceEntity },
    values: NewUser,
  ): Promise<UserEntity> {
    if (this.plans.workspaceTier(found.workspace) !== 'workspace') {
      throw new AppError(ErrorCode.WorkspacePlanRequired, PLAN_REQUIRED);
    }
    const limit = this.config.workspaces.memberLimit;
    const result = await this.users.createAndAcceptInvitation(
      values,
      found.invitation.id,
      limit,
      this.clock.now(),
      this.invitations,
    );
    if (result.kind === 'refused') {
      if (result.result.kind === 'limit_reached') throw this.limitReached(limit);
      throw new AppError(ErrorCode.InvitationUnusable, INVALID_INVITE_LINK);
    }
    this.events.emit('workspace.membership_changed', {
      workspaceId: found.workspace.id,
      userId: result.user.id,
      change: 'added',
      actorId: result.user.id,
    });
    return result.user;
  }

  /** Signup that declines: the seat is freed (a concurrent answer or revocation wins quietly). */
  async declineAtSignup(invitation: WorkspaceInvitationEntity): Promise<void> {
    await this.invitations.close(invitation.id, 'declined', this.clock.now());
  }

  /**
   * `POST /api/workspaces/:id/invites/:inviteId/revoke`: only this workspace's invitations (404
   * otherwise). Revoking twice is fine; an invitation already accepted or declined is a 409.
   */
  async revoke(caller: AuthPrincipal, workspaceId: string, invitationId: string): Promise<InvitationRevokedResponse> {
    await this.requireManager(caller, workspaceId);
    const invitation = await this.invitations.findInWorkspace(workspaceId, invitationId);
    if (!invitation) throw new AppError(ErrorCode.NotFound, 'Invitation not found');
    if (invitation.status === 'pending' && (await this.invitations.close(invitation.id, 'revoked', this.clock.now()))) {
      return { success: true };
    }
    const current = (await this.invitations.findInWorkspace(workspaceId, invitationId)) ?? invitation;
    if (current.status === 'accepted' || current.status === 'declined') {
      throw new AppError(ErrorCode.Conflict, `The invitation was already ${current.status}`);
    }
    return { success: true };
  }

  private async invite(
    caller: AuthPrincipal,
    workspace: WorkspaceEntity,
    email: string,
    role: Exclude<WorkspaceRole, 'owner'>,
    days: number | undefined,
  ): Promise<InvitationCreatedResponse> {
    if (this.plans.workspaceTier(workspace) !== 'workspace') {
      throw new AppError(ErrorCode.WorkspacePlanRequired, PLAN_REQUIRED);
    }
    const ttlDays = Math.min(MAX_TTL_DAYS, Math.max(1, Math.round(days ?? this.config.workspaces.invitationTtlDays)));
    const now = this.clock.now();
    const id = randomUUID();
    const token = this.tokens.tokenFor(id);
    const limit = this.config.workspaces.memberLimit;
    const result = await this.invitations.create(
      {
        id,
        workspaceId: workspace.id,
        email,
        role,
        tokenHash: InvitationTokens.hash(token),
        createdBy: caller.userId,
        createdAt: now,
        expiresAt: new Date(now.getTime() + ttlDays * DAY_MS),
      },
      limit,
    );
    switch (result.kind) {
      case 'created':
        this.mailer.sendLater('invitation', async () =>
          (await this.mayMail(caller, email, now))
            ? this.invitationMail(caller, workspace, email, role, token, ttlDays)
            : null,
        );
        return { success: true, invitation: toInvitationResponse(result.invitation, token) };
      case 'already_member':
        throw new AppError(ErrorCode.Conflict, 'This email belongs to a member of this workspace already');
      case 'already_invited':
        throw new AppError(ErrorCode.Conflict, 'An invitation to this email is already pending');
      case 'limit_reached':
        throw this.limitReached(limit);
    }
  }

  /**
   * Invitation mail comes from this server with words the inviter chose: one address gets at most
   * one an hour, and one inviter sends at most INVITE_MAILS_PER_DAY a day, so the plan (free to
   * pick) is no spam relay. The invitation itself is made either way; its link is in the answer.
   */
  private async mayMail(caller: AuthPrincipal, email: string, now: Date): Promise<boolean> {
    const toAddress = await this.invitations.countCreatedSince({ email }, new Date(now.getTime() - HOUR_MS));
    const byInviter = await this.invitations.countCreatedSince(
      { createdBy: caller.userId },
      new Date(now.getTime() - DAY_MS),
    );
    const ok = toAddress <= 1 && byInviter <= INVITE_MAILS_PER_DAY;
    if (!ok) this.logger.warn({ inviterId: caller.userId }, 'invitation mail withheld (rate of invitations)');
    return ok;
  }

  /**
   * The invitee's e-mail, composed off the request path so the answer is the same for addresses
   * with and without an account: the link opens the login page for an account, else signup.
   */
  private async invitationMail(
    caller: AuthPrincipal,
    workspace: WorkspaceEntity,
    email: string,
    role: WorkspaceRole,
    token: string,
    ttlDays: number,
  ): Promise<MailMessage> {
    const page = (await this.users.findByEmail(email)) ? 'login' : 'signup';
    const link = this.mailer.link(`/${page}?invite=${token}`);
    return {
      to: email,
      subject: 'You are invited to a Runloom workspace',
      text: [
        `${oneLine(caller.email)} invited you to join the workspace "${oneLine(workspace.name)}" as ${role}.`,
        '',
        `Open this link to accept or decline (valid for ${ttlDays} day${ttlDays === 1 ? '' : 's'}):`,
        link,
        '',
        'If you did not expect this invitation, you can ignore this message.',
      ].join('\n'),
    };
  }

  /** The checks accept and decline share: 404 unknown, 400 no longer usable, 403 someone else's. */
  private async answerable(
    caller: AuthPrincipal,
    rawToken: string,
  ): Promise<{ invitation: WorkspaceInvitationEntity; workspace: WorkspaceEntity }> {
    const found = await this.lookup(rawToken);
    if (!found || !found.workspace) throw new AppError(ErrorCode.NotFound, 'Invite not found');
    this.assertUsable(found.invitation);
    if (found.invitation.email !== caller.email.toLowerCase()) {
      throw new AppError(ErrorCode.Forbidden, 'Invitation email mismatch');
    }
    return { invitation: found.invitation, workspace: found.workspace };
  }

  /** An invitation to a deleted workspace is gone with it. */
  private async lookup(rawToken: string): Promise<InvitationWithWorkspace | null> {
    const token = InvitationTokens.normalise(rawToken);
    if (!token) return null;
    const found = await this.invitations.findByTokenHash(InvitationTokens.hash(token));
    return found?.workspace ? found : null;
  }

  private assertUsable(invitation: WorkspaceInvitationEntity): void {
    const messages: Record<string, string> = {
      accepted: 'This invitation was already accepted',
      declined: 'This invitation was declined',
      revoked: 'This invitation was revoked',
    };
    if (messages[invitation.status]) throw new AppError(ErrorCode.InvitationUnusable, messages[invitation.status]);
    if (invitation.expiresAt.getTime() <= this.clock.now().getTime()) {
      throw new AppError(ErrorCode.InvitationUnusable, 'This invitation has expired');
    }
  }

  private withWorkspace(row: InvitationWithWorkspace, token: string | undefined): InvitationWithWorkspaceResponse {
    const response: InvitationResponse = toInvitationResponse(row.invitation, token);
    return { ...response, workspace_name: row.workspace?.name ?? null };
  }

  private limitReached(limit: number): AppError {
    return new AppError(
      ErrorCode.WorkspaceMemberLimit,
      `Workspace plans support up to ${limit} combined members and pending invitations. Remove an existing member or revoke invites to free up seats.`,
    );
  }

  /** Non-members get the same 404 as for a workspace that does not exist. */
  private async requireManager(caller: AuthPrincipal, workspaceId: string): Promise<Membership> {
    const membership = await this.workspaces.findMembership(workspaceId, caller.userId);
    if (!membership) throw new AppError(ErrorCode.NotFound, 'Workspace not found');
    if (!MANAGERS.includes(membership.role)) throw new AppError(ErrorCode.Forbidden, 'Admin permissions required');
    return membership;
  }
}
