import { Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { createHash, randomUUID } from 'node:crypto';
import { Clock } from '../common/clock';
import { AppError, ErrorCode } from '../common/errors/app-error';
import { EventBus } from '../common/events/event-bus';
import { AppConfig } from '../config/app-config';
import { UserEntity } from '../database/entities/user.entity';
import { SessionRepository } from '../database/repositories/session.repository';

export const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

const DAY_MS = 86_400_000;

/** Server-side sessions: the client holds a random UUID, the database only its hash. */
@Injectable()
export class SessionsService {
  private readonly logger = new Logger(SessionsService.name);

  constructor(
    private readonly sessions: SessionRepository,
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly events: EventBus,
  ) {}

  ttlMs(remember: boolean): number {
    return (remember ? this.config.auth.rememberTtlDays : this.config.auth.sessionTtlDays) * DAY_MS;
  }

  async create(user: UserEntity, remember: boolean): Promise<{ token: string; expiresAt: Date }> {
    const token = randomUUID();
    const expiresAt = new Date(this.clock.now().getTime() + this.ttlMs(remember));
    await this.sessions.create(sha256(token), user.id, { plan: user.plan }, expiresAt);
    return { token, expiresAt };
  }

  /**
   * docs/contract.md §1.1: unknown or expired → 401 `Session expired`; an expired row is deleted (and
   * `auth.credential_revoked` emitted, though streams opened with it end by their own timer).
   */
  async validate(token: string): Promise<{ user: UserEntity; tokenHash: string; claimsPlan: string; expiresAt: Date }> {
    const tokenHash = sha256(token);
    const found = await this.sessions.findWithUser(tokenHash);
    if (!found) throw new AppError(ErrorCode.Unauthorized, 'Session expired');
    const { expiresAt } = found.session;
    if (expiresAt.getTime() <= this.clock.now().getTime()) {
      await this.sessions.delete(tokenHash);
      this.events.emit('auth.credential_revoked', {
        userId: found.user.id,
        sessionTokenHash: tokenHash,
        reason: 'expired',
      });
      throw new AppError(ErrorCode.Unauthorized, 'Session expired');
    }
    return { user: found.user, tokenHash, claimsPlan: found.session.data?.plan ?? found.user.plan, expiresAt };
  }

  /** Logout: the session row goes, and every live stream opened with it ends (`auth.credential_revoked`). */
  async revoke(token: string): Promise<void> {
    const tokenHash = sha256(token);
    const found = await this.sessions.findWithUser(tokenHash);
    if (!found) return;
    await this.sessions.delete(tokenHash);
    this.events.emit('auth.credential_revoked', {
      userId: found.user.id,
      sessionTokenHash: tokenHash,
      reason: 'logout',
    });
  }

  /**
   * Ends every session of the user (a password reset), or every one but the caller's, and every
   * live stream opened with them (`auth.credential_revoked`, once per session).
   */
  async revokeAllForUser(userId: string, exceptTokenHash?: string): Promise<number> {
    const hashes = await this.sessions.deleteForUser(userId, exceptTokenHash);
    for (const sessionTokenHash of hashes) {
      this.events.emit('auth.credential_revoked', { userId, sessionTokenHash, reason: 'revoked' });
    }
    return hashes.length;
  }

  @Interval('session-sweep', 3_600_000)
  async sweepExpired(): Promise<void> {
    const removed = await this.sessions.deleteExpired(this.clock.now());
    if (removed) this.logger.log({ removed }, 'expired sessions removed');
  }
}
