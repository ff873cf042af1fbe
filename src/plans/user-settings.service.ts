import { Injectable } from '@nestjs/common';
import type { AuthPrincipal } from '../common/auth/principal';
import { AppError, ErrorCode } from '../common/errors/app-error';
import { UserRepository } from '../database/repositories/user.repository';
import { WorkspaceRepository } from '../database/repositories/workspace.repository';
import { runawayProtectionEnabled, withRunawayProtection } from './runaway-setting';
import { PutUserSettingsDto, UserSettingsResponse } from './user-settings.dto';

/** docs/contract.md §2.16: the caller's runaway-protection toggle, per workspace. */
@Injectable()
export class UserSettingsService {
  constructor(
    private readonly users: UserRepository,
    private readonly workspaces: WorkspaceRepository,
  ) {}

  async get(caller: AuthPrincipal, workspaceId?: string): Promise<UserSettingsResponse> {
    const user = await this.users.findById(caller.userId);
    const enabled = workspaceId ? runawayProtectionEnabled(user?.settings, workspaceId) : true;
    return { success: true, settings: { workflows: { runaway_protection_enabled: enabled } } };
  }

  async put(caller: AuthPrincipal, dto: PutUserSettingsDto): Promise<UserSettingsResponse> {
    if (!(await this.workspaces.findMembership(dto.workspace_id, caller.userId))) {
      throw new AppError(ErrorCode.Forbidden, 'Workspace membership required');
    }
    await this.users.updateSettings(caller.userId, (settings) =>
      withRunawayProtection(settings, dto.workspace_id, dto.runaway_protection_enabled),
    );
    return { success: true, settings: { workflows: { runaway_protection_enabled: dto.runaway_protection_enabled } } };
  }
}
