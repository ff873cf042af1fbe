import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsDefined, IsNotEmpty, IsOptional, IsString, IsUUID } from 'class-validator';
import { MaxChars } from '../common/http/max-chars';
import { toRfc3339 } from '../common/clock';
import { CONCURRENCY_ON_LIMIT, WorkflowEntity } from '../database/entities/workflow.entity';
import type { ConcurrencyOnLimit } from '../database/entities/workflow.entity';
import { WorkflowScheduleEntity } from '../database/entities/workflow-schedule.entity';
import { WorkflowLogEntity } from '../database/entities/workflow-log.entity';
import { JSON_VALUE } from '../common/http/openapi';
import { WorkflowGraph } from './workflow-graph.dto';

const GRAPH_EXAMPLE = {
  nodes: [
    {
      id: 'trigger-1',
      type: 'trigger',
      position: { x: 0, y: 0 },
      data: { label: 'Trigger', triggerType: 'Manual', inputs: [] },
    },
    {
      id: 'action-1',
      type: 'actionHttp',
      position: { x: 240, y: 0 },
      data: {
        label: 'HTTP Request',
        actionType: 'http',
        params: { url: 'https://example.com', method: 'GET' },
        stopOnError: true,
      },
    },
  ],
  edges: [{ id: 'e1', source: 'trigger-1', target: 'action-1', sourceHandle: null, type: 'nodeEdge' }],
};

export class ReassignWorkflowDto {
  @ApiProperty({ format: 'uuid', description: 'A member of the workflow’s workspace who may edit (not a viewer).' })
  @IsUUID(undefined, { message: 'user_id must be a UUID' })
  user_id: string;
}

/** The longest change summary a version keeps. */
export const CHANGE_SUMMARY_MAX = 500;

/** The optional change summary of a save (create, update). */
const ChangeSummary = () =>
  applyDecorators(
    ApiPropertyOptional({
      maxLength: CHANGE_SUMMARY_MAX,
      description: 'What this save changes, in words, kept with the version it makes; made from the diff when absent.',
    }),
    IsOptional(),
    IsString(),
    MaxChars(CHANGE_SUMMARY_MAX),
  );

export class CreateWorkflowDto {
  @ApiProperty({ example: 'Order sync', maxLength: 200 })
  @IsString()
  @IsNotEmpty()
  @MaxChars(200)
  name: string;

  @ApiPropertyOptional({ type: String, nullable: true })
  @IsOptional()
  @IsString()
  @MaxChars(10_000)
  description?: string | null;

  // Checked by assertValidGraph when saved, not here: the schema only documents the shape.
  @ApiProperty({
    type: WorkflowGraph,
    description: 'The graph: `{nodes:[…], edges:[…]}` (node ids unique, edges between existing nodes).',
    example: GRAPH_EXAMPLE,
  })
  @IsDefined()
  data: unknown;

  @ApiPropertyOptional({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'Defaults to the workspace of the plan context.',
  })
  @IsOptional()
  @IsUUID(undefined, { message: 'workspace_id must be a UUID' })
  workspace_id?: string | null;

  @ChangeSummary()
  change_summary?: string;
}

export class UpdateWorkflowDto {
  @ApiProperty({ example: 'Order sync', maxLength: 200 })
  @IsString()
  @IsNotEmpty()
  @MaxChars(200)
  name: string;

  @ApiPropertyOptional({ type: String, nullable: true })
  @IsOptional()
  @IsString()
  @MaxChars(10_000)
  description?: string | null;

  @ApiProperty({ type: WorkflowGraph, example: GRAPH_EXAMPLE })
  @IsDefined()
  data: unknown;

  @ApiPropertyOptional({
    format: 'date-time',
    description:
      'The `updated_at` the client last saw. Required for workspace workflows; a mismatch is a 409 with the current workflow.',
  })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'updated_at must be an RFC 3339 timestamp' })
  updated_at?: Date;

  @ChangeSummary()
  change_summary?: string;
}

export class WorkflowResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) user_id: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) workspace_id: string | null;
  @ApiProperty() name: string;
  @ApiProperty({ nullable: true, type: String }) description: string | null;
  @ApiProperty({
    type: WorkflowGraph,
    example: GRAPH_EXAMPLE,
    description: 'Credential fields are masked (`********`); secrets are referenced as `group:service:name`.',
  })
  data: Record<string, unknown>;
  @ApiProperty({ example: 3, description: 'The number of its newest version (`GET /:id/versions`).' }) version: number;
  @ApiProperty({ example: 1 }) concurrency_limit: number;
  @ApiProperty({
    type: String,
    nullable: true,
    example: '{{Hook.customer_id}}',
    description: 'Groups runs (`POST /:id/concurrency`).',
  })
  concurrency_key: string | null;
  @ApiProperty({ type: Number, nullable: true }) concurrency_key_limit: number | null;
  @ApiProperty({ enum: CONCURRENCY_ON_LIMIT }) concurrency_on_limit: ConcurrencyOnLimit;
  @ApiProperty({ type: Number, nullable: true }) max_queued: number | null;
  @ApiProperty({ type: Number, nullable: true }) queued_ttl_sec: number | null;
  @ApiProperty({ type: [String] }) egress_allowlist: string[];
  @ApiProperty() require_hmac: boolean;
  @ApiProperty({ example: 300 }) hmac_replay_window_sec: number;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) locked_by: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) locked_at: string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time' }) updated_at: string;
}

