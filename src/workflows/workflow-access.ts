import { Injectable } from '@nestjs/common';
import type { AuthPrincipal } from '../common/auth/principal';
import { AppError, ErrorCode } from '../common/errors/app-error';
import { WorkflowEntity } from '../database/entities/workflow.entity';
import { WorkspaceRole } from '../database/entities/workspace-member.entity';
import { WorkflowRepository } from '../database/repositories/workflow.repository';

/**
 * What one may do to a workflow and everything under it (runs, streams, webhook, egress, dead
 * letters). SECURITY.md publishes the matrix; `permits` is its only implementation.
 * - `read`: the workflow, its runs, streams, change log and egress allowlist.
 * - `run`: start, rerun, cancel, and the webhook URL and signing key (holding them is running).
 * - `edit`: save the graph, name and description.
 * - `configure`: concurrency, lock, webhook and egress settings, block log, dead letters.
 * - `delete`: delete the workflow.
 * - `reassign`: give a workspace workflow to another member.
 */
export const WORKFLOW_ACTIONS = ['read', 'run', 'edit', 'configure', 'delete', 'reassign'] as const;
export type WorkflowAction = (typeof WORKFLOW_ACTIONS)[number];

/** Who the caller is to a workflow they can see. */
export type Standing =
  /** The creator of a personal workflow: everything. */
  | { kind: 'personal' }
  /** A current member of the workflow's workspace: the workflow is the workspace's, whoever made it. */
  | { kind: 'member'; role: WorkspaceRole };

/** The matrix: viewers read; users also run and edit; admins and the owner do everything. */
export function permits(standing: Standing, action: WorkflowAction): boolean {
  if (standing.kind === 'personal') return action !== 'reassign';
  switch (standing.role) {
    case 'owner':
    case 'admin':
      return true;
    case 'user':
      return action === 'read' || action === 'run' || action === 'edit';
    case 'viewer':
      return action === 'read';
  }
}

const REFUSALS: Record<Exclude<WorkflowAction, 'read'>, string> = {
  run: 'Workspace viewers cannot run workflows.',
  edit: 'Workspace viewers cannot modify workflows.',
  configure: 'Only a workspace admin or owner can change workflow settings.',
  delete: 'Only a workspace admin or owner can delete workspace workflows.',
  reassign: 'Only a workspace admin or owner can reassign workflows.',
};

export interface WorkflowGrant {
  workflow: WorkflowEntity;
  /** The caller's role in the workflow's workspace; null for a personal workflow. */
  role: WorkspaceRole | null;
  standing: Standing;
}

/**
 * The one place that decides who may act on a workflow. Membership is read on every request, so
 * a removal or a role change takes effect on the next one. A workspace workflow belongs to its
 * workspace: its creator sees it only while a member. Anyone who cannot see the workflow gets the
 * same 404 as for one that does not exist; a member who may see it but not act gets a 403.
 */
@Injectable()
export class WorkflowAccess {
  constructor(private readonly workflows: WorkflowRepository) {}

  async require(caller: AuthPrincipal, workflowId: string, action: WorkflowAction): Promise<WorkflowGrant> {
    const grant = await this.find(caller, workflowId);
    if (!grant) throw new AppError(ErrorCode.NotFound, 'Workflow not found');
    if (action !== 'read' && !permits(grant.standing, action)) {
      throw new AppError(ErrorCode.Forbidden, REFUSALS[action]);
    }
    return grant;
  }

  /** The caller's standing on a workflow, or null when they cannot see it. */
  async find(caller: AuthPrincipal, workflowId: string): Promise<WorkflowGrant | null> {
    const found = await this.workflows.findForMember(workflowId, caller.userId);
    if (!found) return null;
    const { workflow, role } = found;
    const standing: Standing = role ? { kind: 'member', role } : { kind: 'personal' };
    return { workflow, role, standing };
  }
}
