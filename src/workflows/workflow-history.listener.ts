import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import type { ArgOf } from '../common/events/app-events';
import { OnAppEvent } from '../common/events/event-bus';
import { UserRepository } from '../database/repositories/user.repository';
import { WorkflowRepository } from '../database/repositories/workflow.repository';

/** Workspace-wide history and plan effects that other features announce through events. */
@Injectable()
export class WorkflowHistoryListener {
  constructor(
    private readonly workflows: WorkflowRepository,
    private readonly users: UserRepository,
    private readonly clock: Clock,
  ) {}

  /** docs/contract.md §2.14: a secret created in workspace mode is logged on every workflow of the workspace. */
  @OnAppEvent('workspace.secret_created')
  async onSecretCreated(event: ArgOf<'workspace.secret_created'>): Promise<void> {
    const user = await this.users.findById(event.actorId);
    const actor = user ? `${user.firstName} ${user.lastName} <${user.email}>` : event.actorId;
    await this.workflows.fanOutWorkspaceLog(
      event.workspaceId,
      event.actorId,
      [
        { path: 'actor', from: null, to: actor },
        { path: 'secret.created', from: null, to: event.reference },
      ],
      this.clock.now(),
    );
  }

  /** docs/contract.md §1.6: webhook HMAC is a workspace-plan feature, so a downgrade turns it off. */
  @OnAppEvent('workspace.plan_changed')
  async onPlanChanged(event: ArgOf<'workspace.plan_changed'>): Promise<void> {
    if (event.plan === 'solo') await this.workflows.disableHmacInWorkspace(event.workspaceId, this.clock.now());
  }
}
