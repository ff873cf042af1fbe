import { Injectable } from '@nestjs/common';
import { WorkspaceRepository } from '../database/repositories/workspace.repository';
import { PlansService } from '../plans/plans.service';
import { NodeError, RunInfo } from './node-types';

/** Plan checks integrations make before they reach the outside world (egress is the outbound client's). */
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
  async messaging(run: RunInfo, platform: 'slack' | 'teams'): Promise<void> {
    const name = platform === 'slack' ? 'Slack' : 'Microsoft Teams';
    // Say the real cause: a personal workflow has no workspace (plan or not) to post as.
    if (!run.workspaceId) {
      throw new NodeError(`Forbidden: ${name} actions run in workspace workflows; this workflow is personal`);
    }
    const membership = await this.workspaces.findMembership(run.workspaceId, run.ownerId);
    if (!membership) throw new NodeError(`Forbidden: the workflow owner is no longer a member of this workspace`);
    if (this.plans.workspaceTier(membership.workspace) !== 'workspace') {
      throw new NodeError(`Forbidden: ${name} actions are available on workspace plans`);
    }
  }
}
