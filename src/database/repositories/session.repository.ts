import { Injectable } from '@nestjs/common';
import { LessThanOrEqual } from 'typeorm';
import { Db } from '../db.service';
import { SessionClaims, SessionEntity } from '../entities/session.entity';
import { UserEntity } from '../entities/user.entity';

@Injectable()
export class SessionRepository {
  constructor(private readonly db: Db) {}

  async create(tokenHash: string, userId: string, data: SessionClaims, expiresAt: Date): Promise<void> {
    await this.db.write((em) => em.getRepository(SessionEntity).insert({ tokenHash, userId, data, expiresAt }));
  }

  /** The session with its user, or null. Expiry is the caller's decision (it answers differently). */
  async findWithUser(tokenHash: string): Promise<{ session: SessionEntity; user: UserEntity } | null> {
    // find, not findOne: with a relation findOne adds a DISTINCT query for its LIMIT; the key is unique.
    const [session] = await this.db.manager
      .getRepository(SessionEntity)
      .find({ where: { tokenHash }, relations: { user: true } });
    if (!session?.user) return null;
    return { session, user: session.user };
  }

  async delete(tokenHash: string): Promise<void> {
    await this.db.write((em) => em.getRepository(SessionEntity).delete({ tokenHash }));
  }

  async deleteExpired(now: Date): Promise<number> {
    const result = await this.db.write((em) =>
      em.getRepository(SessionEntity).delete({ expiresAt: LessThanOrEqual(now) }),
    );
    return result.affected ?? 0;
  }
}
