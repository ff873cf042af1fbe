import { Injectable } from '@nestjs/common';
import type { AuthPrincipal } from '../common/auth/principal';
import { Clock } from '../common/clock';
import { AppError, ErrorCode } from '../common/errors/app-error';
import { EventBus } from '../common/events/event-bus';
import { WorkflowEntity } from '../database/entities/workflow.entity';
import { WorkflowChanges, WorkflowRepository } from '../database/repositories/workflow.repository';

/**
 * A workflow setting changed outside the graph save (concurrency, egress allowlist, webhook
 * config): written under the row lock, then `workflow.updated`, so open streams and the history
 * hear of it as of a save. The caller has already checked `configure` access.
 */
@Injectable()
export class WorkflowSettings {
  constructor(
    private readonly workflows: WorkflowRepository,
    private readonly events: EventBus,
    private readonly clock: Clock,
  ) {}

  /**
   * `changes`, or a function deciding them from the row as it is under the lock (it may throw:
   * nothing is written), for a setting that depends on other settings.
   */
  async update(
    caller: AuthPrincipal,
    workflow: WorkflowEntity,
    changes: WorkflowChanges | ((current: WorkflowEntity) => WorkflowChanges),
  ): Promise<WorkflowEntity> {
    const decide = typeof changes === 'function' ? changes : () => changes;
    const result = await this.workflows.updateChecked(workflow.id, this.clock.now(), async (current) => ({
      changes: decide(current),
    }));
    // Deleted since the access check.
    if (!result) throw new AppError(ErrorCode.NotFound, 'Workflow not found');
    this.events.emit('workflow.updated', {
      workflowId: workflow.id,
      workspaceId: workflow.workspaceId,
      actorId: caller.userId,
      updatedAt: result.workflow.updatedAt.toISOString(),
    });
    return result.workflow;
  }
}
