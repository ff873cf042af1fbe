import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { asRow, Db } from '../db.service';
import { UserEntity } from '../entities/user.entity';
import { WorkspaceRepository } from './workspace.repository';

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

  /**
   * Signup: the user and their solo workspace (owner membership) in one transaction, so an account
   * never exists without a workspace. A duplicate email surfaces as a unique violation.
   */
  createWithWorkspace(values: NewUser, workspaceName: string, workspaces: WorkspaceRepository): Promise<UserEntity> {
    return this.db.transaction(async (em) => {
      const user = em
        .getRepository(UserEntity)
        .create({ ...values, id: randomUUID(), email: values.email.toLowerCase(), role: 'user' });
      await em.getRepository(UserEntity).insert(asRow<UserEntity>(user));
      await workspaces.createWithOwner({ name: workspaceName, ownerId: user.id, plan: 'solo' }, em);
      return em.getRepository(UserEntity).findOneByOrFail({ id: user.id });
    });
  }
}
