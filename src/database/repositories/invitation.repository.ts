import { Injectable } from '@nestjs/common';
import { EntityManager, MoreThan } from 'typeorm';
import { Db } from '../db.service';
import { UserEntity } from '../entities/user.entity';
import { InvitationStatus, WorkspaceInvitationEntity } from '../entities/workspace-invitation.entity';
import { WorkspaceMemberEntity } from '../entities/workspace-member.entity';
import { WorkspaceEntity } from '../entities/workspace.entity';

export type NewInvitation = Pick<
  WorkspaceInvitationEntity,
  'id' | 'workspaceId' | 'email' | 'role' | 'tokenHash' | 'createdBy' | 'createdAt' | 'expiresAt'
>;

export type CreateInvitationResult =
  | { kind: 'created'; invitation: WorkspaceInvitationEntity }
  | { kind: 'already_member' | 'already_invited' | 'limit_reached' };

export type AcceptInvitationResult =
  | { kind: 'accepted' | 'already_member' }
  | { kind: 'limit_reached' | 'gone' }
  | { kind: 'not_usable'; invitation: WorkspaceInvitationEntity };

/** An invitation with its workspace; `workspace` is null once the workspace was deleted. */
export interface InvitationWithWorkspace {
  invitation: WorkspaceInvitationEntity;
  workspace: WorkspaceEntity | null;
}

/**
 * Workspace invitations and the seats they hold. A workspace's seats are its members plus its
 * pending, unexpired invitations; every change of either happens with the workspace row locked on
 * PostgreSQL (SQLite writes are serialised by Db), so two requests never take the last seat twice.
 */
@Injectable()
export class WorkspaceInvitationRepository {
  constructor(private readonly db: Db) {}

  /** Inserts the invitation unless the e-mail is a member, already invited, or no seat is free. */
  create(values: NewInvitation, limit: number): Promise<CreateInvitationResult> {
    return this.db.transaction(async (em) => {
      await this.lockWorkspace(em, values.workspaceId);
      const isMember = await em
        .getRepository(WorkspaceMemberEntity)
        .createQueryBuilder('m')
        .innerJoin(UserEntity, 'u', 'u.id = m.user_id')
        .where('m.workspace_id = :workspaceId AND u.email = :email', values)
        .getExists();
      if (isMember) return { kind: 'already_member' };
      const invited = await em.getRepository(WorkspaceInvitationEntity).existsBy({
        workspaceId: values.workspaceId,
        email: values.email,
        status: 'pending',
        expiresAt: MoreThan(values.createdAt),
      });
      if (invited) return { kind: 'already_invited' };
      if ((await this.seatsIn(em, values.workspaceId, values.createdAt)) >= limit) return { kind: 'limit_reached' };
      const row = { ...values, status: 'pending' as const, acceptedAt: null, declinedAt: null, revokedAt: null };
      await em.getRepository(WorkspaceInvitationEntity).insert(row);
      return { kind: 'created', invitation: em.getRepository(WorkspaceInvitationEntity).create(row) };
    });
  }

  async findByTokenHash(tokenHash: string): Promise<InvitationWithWorkspace | null> {
    const invitation = await this.db.manager.getRepository(WorkspaceInvitationEntity).findOne({
      where: { tokenHash },
      relations: { workspace: true },
    });
    return invitation ? this.withWorkspace(invitation) : null;
  }

  findInWorkspace(workspaceId: string, id: string): Promise<WorkspaceInvitationEntity | null> {
    return this.db.manager.getRepository(WorkspaceInvitationEntity).findOneBy({ workspaceId, id });
  }

  /** Every invitation of the workspace, in all statuses, newest first. */
  listForWorkspace(workspaceId: string): Promise<WorkspaceInvitationEntity[]> {
    return this.db.manager
      .getRepository(WorkspaceInvitationEntity)
      .find({ where: { workspaceId }, order: { createdAt: 'DESC', id: 'ASC' } });
  }