/** docs/contract.md §2.1; `webhook_salt` is never serialised. */
export function toWorkflowResponse(w: WorkflowEntity): WorkflowResponse {
  return {
    id: w.id,
    user_id: w.userId,
    workspace_id: w.workspaceId,
    name: w.name,
    description: w.description,
    data: w.data,
    version: w.version,
    concurrency_limit: w.concurrencyLimit,
    concurrency_key: w.concurrencyKey,
    concurrency_key_limit: w.concurrencyKeyLimit,
    concurrency_on_limit: w.concurrencyOnLimit,
    max_queued: w.maxQueued,
    queued_ttl_sec: w.queuedTtlSec,
    egress_allowlist: w.egressAllowlist,
    require_hmac: w.requireHmac,
    hmac_replay_window_sec: w.hmacReplayWindowSec,
    locked_by: w.lockedBy,
    locked_at: toRfc3339(w.lockedAt),
    created_at: toRfc3339(w.createdAt)!,
    updated_at: toRfc3339(w.updatedAt)!,
  };
}

/** The workflow's schedule as the scheduler sees it (not in the reference; clients ignore it). */
export class ScheduleResponse {
  @ApiProperty() enabled: boolean;
  @ApiProperty({ nullable: true, type: String, example: '2025-01-31T09:30:00Z' }) next_run_at: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'The due time of the last firing.' })
  last_run_at: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'The schedule trigger it starts from.' })
  trigger_node_id: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Why the schedule is disabled.' })
  last_error: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Why the last skipped due time was skipped.' })
  last_skip_reason: string | null;
  @ApiProperty({ nullable: true, type: String }) last_skipped_at: string | null;
}

export function toScheduleResponse(s: WorkflowScheduleEntity): ScheduleResponse {
  return {
    enabled: s.enabled,
    next_run_at: toRfc3339(s.nextRunAt),
    last_run_at: toRfc3339(s.lastRunAt),
    trigger_node_id: s.triggerNodeId,
    last_error: s.lastError,
    last_skip_reason: s.lastSkipReason,
    last_skipped_at: toRfc3339(s.lastSkippedAt),
  };
}

export class WorkflowEnvelope {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: WorkflowResponse }) workflow: WorkflowResponse;
}

/** `GET /api/workflows/:id`: the workflow, and its schedule when it has a schedule trigger. */
export class WorkflowDetailEnvelope extends WorkflowEnvelope {
  @ApiProperty({ type: ScheduleResponse, nullable: true }) schedule: ScheduleResponse | null;
}

export class WorkflowListResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: [WorkflowResponse] }) workflows: WorkflowResponse[];
  @ApiPropertyOptional({ description: 'Solo plan only: personal workflows beyond the 3 oldest, hidden.' })
  hidden_count?: number;
}

export class DiffEntryResponse {
  @ApiProperty({ example: 'nodes[1].data.params.url' }) path: string;
  @ApiProperty({ ...JSON_VALUE, nullable: true, example: 'https://old.example.com' }) from: unknown;
  @ApiProperty({ ...JSON_VALUE, nullable: true, example: 'https://new.example.com' }) to: unknown;
}

export class WorkflowLogResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) user_id: string;
  @ApiProperty({ format: 'uuid' }) workflow_id: string;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ type: [DiffEntryResponse] }) diffs: DiffEntryResponse[];
}

export function toWorkflowLogResponse(l: WorkflowLogEntity): WorkflowLogResponse {
  return {
    id: l.id,
    user_id: l.userId,
    workflow_id: l.workflowId,
    created_at: toRfc3339(l.createdAt)!,
    diffs: l.diffs,
  };
}

export class WorkflowLogsWorkflow {
  @ApiProperty({ format: 'uuid', example: '6f1c1b9e-3f7a-4d33-9c55-1b0e2f0a9a10' }) id: string;
  @ApiProperty({ example: 'Order sync' }) name: string;
}

export class WorkflowLogsResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: [WorkflowLogResponse] }) logs: WorkflowLogResponse[];
  @ApiProperty({ type: WorkflowLogsWorkflow }) workflow: WorkflowLogsWorkflow;
}

export class ConflictResponse {
  @ApiProperty({ example: false }) success: false;
  @ApiProperty({ example: 'error' }) status: 'error';
  @ApiProperty({ example: 'This workflow was updated by someone else. Reload to continue editing.' }) message: string;
  @ApiProperty({ example: 'workflow_conflict' }) code: string;
  @ApiProperty({ type: WorkflowResponse }) workflow: WorkflowResponse;
}
