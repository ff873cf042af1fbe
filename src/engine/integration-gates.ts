import { Injectable } from '@nestjs/common';
import { lookup } from 'node:dns/promises';
import { AppConfig } from '../config/app-config';
import { WorkspaceRepository } from '../database/repositories/workspace.repository';
import { blockedAddressReason } from '../egress/address-guard';
import { hostMatches } from '../egress/egress-policy';
import { PlansService } from '../plans/plans.service';
import { NodeError, RunInfo } from './node-types';

/** Checks integrations make before they reach the outside world (plan gates, SMTP egress). */
@Injectable()
export class IntegrationGates {
  constructor(
    private readonly workspaces: WorkspaceRepository,
    private readonly plans: PlansService,
    private readonly config: AppConfig,
  ) {}

  /**
   * Reference §5.6: Slack and Teams need the run's workspace on the workspace plan, and its owner
   * still a member of it. Google Chat is allowed everywhere and never asks.
   */
  async messaging(run: RunInfo, platform: 'slack' | 'teams'): Promise<void> {
    const name = platform === 'slack' ? 'Slack' : 'Microsoft Teams';
    if (!run.workspaceId) throw new NodeError(`Forbidden: ${name} actions need a workspace on the workspace plan`);
    const membership = await this.workspaces.findMembership(run.workspaceId, run.ownerId);
    if (!membership) throw new NodeError(`Forbidden: the workflow owner is no longer a member of this workspace`);
    if (this.plans.workspaceTier(membership.workspace) !== 'workspace') {
      throw new NodeError(`Forbidden: ${name} actions are available on workspace plans`);
    }
  }

  /**
   * SMTP does not go through the HTTP client, so the deny list and the SSRF guard are applied here
   * to the host and every address it resolves to (SPEC §7: every outbound call of a workflow).
   */
  async smtpHost(host: string): Promise<void> {
    const name = host.trim().toLowerCase().replace(/\.$/, '');
    if (this.config.egress.disallowedDomains.some((pattern) => hostMatches(pattern, name))) {
      throw new NodeError(`SMTP host blocked by denylist: ${name}`);
    }
    if (this.config.egress.allowPrivateNetworks) return;
    const addresses = await lookup(name, { all: true }).catch(() => {
      throw new NodeError(`SMTP host could not be resolved: ${name}`);
    });
    const blocked = addresses.map((a) => blockedAddressReason(a.address)).find((reason) => reason !== null);
    if (blocked) throw new NodeError(`SMTP host blocked by SSRF guard: ${name} (${blocked})`);
  }
}
