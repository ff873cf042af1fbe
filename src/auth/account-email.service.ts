import { Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { isUUID } from 'class-validator';
import { randomBytes, randomUUID } from 'node:crypto';
import { Clock } from '../common/clock';
import { KeyedLock } from '../common/keyed-lock';
import { AppError, ErrorCode } from '../common/errors/app-error';
import { UserEntity } from '../database/entities/user.entity';
import { EmailTokenRepository } from '../database/repositories/email-token.repository';
import { UserRepository } from '../database/repositories/user.repository';
import { MailMessage, Mailer } from '../mail/mailer';
import { AccountEmailDto, ResetPasswordDto, VerifyEmailDto } from './account-email.dto';
import { MessageResponse } from '../common/http/dto';
import { PasswordHasher } from './password-hasher';
import { ApiKeysService } from './api-keys.service';
import { sha256, SessionsService } from './sessions.service';

const VERIFY_TTL_MS = 24 * 60 * 60 * 1000;
const RESET_TTL_MS = 30 * 60 * 1000;
/** One mail of a kind per account per minute, however many IPs ask: nobody floods an inbox through us. */
const MAIL_COOLDOWN_MS = 60 * 1000;

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const VERIFY_TOKEN = /^[A-Za-z0-9]{32}$/;

export const RESEND_VERIFICATION_MESSAGE = 'If an account exists for that email, a verification link has been sent.';
export const FORGOT_PASSWORD_MESSAGE = 'If that email exists, a reset link has been sent.';
const INVALID_RESET_TOKEN = 'Invalid or expired token.';

/** 32 letters and digits, uniformly drawn (about 190 bits). */
export function verificationToken(): string {
  let token = '';
  while (token.length < 32) {
    for (const byte of randomBytes(48)) {
      // 248 = 4 × 62: larger bytes would favour the first letters.
      if (byte < 248 && token.length < 32) token += ALPHANUMERIC[byte % 62];
    }
  }
  return token;
}

/**
 * E-mailed account links: address verification (24 h) and password reset (30 min). Tokens are
 * random, single-use and stored as SHA-256 only. The routes that take an address answer the same
 * whether it has an account or not; the mail itself is composed and sent off the request path.
 */
@Injectable()
export class AccountEmailService {
  private readonly logger = new Logger(AccountEmailService.name);

  constructor(
    private readonly users: UserRepository,
    private readonly tokens: EmailTokenRepository,
    private readonly sessions: SessionsService,
    private readonly apiKeys: ApiKeysService,
    private readonly hasher: PasswordHasher,
    private readonly mailer: Mailer,
    private readonly clock: Clock,
  ) {}

  /** One link of a kind per account at a time in this process: concurrent requests cannot each pass the cooldown. */
  private readonly issuing = new KeyedLock();

  /** After signup of an account that must be verified. */
  sendVerification(user: UserEntity): void {
    this.mailer.sendLater('verification', () => this.verificationMail(user));
  }

  /** `POST /api/auth/resend-verification`: a new link replaces the old ones, for an unverified account only. */
  async resendVerification(dto: AccountEmailDto): Promise<MessageResponse> {
    const user = await this.users.findByEmail(dto.email.trim());
    if (user && !user.isVerified) this.sendVerification(user);
    return { success: true, message: RESEND_VERIFICATION_MESSAGE };
  }

  /** `POST /api/auth/verify`: uses the token and marks the account verified; it does not log in. */
  async verify(dto: VerifyEmailDto): Promise<MessageResponse> {
    const token = dto.token.trim();
    const userId = VERIFY_TOKEN.test(token) ? await this.tokens.verifyEmail(sha256(token), this.clock.now()) : null;
    if (!userId) throw new AppError(ErrorCode.InvalidToken, 'Invalid, expired, or already used token');
    return { success: true, message: 'Email verified successfully' };
  }

  /** `POST /api/auth/forgot-password`: earlier links stay valid until one of them is used. */
  async forgotPassword(dto: AccountEmailDto): Promise<MessageResponse> {
    const user = await this.users.findByEmail(dto.email.trim());
    if (user) this.mailer.sendLater('password reset', () => this.resetMail(user));
    return { success: true, message: FORGOT_PASSWORD_MESSAGE };
  }

  /**
   * `GET /api/auth/verify-reset-token/:token`: whether the reset page may show its form. A token
   * that names no usable link is a 404, like any other credential in a path.
   */
  async verifyResetToken(rawToken: string): Promise<MessageResponse> {
    const token = resetToken(rawToken);
    if (!token || !(await this.tokens.findUsable(sha256(token), 'reset_password', this.clock.now()))) {
      throw new AppError(ErrorCode.NotFound, INVALID_RESET_TOKEN);
    }
    return { success: true, message: 'Token is valid.' };
  }

  /**
   * `POST /api/auth/reset-password`: the new password (the signup policy, not trimmed), then every
   * session and API key of the account ends (whoever had the account may have made one), with the
   * live streams opened with them.
   */
  async resetPassword(dto: ResetPasswordDto): Promise<MessageResponse> {
    const token = resetToken(dto.token);
    const now = this.clock.now();
    // Checked before the costly hash; using the token below decides for concurrent requests.
    if (!token || !(await this.tokens.findUsable(sha256(token), 'reset_password', now))) {
      throw new AppError(ErrorCode.InvalidToken, INVALID_RESET_TOKEN);
    }
    const userId = await this.tokens.resetPassword(sha256(token), await this.hasher.hash(dto.password), now);
    if (!userId) throw new AppError(ErrorCode.InvalidToken, INVALID_RESET_TOKEN);
    const ended = await this.sessions.revokeAllForUser(userId);
    const keysRevoked = await this.apiKeys.revokeAllForUser(userId);
    this.logger.log({ userId, sessionsEnded: ended, keysRevoked }, 'password reset');
    return { success: true, message: 'Password has been reset.' };
  }

  @Interval('email-token-sweep', 3_600_000)
  async sweepExpired(): Promise<void> {
    const removed = await this.tokens.deleteExpired(this.clock.now());
    if (removed) this.logger.log({ removed }, 'expired e-mail link tokens removed');
  }

  private async verificationMail(user: UserEntity): Promise<MailMessage | null> {
    const token = verificationToken();
    if (!(await this.issue(user, 'verify_email', token, VERIFY_TTL_MS))) return null;
    const link = this.mailer.link(`/verify-email?token=${token}`);
    return {
      to: user.email,
      subject: 'Verify your email address',
      text: [
        // No name from the signup form: whoever signs up with someone else's address must not write to them.
        'Hello,',
        '',
        'Confirm that this is your email address by opening this link (valid for 24 hours):',
        link,
        '',
        'If you did not create an account, you can ignore this message.',
      ].join('\n'),
    };
  }

  private async resetMail(user: UserEntity): Promise<MailMessage | null> {
    const token = randomUUID();
    if (!(await this.issue(user, 'reset_password', token, RESET_TTL_MS))) return null;
    const link = this.mailer.link(`/reset-password/${token}`);
    return {
      to: user.email,
      subject: 'Reset your password',
      text: [
        // No name from the signup form: whoever signs up with someone else's address must not write to them.
        'Hello,',
        '',
        'Someone asked to reset the password of your account. Choose a new one here (valid for 30 minutes):',
        link,
        '',
        'Setting a new password signs you out everywhere. If you did not ask for this, ignore this message: your password stays as it is.',
      ].join('\n'),
    };
  }

  /** Stores the token unless the account got a link of this kind within the cooldown; false then. */
  private async issue(
    user: UserEntity,
    purpose: 'verify_email' | 'reset_password',
    token: string,
    ttlMs: number,
  ): Promise<boolean> {
    return this.issuing.run(`${user.id}\n${purpose}`, async () => {
      const now = this.clock.now();
      const last = await this.tokens.lastIssuedAt(user.id, purpose);
      if (last && now.getTime() - last.getTime() < MAIL_COOLDOWN_MS) return false;
      await this.tokens.issue(
        {
          tokenHash: sha256(token),
          userId: user.id,
          purpose,
          createdAt: now,
          expiresAt: new Date(now.getTime() + ttlMs),
        },
        purpose === 'verify_email',
      );
      return true;
    });
  }
}

/** A reset link's token: a UUID (any case), or null without a lookup. */
function resetToken(raw: string): string | null {
  const token = raw.trim();
  return isUUID(token) ? token.toLowerCase() : null;
}