  /** Pending, unexpired invitations sent to `email`, in workspaces that still exist, newest first. */
  async listPendingForEmail(email: string, now: Date): Promise<InvitationWithWorkspace[]> {
    const rows = await this.db.manager.getRepository(WorkspaceInvitationEntity).find({
      where: { email, status: 'pending', expiresAt: MoreThan(now) },
      relations: { workspace: true },
      order: { createdAt: 'DESC', id: 'ASC' },
    });
    return rows.map((row) => this.withWorkspace(row)).filter((row) => row.workspace !== null);
  }

  /** Invitations created since `since`, to one address or by one inviter (what limits invitation mail). */
  countCreatedSince(where: { email: string } | { createdBy: string }, since: Date): Promise<number> {
    return this.db.manager.getRepository(WorkspaceInvitationEntity).countBy({ ...where, createdAt: MoreThan(since) });
  }

  /** Members plus pending, unexpired invitations: what the member limit counts. */
  seatsUsed(workspaceId: string, now: Date): Promise<number> {
    return this.seatsIn(this.db.manager, workspaceId, now);
  }

  /**
   * Turns a usable invitation into a membership with the invited role. The invitation already
   * holds its seat, so this needs no free one, only that the workspace is not over its limit
   * (the limit may have been lowered since). Someone who is already a member keeps their role.
   */
  accept(invitationId: string, userId: string, limit: number, now: Date): Promise<AcceptInvitationResult> {
    return this.db.transaction((em) => this.acceptIn(em, invitationId, userId, limit, now));
  }

  /** `accept` inside the caller's transaction (signup creates the account in the same one). */
  async acceptIn(
    em: EntityManager,
    invitationId: string,
    userId: string,
    limit: number,
    now: Date,
  ): Promise<AcceptInvitationResult> {
    const invitations = em.getRepository(WorkspaceInvitationEntity);
    const current = await invitations.findOneBy({ id: invitationId });
    if (!current) return { kind: 'gone' };
    await this.lockWorkspace(em, current.workspaceId);
    // Read again under the lock: a concurrent accept, decline or revoke may have won.
    const invitation = await invitations.findOneBy({ id: invitationId });
    if (!invitation) return { kind: 'gone' };
    if (invitation.status !== 'pending' || invitation.expiresAt.getTime() <= now.getTime()) {
      return { kind: 'not_usable', invitation };
    }
    const members = em.getRepository(WorkspaceMemberEntity);
    const workspaceId = invitation.workspaceId;
    const isMember = await members.existsBy({ workspaceId, userId });
    if (!isMember) {
      if ((await this.seatsIn(em, workspaceId, now)) > limit) return { kind: 'limit_reached' };
      await members.insert({ workspaceId, userId, role: invitation.role, joinedAt: now });
    }
    await invitations.update({ id: invitationId, status: 'pending' }, { status: 'accepted', acceptedAt: now });
    return { kind: isMember ? 'already_member' : 'accepted' };
  }

  /** Declines or revokes a pending invitation; false when it was no longer pending. */
  async close(invitationId: string, status: Extract<InvitationStatus, 'declined' | 'revoked'>, now: Date) {
    const stamp = status === 'declined' ? { declinedAt: now } : { revokedAt: now };
    const result = await this.db.write((em) =>
      em.getRepository(WorkspaceInvitationEntity).update({ id: invitationId, status: 'pending' }, { status, ...stamp }),
    );
    return (result.affected ?? 0) > 0;
  }

  private async seatsIn(em: EntityManager, workspaceId: string, now: Date): Promise<number> {
    const members = await em.getRepository(WorkspaceMemberEntity).countBy({ workspaceId });
    const pending = await em
      .getRepository(WorkspaceInvitationEntity)
      .countBy({ workspaceId, status: 'pending', expiresAt: MoreThan(now) });
    return members + pending;
  }

  private async lockWorkspace(em: EntityManager, workspaceId: string): Promise<void> {
    if (this.db.dialect !== 'postgres') return;
    await em
      .getRepository(WorkspaceEntity)
      .findOne({ where: { id: workspaceId }, lock: { mode: 'pessimistic_write' } });
  }

  private withWorkspace(invitation: WorkspaceInvitationEntity): InvitationWithWorkspace {
    const workspace = invitation.workspace && !invitation.workspace.deletedAt ? invitation.workspace : null;
    delete invitation.workspace;
    return { invitation, workspace };
  }
}
