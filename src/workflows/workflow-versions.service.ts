import { Injectable } from '@nestjs/common';
import { AuthPrincipal } from '../common/auth/principal';
import { AppError, ErrorCode } from '../common/errors/app-error';
import { WorkflowVersionEntity } from '../database/entities/workflow-version.entity';
import { WorkflowVersionRepository } from '../database/repositories/workflow-version.repository';
import { SecretsService } from '../secrets/secrets.service';
import { DiffEntry } from './graph-diff';
import { WorkflowAccess } from './workflow-access';
import {
  RestoreVersionDto,
  toVersionResponse,
  toVersionSummary,
  WorkflowVersionDiffResponse,
  WorkflowVersionEnvelope,
  WorkflowVersionPage,
} from './workflow-versions.dto';
import { WorkflowEnvelope } from './workflows.dto';
import { WorkflowsService } from './workflows.service';

const EMPTY_GRAPH = { nodes: [], edges: [] };

/**
 * Workflow versions (docs/contract.md §2.17): anyone who may read the workflow reads its versions;
 * a restore is a save (the same access, plan, credential and concurrency checks as `PUT`).
 */
@Injectable()
export class WorkflowVersionsService {
  constructor(
    private readonly access: WorkflowAccess,
    private readonly versions: WorkflowVersionRepository,
    private readonly workflows: WorkflowsService,
    private readonly secrets: SecretsService,
  ) {}

  async list(
    caller: AuthPrincipal,
    workflowId: string,
    paging: { page: number; perPage: number },
  ): Promise<WorkflowVersionPage> {
    const { workflow } = await this.access.require(caller, workflowId, 'read');
    const { versions, total } = await this.versions.page(workflowId, paging.page, paging.perPage);
    return this.secrets.redactor.redact({
      success: true as const,
      versions: versions.map(toVersionSummary),
      page: paging.page,
      per_page: paging.perPage,
      total,
      latest: workflow.version,
    });
  }

  async get(caller: AuthPrincipal, workflowId: string, number: number): Promise<WorkflowVersionEnvelope> {
    await this.access.require(caller, workflowId, 'read');
    const version = await this.found(workflowId, number);
    return this.secrets.redactor.redact({ success: true as const, version: toVersionResponse(version) });
  }

  /** `against` defaults to the version before; version 1 compares with an empty workflow. */
  async diff(
    caller: AuthPrincipal,
    workflowId: string,
    number: number,
    against?: number,
  ): Promise<WorkflowVersionDiffResponse> {
    await this.access.require(caller, workflowId, 'read');
    const to = await this.found(workflowId, number);
    const base = against ?? (number > 1 ? number - 1 : undefined);
    const from = base === undefined ? null : await this.found(workflowId, base);
    const diffs: DiffEntry[] = [];
    if (from?.name !== to.name) diffs.push({ path: 'name', from: from?.name ?? null, to: to.name });
    if ((from?.description ?? null) !== to.description)
      diffs.push({ path: 'description', from: from?.description ?? null, to: to.description });
    diffs.push(...this.workflows.graphDiff(from?.data ?? EMPTY_GRAPH, to.data));
    return this.secrets.redactor.redact({ success: true as const, from: base ?? null, to: number, diffs });
  }

  /** A new version equal to `number`, saved as `PUT` saves (a stale `updated_at` is the 409 with the current copy). */
  async restore(
    caller: AuthPrincipal,
    workflowId: string,
    number: number,
    workspace: string | undefined,
    dto: RestoreVersionDto,
  ): Promise<WorkflowEnvelope> {
    // Edit access first: a viewer learns nothing about which versions exist.
    await this.access.require(caller, workflowId, 'edit');
    const version = await this.found(workflowId, number);
    return this.workflows.update(
      caller,
      workflowId,
      workspace,
      { name: version.name, description: version.description, data: version.data, updated_at: dto.updated_at },
      number,
    );
  }

  private async found(workflowId: string, number: number): Promise<WorkflowVersionEntity> {
    const version = await this.versions.find(workflowId, number);
    if (!version) throw new AppError(ErrorCode.NotFound, `Version ${number} not found`);
    return version;
  }
}
