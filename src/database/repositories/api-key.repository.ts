import { Injectable } from '@nestjs/common';
import { IsNull } from 'typeorm';
import { Db } from '../db.service';
import { ApiKeyEntity } from '../entities/api-key.entity';
import { UserEntity } from '../entities/user.entity';

@Injectable()
export class ApiKeyRepository {
  constructor(private readonly db: Db) {}

  async create(key: Omit<ApiKeyEntity, 'createdAt' | 'lastUsedAt' | 'revokedAt' | 'user'>): Promise<ApiKeyEntity> {
    return this.db.write(async (em) => {
      const repo = em.getRepository(ApiKeyEntity);
      await repo.insert({ ...key, lastUsedAt: null, revokedAt: null });
      return repo.findOneByOrFail({ id: key.id });
    });
  }

  listActiveForUser(userId: string): Promise<ApiKeyEntity[]> {
    return this.db.manager.getRepository(ApiKeyEntity).find({
      where: { userId, revokedAt: IsNull() },
      order: { createdAt: 'DESC' },
    });
  }

  /** The unrevoked key with this hash, with its user; expiry is checked by the caller. */
  async findActiveByHash(keyHash: string): Promise<{ key: ApiKeyEntity; user: UserEntity } | null> {
    // find, not findOne: with a relation findOne adds a DISTINCT query for its LIMIT; the hash is unique.
    const [key] = await this.db.manager
      .getRepository(ApiKeyEntity)
      .find({ where: { keyHash, revokedAt: IsNull() }, relations: { user: true } });
    return key?.user ? { key, user: key.user } : null;
  }

  /** Revokes one of the user's own keys; false when there is no such active key. */
  async revoke(userId: string, id: string, now: Date): Promise<boolean> {
    const result = await this.db.write((em) =>
      em.getRepository(ApiKeyEntity).update({ id, userId, revokedAt: IsNull() }, { revokedAt: now }),
    );
    return (result.affected ?? 0) > 0;
  }

  async touch(id: string, now: Date): Promise<void> {
    await this.db.write((em) => em.getRepository(ApiKeyEntity).update({ id }, { lastUsedAt: now }));
  }
}
