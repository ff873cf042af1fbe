import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager, In, IsNull } from 'typeorm';
import { Db } from '../db.service';
import { sql, Sql } from '../sql';
import { UserEntity } from '../entities/user.entity';
import { WorkspaceMemberEntity, WorkspaceRole } from '../entities/workspace-member.entity';
import { WorkspaceEntity } from '../entities/workspace.entity';

export interface Membership {
  workspace: WorkspaceEntity;
  role: WorkspaceRole;
}

export interface MemberWithUser {
  member: WorkspaceMemberEntity;
  user: UserEntity;
}

@Injectable()
export class WorkspaceRepository {
  private membershipsSql?: Sql;
  private membershipSql?: Sql;

  constructor(private readonly db: Db) {}

  findById(id: string): Promise<WorkspaceEntity | null> {
    return this.db.manager.getRepository(WorkspaceEntity).findOneBy({ id });
  }

  /** Non-deleted workspaces the user belongs to, oldest membership first. */
  async membershipsForUser(userId: string): Promise<Membership[]> {
    this.membershipsSql ??= this.membershipQuery('m.user_id = ? ORDER BY m.joined_at');
    return this.memberships(this.membershipsSql, [userId]);
  }

  findActive(id: string): Promise<WorkspaceEntity | null> {
    return this.db.selectOne(WorkspaceEntity, 'id = ? AND deleted_at IS NULL', [id]);
  }

  /** The caller's membership in an active workspace, or null (not found and not a member look alike). */
  async findMembership(workspaceId: string, userId: string): Promise<Membership | null> {
    this.membershipSql ??= this.membershipQuery('m.workspace_id = ? AND m.user_id = ?');
    const [membership] = await this.memberships(this.membershipSql, [workspaceId, userId]);
    return membership ?? null;
  }

  /** Memberships in non-deleted workspaces: a prepared join, read on most authenticated requests. */
  private membershipQuery(where: string): Sql {
    const workspaces = this.db.codec(WorkspaceEntity);
    return sql(
      `SELECT m.role AS role, ${workspaces.selectAs('w', 'w')} FROM workspace_members m
       JOIN workspaces w ON w.id = m.workspace_id WHERE w.deleted_at IS NULL AND ${where}`,
    );
  }

  private async memberships(statement: Sql, params: unknown[]): Promise<Membership[]> {
    const workspaces = this.db.codec(WorkspaceEntity);
    const { rows } = await this.db.read<{ role: WorkspaceRole }>(statement, params);
    return rows.map((row) => ({ workspace: workspaces.fromRow(row, 'w'), role: row.role }));
  }

  async listMembers(workspaceId: string): Promise<MemberWithUser[]> {
    const rows = await this.db.manager.getRepository(WorkspaceMemberEntity).find({
      where: { workspaceId },
      relations: { user: true },
      order: { joinedAt: 'ASC' },
    });
    return rows.map((member) => ({ member, user: member.user! }));
  }

  ownedBy(userId: string): Promise<WorkspaceEntity[]> {
    return this.db.manager
      .getRepository(WorkspaceEntity)
      .find({ where: { ownerId: userId, deletedAt: IsNull() }, order: { createdAt: 'ASC' } });
  }

  /** Creates a workspace and its owner membership together (also used inside signup's transaction). */
  async createWithOwner(
    values: { name: string; ownerId: string; plan: string },
    em?: EntityManager,
  ): Promise<WorkspaceEntity> {
    const run = async (m: EntityManager) => {
      const workspace = m.getRepository(WorkspaceEntity).create({
        id: randomUUID(),
        name: values.name,
        createdBy: values.ownerId,
        ownerId: values.ownerId,
        plan: values.plan,
        deletedAt: null,
      });
      await m.getRepository(WorkspaceEntity).insert(workspace);
      await m.getRepository(WorkspaceMemberEntity).insert({
        workspaceId: workspace.id,
        userId: values.ownerId,
        role: 'owner',
        joinedAt: new Date(),
      });
      return m.getRepository(WorkspaceEntity).findOneByOrFail({ id: workspace.id });
    };
    return em ? run(em) : this.db.transaction(run);
  }

  async setRole(workspaceId: string, userId: string, role: Exclude<WorkspaceRole, 'owner'>): Promise<void> {
    await this.db.write((em) => em.getRepository(WorkspaceMemberEntity).update({ workspaceId, userId }, { role }));
  }

  /** The previous owner becomes an admin; demoted first so the one-owner index never sees two. */
  transferOwnership(workspaceId: string, fromUserId: string, toUserId: string): Promise<void> {
    return this.db.transaction(async (em) => {
      const members = em.getRepository(WorkspaceMemberEntity);
      await members.update({ workspaceId, userId: fromUserId }, { role: 'admin' });
      await members.update({ workspaceId, userId: toUserId }, { role: 'owner' });
      await em.getRepository(WorkspaceEntity).update({ id: workspaceId }, { ownerId: toUserId, updatedAt: new Date() });
    });
  }

  async removeMember(workspaceId: string, userId: string): Promise<boolean> {
    const result = await this.db.write((em) => em.getRepository(WorkspaceMemberEntity).delete({ workspaceId, userId }));
    return (result.affected ?? 0) > 0;
  }

  async update(id: string, values: { plan?: string; name?: string }): Promise<WorkspaceEntity> {
    return this.db.write(async (em) => {
      const repo = em.getRepository(WorkspaceEntity);
      await repo.update({ id }, { ...values, updatedAt: new Date() });
      return repo.findOneByOrFail({ id });
    });
  }

  async setPlanForAll(ids: string[], plan: string): Promise<void> {
    if (ids.length === 0) return;
    await this.db.write((em) =>
      em.getRepository(WorkspaceEntity).update({ id: In(ids) }, { plan, updatedAt: new Date() }),
    );
  }
}
