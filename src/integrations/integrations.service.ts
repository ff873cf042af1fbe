import { Injectable } from '@nestjs/common';
import { isUUID } from 'class-validator';
import type { AuthPrincipal } from '../common/auth/principal';
import { AppError, ErrorCode } from '../common/errors/app-error';
import { AppConfig } from '../config/app-config';
import { Membership, WorkspaceRepository } from '../database/repositories/workspace.repository';
import { PlansService } from '../plans/plans.service';
import { ConnectionsResponse, noConnections, PromoteConnectionDto } from './integrations.dto';
import { notConfiguredMessage, OAuthProvider } from './oauth-providers';

const NO_ACCESS = 'You do not have access to this workspace.';
const VIEWERS_CANNOT_CONNECT = 'Workspace viewers cannot connect OAuth accounts for this workspace.';
const WORKSPACE_PLAN_NEEDED =
  'OAuth integrations are available on workspace plans and above. Upgrade to connect accounts.';

/**
 * OAuth connections as the web client sees them, on a server with no OAuth provider configured:
 * nobody can connect, so lists are empty, a Connect navigation comes back to the dashboard with
 * the reason, and every call that names a connection is refused with a message the client shows.
 */
@Injectable()
export class IntegrationsService {
  constructor(
    private readonly workspaces: WorkspaceRepository,
    private readonly plans: PlansService,
    private readonly config: AppConfig,
  ) {}

  /**
   * Members of any role and plan get the empty lists: node panels of a Solo workspace then show
   * "not connected" rather than a load error (the Connect button is where the plan is explained).
   */
  async connections(caller: AuthPrincipal, workspaceId: string): Promise<ConnectionsResponse> {
    if (!(await this.workspaces.findMembership(workspaceId, caller.userId))) {
      throw new AppError(ErrorCode.Forbidden, 'Workspace membership required');
    }
    return {
      success: true,
      personal: noConnections(),
      workspace: noConnections(),
      slack: { has_personal_auth: false, personal_auth_connected_at: null },
    };
  }

  /**
   * Where the Connect button's navigation goes: the dashboard, with `connected=false` and the
   * reason in `error` (the workspace checks first, with the original's messages).
   */
  async connectRedirect(caller: AuthPrincipal, provider: OAuthProvider, workspace: unknown): Promise<string> {
    const refusal = (message: string, workspaceId?: string) => {
      // encodeURIComponent, not URLSearchParams: spaces as %20, as the original sent them.
      let url = `${this.config.mail.publicUrl}/dashboard?connected=false&provider=${provider}&error=${encodeURIComponent(message)}`;
      if (provider === 'slack' && workspaceId) url += `&workspace=${workspaceId}`;
      return url;
    };
    if (workspace === undefined) return refusal(notConfiguredMessage(provider));
    if (typeof workspace !== 'string' || !isUUID(workspace)) return refusal(NO_ACCESS);
    const workspaceId = workspace.toLowerCase();
    const membership = await this.workspaces.findMembership(workspaceId, caller.userId);
    if (!membership) return refusal(NO_ACCESS);
    if (membership.role === 'viewer') return refusal(VIEWERS_CANNOT_CONNECT, workspaceId);
    if (this.plans.workspaceTier(membership.workspace) !== 'workspace') {
      return refusal(WORKSPACE_PLAN_NEEDED, workspaceId);
    }
    return refusal(notConfiguredMessage(provider), workspaceId);
  }

  /** Refresh and disconnect name a connection; none can exist. */
  personalConnection(provider: OAuthProvider, connectionId: string | undefined): Promise<never> {
    if (!connectionId) return Promise.reject(new AppError(ErrorCode.InvalidRequest, 'connection_id is required'));
    return Promise.reject(new AppError(ErrorCode.IntegrationNotConfigured, notConfiguredMessage(provider)));
  }

  async promote(caller: AuthPrincipal, workspaceId: string, dto: PromoteConnectionDto): Promise<never> {
    await this.requireManager(caller, workspaceId);
    throw new AppError(ErrorCode.IntegrationNotConfigured, notConfiguredMessage(dto.provider));
  }

  async removeWorkspaceConnection(caller: AuthPrincipal, workspaceId: string): Promise<never> {
    await this.requireManager(caller, workspaceId);
    throw new AppError(ErrorCode.NotFound, 'Workspace connection not found');
  }

  /** The node panels' lookups (spreadsheets, channels, projects…) all go through a connection. */
  providerData(provider: OAuthProvider): Promise<never> {
    return Promise.reject(new AppError(ErrorCode.IntegrationNotConfigured, notConfiguredMessage(provider)));
  }

  /** As for members: non-members get the 404 of a workspace that does not exist. */
  private async requireManager(caller: AuthPrincipal, workspaceId: string): Promise<Membership> {
    const membership = await this.workspaces.findMembership(workspaceId, caller.userId);
    if (!membership) throw new AppError(ErrorCode.NotFound, 'Workspace not found');
    if (membership.role !== 'owner' && membership.role !== 'admin') {
      throw new AppError(ErrorCode.Forbidden, 'Admin permissions required');
    }
    return membership;
  }
}
