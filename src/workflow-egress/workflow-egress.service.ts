import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import type { AuthPrincipal } from '../common/auth/principal';
import { AppError, ErrorCode } from '../common/errors/app-error';
import { EventBus } from '../common/events/event-bus';
import { EgressBlockRepository } from '../database/repositories/egress-block.repository';
import { WorkflowRepository } from '../database/repositories/workflow.repository';
import { WorkflowAccess } from '../workflows/workflow-access';
import { EgressAllowlistResponse, EgressBlockPageResponse, toEgressBlockResponse } from './egress.dto';
import { normaliseAllowlist } from '../egress/egress-policy';

/** Per-workflow allowlists and the block log as the API shows them (docs/contract.md §2.12 and §7). */
@Injectable()
export class WorkflowEgressService {
  constructor(
    private readonly workflows: WorkflowRepository,
    private readonly access: WorkflowAccess,
    private readonly blocks: EgressBlockRepository,
    private readonly events: EventBus,
    private readonly clock: Clock,
  ) {}

  async getAllowlist(caller: AuthPrincipal, workflowId: string): Promise<EgressAllowlistResponse> {
    const { workflow } = await this.access.require(caller, workflowId, 'read');
    return { success: true, allowlist: workflow.egressAllowlist };
  }

  /** Validated and normalised, unlike the reference which stored anything verbatim. */
  async setAllowlist(caller: AuthPrincipal, workflowId: string, raw: string[]): Promise<EgressAllowlistResponse> {
    const { workflow } = await this.access.require(caller, workflowId, 'configure');
    const { entries, invalid } = normaliseAllowlist(raw);
    if (invalid.length) {
      throw new AppError(
        ErrorCode.InvalidRequest,
        `Invalid allowlist entries: ${invalid.join(', ')} (expected hostnames or *.suffix patterns)`,
        {
          invalid,
        },
      );
    }
    const result = await this.workflows.updateChecked(workflow.id, this.clock.now(), async () => ({
      changes: { egressAllowlist: entries },
    }));
    if (!result) throw new AppError(ErrorCode.NotFound, 'Workflow not found');
    this.events.emit('workflow.updated', {
      workflowId: workflow.id,
      workspaceId: workflow.workspaceId,
      actorId: caller.userId,
      updatedAt: result.workflow.updatedAt.toISOString(),
    });
    return { success: true, allowlist: entries };
  }

  async listBlocks(
    caller: AuthPrincipal,
    workflowId: string,
    paging: { page: number; perPage: number },
  ): Promise<EgressBlockPageResponse> {
    await this.access.require(caller, workflowId, 'configure');
    const blocks = await this.blocks.list(workflowId, paging.page, paging.perPage);
    return { success: true, blocks: blocks.map(toEgressBlockResponse), page: paging.page, per_page: paging.perPage };
  }

  async clearBlocks(caller: AuthPrincipal, workflowId: string): Promise<{ success: true; deleted: number }> {
    await this.access.require(caller, workflowId, 'configure');
    return { success: true, deleted: await this.blocks.clear(workflowId) };
  }
}
