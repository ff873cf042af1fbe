import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { Clock } from '../common/clock';
import { AuthPrincipal } from '../common/auth/principal';
import { AppError, ErrorCode } from '../common/errors/app-error';
import { AppConfig } from '../config/app-config';
import { isUniqueViolation } from '../database/db.service';
import { UserEntity } from '../database/entities/user.entity';
import { NewUser, UserRepository } from '../database/repositories/user.repository';
import { WorkspaceRepository } from '../database/repositories/workspace.repository';
import { InvitationsService } from '../workspaces/invitations.service';
import { toMembershipResponse } from '../workspaces/workspaces.dto';
import { AccountEmailService } from './account-email.service';
import { MessageResponse } from '../common/http/dto';
import { LoginDto, LoginResponse, SessionResponse, SignupDto, toUserResponse } from './auth.dto';
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
    private readonly invitations: InvitationsService,
    private readonly accountEmail: AccountEmailService,
  ) {}

  /**
   * Creates the account and its solo workspace (docs/contract.md §1.1).
   * With `invite_token` (the signup page opened from an invitation e-mail) the invitation must name
   * this e-mail: `join` makes the account a member of the invited workspace instead of giving it a
   * workspace of its own, `decline` declines it. Holding the token is what entitles the signup to
   * answer it (the link went to that address), even when verification is off; it does not verify
   * the address, since the inviter saw the token too.
   */
  async signup(dto: SignupDto): Promise<MessageResponse> {
    const email = dto.email.trim().toLowerCase();
    if (await this.users.findByEmail(email)) throw this.emailTaken();
    const invitation = dto.invite_token?.trim() ? await this.invitations.forSignup(dto.invite_token, email) : null;
    const join = invitation !== null && dto.invite_decision !== 'decline';
    const settings = Object.fromEntries(
      Object.entries(dto.settings ?? {}).filter(([k]) => !SERVER_SETTINGS.includes(k)),
    );
    const billing = { country: dto.country?.trim() ?? '', tax_id: dto.tax_id?.trim() ?? '' };
    if (billing.country || billing.tax_id) settings.billing = billing;
    const verified = !this.config.auth.requireEmailVerification;
    const firstName = dto.first_name.trim();
    const values: NewUser = {
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
    };
    let user: UserEntity;
    try {
      user = join
        ? await this.invitations.joinAtSignup(invitation, values)
        : await this.users.createWithWorkspace(
            values,
            dto.company_name?.trim() || `${firstName}'s Workspace`,
            this.workspaces,
          );
    } catch (error) {
      // Two signups racing for one email: the unique index decides, the loser gets the same 409.
      if (isUniqueViolation(error)) throw this.emailTaken();
      throw error;
    }
    if (invitation && !join) await this.invitations.declineAtSignup(invitation.invitation);
    if (!verified) this.accountEmail.sendVerification(user);
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
    return { token, expiresAt, body: await this.sessionBody(user) };
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

  /** docs/contract.md §1.2: 32 random bytes, base64url without padding. */
  newCsrfToken(): string {
    return randomBytes(32).toString('base64url');
  }

  private async sessionBody(user: UserEntity): Promise<SessionResponse> {
    const memberships = await this.workspaces.membershipsForUser(user.id);
    return {
      success: true,
      user: toUserResponse(user, this.config.plans.limits),
      memberships: memberships.map((m) => toMembershipResponse(m, this.config.plans.limits)),
      requires_onboarding: !user.onboardedAt,
    };
  }

  private emailTaken(): AppError {
    return new AppError(ErrorCode.EmailTaken, 'An account with this email already exists');
  }
}
