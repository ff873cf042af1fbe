import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { randomUUID } from 'node:crypto';
import { IsNull } from 'typeorm';
import { asRow, Db } from '../db.service';
import { UserEntity } from '../entities/user.entity';
import { AcceptInvitationResult, WorkspaceInvitationRepository } from './invitation.repository';
import { WorkspaceRepository } from './workspace.repository';

/** Thrown inside a transaction to roll it back with an answer instead of an error. */
class Rollback {
  constructor(readonly result: AcceptInvitationResult) {}
}

export type NewUser = Pick<
  UserEntity,
  | 'email'
  | 'passwordHash'
  | 'firstName'
  | 'lastName'
  | 'companyName'
  | 'plan'
  | 'settings'
  | 'isVerified'
  | 'acceptedTermsVersion'
  | 'onboardedAt'
>;

@Injectable()
export class UserRepository {
  constructor(private readonly db: Db) {}

  private get repo() {
    return this.db.manager.getRepository(UserEntity);
  }

  findById(id: string): Promise<UserEntity | null> {
    return this.db.selectOne(UserEntity, 'id = ?', [id]);
  }

  findByEmail(email: string): Promise<UserEntity | null> {
    return this.repo.findOneBy({ email: email.toLowerCase() });
  }

  findByIds(ids: string[]): Promise<UserEntity[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.repo.createQueryBuilder('u').where('u.id IN (:...ids)', { ids }).getMany();
  }

  /** Read-modify-write of `users.settings` under the row lock (PostgreSQL) or the SQLite writer lock. */
  updateSettings(
    userId: string,
    change: (settings: Record<string, unknown>) => Record<string, unknown>,
  ): Promise<void> {
    return this.db.transaction(async (em) => {
      const repo = em.getRepository(UserEntity);
      const user = await repo.findOne({
        where: { id: userId },
        ...(this.db.dialect === 'postgres' ? { lock: { mode: 'pessimistic_write' as const } } : {}),
      });
      if (!user) return;
      await repo.update({ id: userId }, asRow<UserEntity>({ settings: change(user.settings ?? {}) }));
    });
  }

  async setPlan(userId: string, plan: string): Promise<void> {
    await this.db.write((em) => em.getRepository(UserEntity).update({ id: userId }, { plan }));
  }

  /** The application role (`admin` answers the support threads); false when no account has that e-mail. */
  async setRole(email: string, role: UserEntity['role']): Promise<boolean> {
    const result = await this.db.write((em) =>
      em.getRepository(UserEntity).update({ email: email.trim().toLowerCase() }, { role }),
    );
    return (result.affected ?? 0) > 0;
  }

  async setPasswordHash(userId: string, passwordHash: string): Promise<void> {
    await this.db.write((em) => em.getRepository(UserEntity).update({ id: userId }, { passwordHash }));
  }

  /** Stamps `onboarded_at` the first time the user completes onboarding; later completions keep it. */
  async markOnboarded(userId: string, now: Date): Promise<void> {
    await this.db.write((em) =>
      em.getRepository(UserEntity).update({ id: userId, onboardedAt: IsNull() }, { onboardedAt: now }),
    );
  }

  /**
   * Signup: the user and their solo workspace (owner membership) in one transaction, so an account
   * never exists without a workspace. A duplicate email surfaces as a unique violation.
   */
  createWithWorkspace(values: NewUser, workspaceName: string, workspaces: WorkspaceRepository): Promise<UserEntity> {
    return this.db.transaction(async (em) => {
      const user = await this.insertIn(em, values);
      await workspaces.createWithOwner({ name: workspaceName, ownerId: user.id, plan: 'solo' }, em);
      return em.getRepository(UserEntity).findOneByOrFail({ id: user.id });
    });
  }

  /**
   * Signup that joins a workspace by invitation: the account, its membership and the accepted
   * invitation in one transaction, or nothing (then the invitation's answer says why).
   */
  async createAndAcceptInvitation(
    values: NewUser,
    invitationId: string,
    limit: number,
    now: Date,
    invitations: WorkspaceInvitationRepository,
  ): Promise<{ kind: 'joined'; user: UserEntity } | { kind: 'refused'; result: AcceptInvitationResult }> {
    try {
      return await this.db.transaction(async (em) => {
        const user = await this.insertIn(em, values);
        const result = await invitations.acceptIn(em, invitationId, user.id, limit, now);
        if (result.kind !== 'accepted') throw new Rollback(result);
        return { kind: 'joined' as const, user: await em.getRepository(UserEntity).findOneByOrFail({ id: user.id }) };
      });
    } catch (error) {
      if (error instanceof Rollback) return { kind: 'refused', result: error.result };
      throw error;
    }
  }

  private async insertIn(em: EntityManager, values: NewUser): Promise<UserEntity> {
    const user = em
      .getRepository(UserEntity)
      .create({ ...values, id: randomUUID(), email: values.email.toLowerCase(), role: 'user' });
    await em.getRepository(UserEntity).insert(asRow<UserEntity>(user));
    return user;
  }
}
