import { Injectable } from '@nestjs/common';
import { Db } from '../db.service';
import { SecretEntity } from '../entities/secret.entity';

export type SecretKey = Pick<SecretEntity, 'userId' | 'group' | 'service' | 'name'>;

@Injectable()
export class SecretRepository {
  constructor(private readonly db: Db) {}

  listForUsers(userIds: string[]): Promise<SecretEntity[]> {
    if (!userIds.length) return Promise.resolve([]);
    // Read by the worker for every run: a prepared statement.
    return this.db.select(
      SecretEntity,
      'user_id IN (SELECT value FROM json_each(?)) ORDER BY group_key, service_key, name',
      [this.db.list(userIds)],
      'user_id = ANY(?::uuid[]) ORDER BY group_key, service_key, name',
    );
  }

  /**
   * The secrets a workflow of `ownerId` may use, in precedence order: those shared with the
   * workflow's workspace by its current members, then the owner's own (a shared name shadows a
   * personal one, never the other way: a workspace workflow never picks up a personal secret that
   * happens to share a name with what it was saved to use). In a workspace, the owner's own count
   * only while the owner is a member. Read by the worker for every run: a prepared statement.
   */
  listUsable(ownerId: string, workspaceId: string | null): Promise<SecretEntity[]> {
    const member = (who: string) =>
      `EXISTS (SELECT 1 FROM workspace_members m WHERE m.workspace_id = ${this.db.dialect === 'postgres' ? '?::uuid' : '?'} AND m.user_id = ${who})`;
    const sqliteWhere = `(user_id = ? AND (? IS NULL OR ${member('user_secrets.user_id')}))
       OR (workspace_id = ? AND ${member('user_secrets.user_id')})
       ORDER BY CASE WHEN workspace_id = ? THEN 0 ELSE 1 END, created_at, group_key, service_key, name`;
    const pgWhere = `(user_id = ? AND (?::uuid IS NULL OR ${member('user_secrets.user_id')}))
       OR (workspace_id = ?::uuid AND ${member('user_secrets.user_id')})
       ORDER BY CASE WHEN workspace_id = ?::uuid THEN 0 ELSE 1 END, created_at, group_key, service_key, name`;
    return this.db.select(
      SecretEntity,
      sqliteWhere,
      [ownerId, workspaceId, workspaceId, workspaceId, workspaceId, workspaceId],
      pgWhere,
    );
  }

  /** What a workspace shares: secrets its current members shared with it. */
  listShared(workspaceId: string): Promise<SecretEntity[]> {
    return this.db.select(
      SecretEntity,
      `workspace_id = ? AND EXISTS (SELECT 1 FROM workspace_members m WHERE m.workspace_id = user_secrets.workspace_id AND m.user_id = user_secrets.user_id)
       ORDER BY created_at, group_key, service_key, name`,
      [workspaceId],
    );
  }

  /** Shares a secret with a workspace, or makes it personal again (null). */
  async share(key: SecretKey, workspaceId: string | null, now: Date): Promise<boolean> {
    const result = await this.db.write((em) =>
      em.getRepository(SecretEntity).update(key, { workspaceId, updatedAt: now }),
    );
    return (result.affected ?? 0) > 0;
  }

  find(key: SecretKey): Promise<SecretEntity | null> {
    return this.db.manager.getRepository(SecretEntity).findOneBy(key);
  }

  /** Inserts or replaces one secret (a new one personal, or shared with `workspaceId`); reports which happened. */
  upsert(
    key: SecretKey,
    ciphertext: string,
    now: Date,
    workspaceId: string | null = null,
  ): Promise<'created' | 'updated'> {
    return this.db.transaction(async (em) => {
      const repo = em.getRepository(SecretEntity);
      if (await repo.existsBy(key)) {
        await repo.update(key, { ciphertext, updatedAt: now });
        return 'updated';
      }
      await repo.insert({ ...key, ciphertext, workspaceId, createdAt: now, updatedAt: now });
      return 'created';
    });
  }

  async delete(key: SecretKey): Promise<boolean> {
    const result = await this.db.write((em) => em.getRepository(SecretEntity).delete(key));
    return (result.affected ?? 0) > 0;
  }
}
