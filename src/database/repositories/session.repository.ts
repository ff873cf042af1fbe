import { Injectable } from '@nestjs/common';
import { In, LessThanOrEqual } from 'typeorm';
import { Db } from '../db.service';
import { SessionClaims, SessionEntity } from '../entities/session.entity';
import { UserEntity } from '../entities/user.entity';
import { sql, Sql } from '../sql';

@Injectable()
export class SessionRepository {
  private withUserSql?: Sql;

  constructor(private readonly db: Db) {}

  async create(tokenHash: string, userId: string, data: SessionClaims, expiresAt: Date): Promise<void> {
    await this.db.write((em) => em.getRepository(SessionEntity).insert({ tokenHash, userId, data, expiresAt }));
  }

  /** The session with its user, or null. Expiry is the caller's decision (it answers differently). */
  async findWithUser(tokenHash: string): Promise<{ session: SessionEntity; user: UserEntity } | null> {
    // Every authenticated request: one prepared join.
    const sessions = this.db.codec(SessionEntity);
    const users = this.db.codec(UserEntity);
    this.withUserSql ??= sql(
      `SELECT ${sessions.selectAs('s', 's')}, ${users.selectAs('u', 'u')}
       FROM user_sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?`,
    );
    const { rows } = await this.db.read(this.withUserSql, [tokenHash]);
    if (!rows.length) return null;
    const session = sessions.fromRow(rows[0], 's');
    session.user = users.fromRow(rows[0], 'u');
    return { session, user: session.user };
  }

  async delete(tokenHash: string): Promise<void> {
    await this.db.write((em) => em.getRepository(SessionEntity).delete({ tokenHash }));
  }

  /** Deletes every session of the user (those created meanwhile stay); the hashes of those deleted. */
  deleteForUser(userId: string, exceptTokenHash?: string): Promise<string[]> {
    return this.db.transaction(async (em) => {
      const repo = em.getRepository(SessionEntity);
      const hashes = (await repo.find({ select: { tokenHash: true }, where: { userId } }))
        .map((s) => s.tokenHash)
        .filter((h) => h !== exceptTokenHash);
      if (hashes.length) await repo.delete({ tokenHash: In(hashes) });
      return hashes;
    });
  }

  async deleteExpired(now: Date): Promise<number> {
    const result = await this.db.write((em) =>
      em.getRepository(SessionEntity).delete({ expiresAt: LessThanOrEqual(now) }),
    );
    return result.affected ?? 0;
  }
}
