import { Injectable } from '@nestjs/common';
import { EntityManager, IsNull, LessThanOrEqual, MoreThan } from 'typeorm';
import { asRow, Db } from '../db.service';
import { EmailTokenEntity, EmailTokenPurpose } from '../entities/email-token.entity';
import { UserEntity } from '../entities/user.entity';

export type NewEmailToken = Pick<EmailTokenEntity, 'tokenHash' | 'userId' | 'purpose' | 'expiresAt' | 'createdAt'>;

/** Tokens of e-mailed links, by the SHA-256 the caller computed. Using one is a single conditional update. */
@Injectable()
export class EmailTokenRepository {
  constructor(private readonly db: Db) {}

  /** When the user was last sent a token for `purpose`, or null. */
  async lastIssuedAt(userId: string, purpose: EmailTokenPurpose): Promise<Date | null> {
    const latest = await this.db.manager
      .getRepository(EmailTokenEntity)
      .findOne({ where: { userId, purpose }, order: { createdAt: 'DESC' } });
    return latest?.createdAt ?? null;
  }

  /** Stores a token; `replace` first drops the user's other tokens of that purpose (a new link voids the old ones). */
  async issue(values: NewEmailToken, replace: boolean): Promise<void> {
    await this.db.transaction(async (em) => {
      const tokens = em.getRepository(EmailTokenEntity);
      if (replace) await tokens.delete({ userId: values.userId, purpose: values.purpose });
      await tokens.insert({ ...values, usedAt: null });
    });
  }

  /** Drops the user's outstanding tokens of `purpose` (a changed password voids pending reset links). */
  async deleteForUser(userId: string, purpose: EmailTokenPurpose): Promise<void> {
    await this.db.write((em) => em.getRepository(EmailTokenEntity).delete({ userId, purpose }));
  }

  /** The token when it is unused and unexpired, else null. */
  findUsable(tokenHash: string, purpose: EmailTokenPurpose, now: Date): Promise<EmailTokenEntity | null> {
    return this.db.manager
      .getRepository(EmailTokenEntity)
      .findOneBy({ tokenHash, purpose, usedAt: IsNull(), expiresAt: MoreThan(now) });
  }

  /** Uses a verification token and marks its user verified; the user's id, or null when the token was not usable. */
  verifyEmail(tokenHash: string, now: Date): Promise<string | null> {
    return this.db.transaction(async (em) => {
      const userId = await this.use(em, tokenHash, 'verify_email', now);
      if (userId) await em.getRepository(UserEntity).update({ id: userId }, { isVerified: true });
      return userId;
    });
  }

  /**
   * Uses a reset token and sets the new password hash in one transaction; the user's other reset
   * links go with it. A link reached the address, so the address counts as verified too.
   */
  resetPassword(tokenHash: string, passwordHash: string, now: Date): Promise<string | null> {
    return this.db.transaction(async (em) => {
      const userId = await this.use(em, tokenHash, 'reset_password', now);
      if (!userId) return null;
      await em.getRepository(UserEntity).update({ id: userId }, asRow<UserEntity>({ passwordHash, isVerified: true }));
      await em.getRepository(EmailTokenEntity).delete({ userId, purpose: 'reset_password', usedAt: IsNull() });
      return userId;
    });
  }

  async deleteExpired(now: Date): Promise<number> {
    const result = await this.db.write((em) =>
      em.getRepository(EmailTokenEntity).delete({ expiresAt: LessThanOrEqual(now) }),
    );
    return result.affected ?? 0;
  }

  /** Marks the token used if it still is usable (one caller wins); its user's id, or null. */
  private async use(em: EntityManager, tokenHash: string, purpose: EmailTokenPurpose, now: Date) {
    const tokens = em.getRepository(EmailTokenEntity);
    const result = await tokens.update(
      { tokenHash, purpose, usedAt: IsNull(), expiresAt: MoreThan(now) },
      { usedAt: now },
    );
    if (!result.affected) return null;
    return (await tokens.findOneByOrFail({ tokenHash })).userId;
  }
}
