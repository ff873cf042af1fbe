import { Injectable } from '@nestjs/common';
import { WorkspaceRepository } from '../database/repositories/workspace.repository';
import { PlansService } from './plans.service';

/**
 * Plan checks integrations make before they reach the outside world (egress is the outbound client's). Each
 * answers why the run may not go on, or null; the engine turns a refusal into the node's error.
 */
@Injectable()
export class IntegrationGates {
  constructor(
    private readonly workspaces: WorkspaceRepository,
    private readonly plans: PlansService,
  ) {}

  /**
   * docs/contract.md §5.6: Slack and Teams need the run's workspace on the workspace plan, and its owner
   * still a member of it. Google Chat is allowed everywhere and never asks.
   */
  async messagingRefusal(
    run: { workspaceId: string | null; ownerId: string },
    platform: 'slack' | 'teams',
  ): Promise<string | null> {
    const name = platform === 'slack' ? 'Slack' : 'Microsoft Teams';
    // Say the real cause: a personal workflow has no workspace (plan or not) to post as.
    if (!run.workspaceId) return `Forbidden: ${name} actions run in workspace workflows; this workflow is personal`;
    const membership = await this.workspaces.findMembership(run.workspaceId, run.ownerId);
    if (!membership) return `Forbidden: the workflow owner is no longer a member of this workspace`;
    if (this.plans.workspaceTier(membership.workspace) !== 'workspace') {
      return `Forbidden: ${name} actions are available on workspace plans`;
    }
    return null;
  }
}
