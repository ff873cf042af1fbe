import { Injectable } from '@nestjs/common';
import type { AuthPrincipal } from '../common/auth/principal';
import { AppError, ErrorCode } from '../common/errors/app-error';
import { EgressBlockRepository } from '../database/repositories/egress-block.repository';
import { WorkflowAccess } from '../workflows/workflow-access';
import { WorkflowSettings } from '../workflows/workflow-settings';
import { EgressAllowlistResponse, EgressBlockPageResponse, toEgressBlockResponse } from './egress.dto';
import { normaliseAllowlist } from '../egress/egress-policy';

/** Per-workflow allowlists and the block log as the API shows them (docs/contract.md §2.12 and §7). */
@Injectable()
export class WorkflowEgressService {
  constructor(
    private readonly access: WorkflowAccess,
    private readonly settings: WorkflowSettings,
    private readonly blocks: EgressBlockRepository,
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
    await this.settings.update(caller, workflow, { egressAllowlist: entries });
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
