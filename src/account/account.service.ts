import { Injectable } from '@nestjs/common';
import { ApiKeysService } from '../auth/api-keys.service';
import { PasswordHasher } from '../auth/password-hasher';
import { SessionsService } from '../auth/sessions.service';
import { MessageResponse } from '../common/http/dto';
import type { AuthPrincipal } from '../common/auth/principal';
import { AppError, ErrorCode } from '../common/errors/app-error';
import { EmailTokenRepository } from '../database/repositories/email-token.repository';
import { UserRepository } from '../database/repositories/user.repository';
import { ChangePasswordDto, PrivacyResponse } from './account.dto';

/** Where the privacy choice lives in `users.settings`; missing means yes (the client's default too). */
const PRIVACY = 'privacy';
const SHARE_WORKFLOWS = 'share_workflows_for_improvement';

/** The signed-in person's own account: password and privacy choice. */
@Injectable()
export class AccountService {
  constructor(
    private readonly users: UserRepository,
    private readonly hasher: PasswordHasher,
    private readonly sessions: SessionsService,
    private readonly apiKeys: ApiKeysService,
    private readonly tokens: EmailTokenRepository,
  ) {}

  /**
   * `POST /api/auth/change-password`: the current password first; then every other session of the
   * account ends (and its live streams), the one that asked stays signed in.
   */
  async changePassword(caller: AuthPrincipal, dto: ChangePasswordDto): Promise<MessageResponse> {
    // A key would let whoever holds it lock the owner out: only a signed-in person changes the password.
    if (caller.method === 'api_key')
      throw new AppError(ErrorCode.Forbidden, 'API keys cannot change the password; sign in to change it');
    const user = await this.users.findById(caller.userId);
    if (!user) throw new AppError(ErrorCode.Unauthorized, 'Session expired');
    if (!(await this.hasher.verify(dto.current_password, user.passwordHash))) {
      // 400, not 401: the client must not take it for an expired session.
      throw new AppError(ErrorCode.InvalidRequest, 'Current password is incorrect.');
    }
    await this.users.setPasswordHash(user.id, await this.hasher.hash(dto.new_password));
    // Whoever knew the old password may have made keys or asked for a reset link: all of it ends.
    await this.sessions.revokeAllForUser(user.id, caller.sessionTokenHash);
    await this.apiKeys.revokeAllForUser(user.id);
    await this.tokens.deleteForUser(user.id, 'reset_password');
    return { success: true, message: 'Password updated successfully.' };
  }

  async privacy(caller: AuthPrincipal): Promise<PrivacyResponse> {
    const user = await this.users.findById(caller.userId);
    return { success: true, allow: shareWorkflows(user?.settings) };
  }

  async setPrivacy(caller: AuthPrincipal, allow: boolean): Promise<PrivacyResponse> {
    await this.users.updateSettings(caller.userId, (settings) => {
      const current = settings[PRIVACY];
      const privacy = current && typeof current === 'object' && !Array.isArray(current) ? current : {};
      return { ...settings, [PRIVACY]: { ...privacy, [SHARE_WORKFLOWS]: allow } };
    });
    return { success: true, allow };
  }
}

/** Anything but an explicit `false` (a setting never written, or written by hand oddly) reads as yes. */
function shareWorkflows(settings: Record<string, unknown> | undefined): boolean {
  const privacy = settings?.[PRIVACY] as Record<string, unknown> | undefined;
  return privacy?.[SHARE_WORKFLOWS] !== false;
}
