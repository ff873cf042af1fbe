import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { Clock } from '../common/clock';
import { AuthPrincipal } from '../common/auth/principal';
import { AppError, ErrorCode } from '../common/errors/app-error';
import { AppConfig } from '../config/app-config';
import { isUniqueViolation } from '../database/db.service';
import { UserEntity } from '../database/entities/user.entity';
import { UserRepository } from '../database/repositories/user.repository';
import { WorkspaceRepository } from '../database/repositories/workspace.repository';
import { toMembershipResponse } from '../workspaces/workspaces.dto';
import { LoginDto, LoginResponse, MessageResponse, SessionResponse, SignupDto, toUserResponse } from './auth.dto';
import { PasswordHasher } from './password-hasher';
import { SessionsService } from './sessions.service';

/** Keys of `users.settings` the server owns; a signup body cannot plant them. */
const SERVER_SETTINGS = ['secrets', 'billing', 'workflows'];

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UserRepository,
    private readonly workspaces: WorkspaceRepository,
    private readonly sessions: SessionsService,
    private readonly hasher: PasswordHasher,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  /** Creates the account and its solo workspace (SPEC §2, issue: signup provisions a solo workspace). */
  async signup(dto: SignupDto): Promise<MessageResponse> {
    const email = dto.email.trim().toLowerCase();
    if (await this.users.findByEmail(email)) throw this.emailTaken();
    const settings = Object.fromEntries(
      Object.entries(dto.settings ?? {}).filter(([k]) => !SERVER_SETTINGS.includes(k)),
    );
    const verified = !this.config.auth.requireEmailVerification;
    const firstName = dto.first_name.trim();
    try {
      await this.users.createWithWorkspace(
        {
          email,
          passwordHash: await this.hasher.hash(dto.password),
          firstName,
          lastName: dto.last_name.trim(),
          companyName: dto.company_name?.trim() || null,
          plan: 'solo',
          settings,
          isVerified: verified,
          acceptedTermsVersion: dto.accepted_terms_version,
          onboardedAt: this.clock.now(),
        },
        dto.company_name?.trim() || `${firstName}'s Workspace`,
        this.workspaces,
      );
    } catch (error) {
      // Two signups racing for one email: the unique index decides, the loser gets the same 409.
      if (isUniqueViolation(error)) throw this.emailTaken();
      throw error;
    }
    return {
      success: true,
      message: verified
        ? 'Account created. You can now log in.'
        : 'Account created. Verify your email address before logging in.',
    };
  }

  async login(dto: LoginDto): Promise<{ token: string; expiresAt: Date; body: LoginResponse }> {
    const user = await this.users.findByEmail(dto.email.trim());
    const valid = user
      ? await this.hasher.verify(dto.password, user.passwordHash)
      : await this.hasher.verifyAgainstDummy(dto.password);
    if (!user || !valid) throw new AppError(ErrorCode.InvalidCredentials);
    if (this.config.auth.requireEmailVerification && !user.isVerified) throw new AppError(ErrorCode.UnverifiedEmail);
    const { token, expiresAt } = await this.sessions.create(user, dto.remember === true);
    return { token, expiresAt, body: { ...(await this.sessionBody(user)), requires_onboarding: !user.onboardedAt } };
  }

  async me(caller: AuthPrincipal): Promise<SessionResponse> {
    const user = await this.users.findById(caller.userId);
    // The session row cascades with the user, so this is a race with account deletion at most.
    if (!user) throw new AppError(ErrorCode.Unauthorized, 'Session expired');
    return this.sessionBody(user);
  }

  async logout(sessionToken: string | undefined): Promise<MessageResponse> {
    if (sessionToken) await this.sessions.revoke(sessionToken);
    return { success: true, message: 'Logged out' };
  }

  /** Reference §1.2: 32 random bytes, base64url without padding. */
  newCsrfToken(): string {
    return randomBytes(32).toString('base64url');
  }

  private async sessionBody(user: UserEntity): Promise<SessionResponse> {
    const memberships = await this.workspaces.membershipsForUser(user.id);
    return { success: true, user: toUserResponse(user), memberships: memberships.map(toMembershipResponse) };
  }

  private emailTaken(): AppError {
    return new AppError(ErrorCode.EmailTaken, 'An account with this email already exists');
  }
}
