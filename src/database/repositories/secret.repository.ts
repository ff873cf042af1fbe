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

  find(key: SecretKey): Promise<SecretEntity | null> {
    return this.db.manager.getRepository(SecretEntity).findOneBy(key);
  }

  /** Inserts or replaces one secret; reports which happened. */
  upsert(key: SecretKey, ciphertext: string, now: Date): Promise<'created' | 'updated'> {
    return this.db.transaction(async (em) => {
      const repo = em.getRepository(SecretEntity);
      if (await repo.existsBy(key)) {
        await repo.update(key, { ciphertext, updatedAt: now });
        return 'updated';
      }
      await repo.insert({ ...key, ciphertext, createdAt: now, updatedAt: now });
      return 'created';
    });
  }

  async delete(key: SecretKey): Promise<boolean> {
    const result = await this.db.write((em) => em.getRepository(SecretEntity).delete(key));
    return (result.affected ?? 0) > 0;
  }
}
