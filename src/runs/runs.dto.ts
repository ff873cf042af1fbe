import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Max,
  Min,
  MinLength,
  ValidateBy,
  ValidateIf,
} from 'class-validator';
import { MaxChars } from '../common/http/max-chars';
import { toRfc3339 } from '../common/clock';
import { keyTemplateParts, MAX_CONCURRENCY_KEY_PLACEHOLDERS } from '../engine/concurrency-key';
import { JSON_VALUE } from '../common/http/openapi';
import { OptionalBody } from '../common/http/validation.pipe';
import { DeadLetterEntity } from '../database/entities/dead-letter.entity';
import { NodeRunEntity } from '../database/entities/node-run.entity';
import { RunEntity, RUN_STATUSES } from '../database/entities/run.entity';
import { CONCURRENCY_ON_LIMIT, WorkflowEntity } from '../database/entities/workflow.entity';
import type { ConcurrencyOnLimit } from '../database/entities/workflow.entity';
import { RunSnapshot, WorkflowNodeData } from '../workflows/workflow-graph.dto';

/** docs/contract.md §2.8: the body is optional (no content type = no body). */
@OptionalBody()
export class StartRunDto {
  @ApiPropertyOptional({ description: 'Repeating a key returns the run it created.', maxLength: 255 })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxChars(255)
  idempotency_key?: string;

  @ApiPropertyOptional({
    ...JSON_VALUE,
    nullable: true,
    description: 'The trigger payload, addressable as `{{<trigger label>.…}}`.',
    example: { order: { id: 42 } },
  })
  @IsOptional()
  context?: unknown;

  @ApiPropertyOptional({ description: 'Higher runs first.', minimum: -1000, maximum: 1000 })
  @IsOptional()
  @IsInt()
  @Min(-1000)
  @Max(1000)
  priority?: number;

  @ApiPropertyOptional({
    description: 'A trigger node to start from (other node ids are ignored, as in the reference).',
  })
  @IsOptional()
  @IsString()
  @MaxChars(200)
  start_from_node_id?: string;
}

export const RERUN_VERSIONS = ['same', 'latest'] as const;
export type RerunVersion = (typeof RERUN_VERSIONS)[number];

/** docs/contract.md §2.11: rerun bodies are required (send `{}`). */
export class RerunDto {
  @ApiPropertyOptional({ maxLength: 255 })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxChars(255)
  idempotency_key?: string;

  @ApiPropertyOptional({ ...JSON_VALUE, nullable: true, description: 'Replaces the trigger payload of the base run.' })
  @IsOptional()
  context?: unknown;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxChars(200)
  start_from_node_id?: string;

  @ApiPropertyOptional({
    enum: RERUN_VERSIONS,
    description:
      'Which graph to run: `same` (the default: the version the base run ran) or `latest` (the workflow as it is now). ' +
      'Rerun from the failed node only reruns the same version.',
  })
  @IsOptional()
  @IsIn(RERUN_VERSIONS, { message: 'version must be "same" or "latest"' })
  version?: RerunVersion;
}

/** Far above what one workflow can run at once, and within the column's 32-bit integer. */
export const MAX_CONCURRENCY_LIMIT = 10_000;

/** The longest `concurrency_key` template. */
export const MAX_CONCURRENCY_KEY_TEMPLATE = 500;
/** Far above a useful wait list; counting it is part of every start's admission. */
export const MAX_QUEUED_LIMIT = 100_000;
/** Thirty days. */
export const MAX_QUEUED_TTL_SEC = 2_592_000;

/**
 * A key template: at least one `{{ path }}`, at most MAX_CONCURRENCY_KEY_PLACEHOLDERS, none empty.
 * Read in one linear pass (a regular expression over a megabyte of `{{` would not be).
 */
function IsKeyTemplate(): PropertyDecorator {
  return ValidateBy({
    name: 'isKeyTemplate',
    validator: {
      validate: (value: unknown) => {
        if (typeof value !== 'string' || value.length > MAX_CONCURRENCY_KEY_TEMPLATE) return true;
        const { paths } = keyTemplateParts(value);
        return paths.length >= 1 && paths.length <= MAX_CONCURRENCY_KEY_PLACEHOLDERS && paths.every((p) => p !== '');
      },
      defaultMessage: () =>
        `key must be a template over the trigger payload with 1 to ${MAX_CONCURRENCY_KEY_PLACEHOLDERS} non-empty {{…}} placeholders, e.g. {{Hook.customer_id}}`,
    },
  });
}

/** Present (not absent): null is refused where the setting has no "off". */
const present = (field: string) => ValidateIf((o: Record<string, unknown>) => o[field] !== undefined);

/**
 * A workflow's concurrency and backpressure (docs/contract.md §2.19). Every field is optional;
 * an absent one keeps its value. `null` turns `key`, `max_queued` and `queued_ttl_sec` off.
 */
export class ConcurrencyDto {
  @ApiPropertyOptional({
    minimum: 1,
    maximum: MAX_CONCURRENCY_LIMIT,
    example: 2,
    description: 'Runs of the workflow at once.',
  })
  @present('limit')
  @Type(() => Number)
  @Max(MAX_CONCURRENCY_LIMIT, { message: `limit must be <= ${MAX_CONCURRENCY_LIMIT}` })
  @IsInt({ message: 'limit must be an integer' })
  limit?: number;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    maxLength: MAX_CONCURRENCY_KEY_TEMPLATE,
    example: '{{Hook.customer_id}}',
    description: 'A template over the trigger payload: runs with the same value form a group limited by `key_limit`.',
  })
  @IsOptional()
  @IsString({ message: 'key must be a string or null' })
  @MaxChars(MAX_CONCURRENCY_KEY_TEMPLATE, {
    message: `key must be at most ${MAX_CONCURRENCY_KEY_TEMPLATE} characters`,
  })
  @IsKeyTemplate()
  key?: string | null;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: MAX_CONCURRENCY_LIMIT,
    example: 1,
    description: 'Runs of one key group at once (default 1).',
  })
  @present('key_limit')
  @Type(() => Number)
  @Min(1, { message: 'key_limit must be >= 1' })
  @Max(MAX_CONCURRENCY_LIMIT, { message: `key_limit must be <= ${MAX_CONCURRENCY_LIMIT}` })
  @IsInt({ message: 'key_limit must be an integer' })
  key_limit?: number;

  @ApiPropertyOptional({
    enum: CONCURRENCY_ON_LIMIT,
    description:
      'When the group (or, without a key, the workflow) is full: wait, refuse with 429, or cancel the oldest.',
  })
  @present('on_limit')
  @IsIn(CONCURRENCY_ON_LIMIT, { message: 'on_limit must be queue, reject or cancel_oldest' })
  on_limit?: ConcurrencyOnLimit;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: 1,
    maximum: MAX_QUEUED_LIMIT,
    description: 'Most runs waiting to start.',
  })
  @IsOptional()
  @Type(() => Number)
  @Min(1, { message: 'max_queued must be >= 1' })
  @Max(MAX_QUEUED_LIMIT, { message: `max_queued must be <= ${MAX_QUEUED_LIMIT}` })
  @IsInt({ message: 'max_queued must be an integer or null' })
  max_queued?: number | null;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: 1,
    maximum: MAX_QUEUED_TTL_SEC,
    description: 'A run not started this many seconds after it was queued ends `expired`.',
  })
  @IsOptional()
  @Type(() => Number)
  @Min(1, { message: 'queued_ttl_sec must be >= 1' })
  @Max(MAX_QUEUED_TTL_SEC, { message: `queued_ttl_sec must be <= ${MAX_QUEUED_TTL_SEC}` })
  @IsInt({ message: 'queued_ttl_sec must be an integer or null' })
  queued_ttl_sec?: number | null;
}

export class ActiveRunsQuery {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID(undefined, { message: 'workflow_id must be a UUID' })
  workflow_id?: string;
}

export class RunResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid', description: 'The workflow owner.' }) user_id: string;
  @ApiProperty({ format: 'uuid' }) workflow_id: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) workspace_id: string | null;
  @ApiProperty({
    type: RunSnapshot,
    description: 'The graph and control keys; secrets appear as references, credentials masked.',
  })
  snapshot: Record<string, unknown>;
  @ApiProperty({
    nullable: true,
    type: Number,
    description: 'The workflow version the run ran (null for runs from before versions were kept).',
  })
  version: number | null;
  @ApiProperty({ enum: RUN_STATUSES }) status: string;
  @ApiProperty({ nullable: true, type: String }) error: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Its concurrency group: the workflow’s `concurrency_key` rendered over the trigger payload.',
  })
  concurrency_key: string | null;
  @ApiProperty({
    format: 'date-time',
    nullable: true,
    type: String,
    description: 'Ends `expired` if not started by then (`queued_ttl_sec`); null once started or ended.',
  })
  queue_expires_at: string | null;
  @ApiProperty({ nullable: true, type: String }) idempotency_key: string | null;
  @ApiProperty({ format: 'date-time', description: 'Insert time.' }) started_at: string;
  @ApiProperty({ format: 'date-time' }) resume_at: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) finished_at: string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time' }) updated_at: string;
}

export function toRunResponse(r: RunEntity): RunResponse {
  return {
    id: r.id,
    user_id: r.ownerId,
    workflow_id: r.workflowId,
    workspace_id: r.workspaceId,
    snapshot: r.snapshot,
    version: r.workflowVersion,
    status: r.status,
    error: r.error,
    concurrency_key: r.concurrencyKey,
    queue_expires_at: toRfc3339(r.queueExpiresAt),
    idempotency_key: r.idempotencyKey,
    started_at: toRfc3339(r.startedAt)!,
    resume_at: toRfc3339(r.resumeAt)!,
    finished_at: toRfc3339(r.finishedAt),
    created_at: toRfc3339(r.createdAt)!,
    updated_at: toRfc3339(r.updatedAt)!,
  };
}

export class NodeRunResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) run_id: string;
  @ApiProperty() node_id: string;
  @ApiProperty() name: string;
  @ApiProperty() node_type: string;
  @ApiProperty({ type: WorkflowNodeData, nullable: true, description: 'The node data as saved (secret references).' })
  inputs: unknown;
  @ApiProperty({ ...JSON_VALUE, nullable: true, description: 'What the node returned (redacted).' }) outputs: unknown;
  @ApiProperty({ enum: ['running', 'succeeded', 'failed'] }) status: string;
  @ApiProperty({ nullable: true, type: String }) error: string | null;
  @ApiProperty({ format: 'date-time' }) started_at: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) finished_at: string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time' }) updated_at: string;
}

export function toNodeRunResponse(n: NodeRunEntity): NodeRunResponse {
  return {
    id: n.id,
    run_id: n.runId,
    node_id: n.nodeId,
    name: n.name,
    node_type: n.nodeType,
    inputs: n.inputs,
    outputs: n.outputs,
    status: n.status,
    error: n.error,
    started_at: toRfc3339(n.startedAt)!,
    finished_at: toRfc3339(n.finishedAt),
    created_at: toRfc3339(n.createdAt)!,
    updated_at: toRfc3339(n.updatedAt)!,
  };
}

export class DeadLetterResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) user_id: string;
  @ApiProperty({ format: 'uuid' }) workflow_id: string;
  @ApiProperty({ format: 'uuid' }) run_id: string;
  @ApiProperty() error: string;
  @ApiProperty({ type: RunSnapshot }) snapshot: Record<string, unknown>;
  @ApiProperty({ format: 'date-time' }) created_at: string;
}

export function toDeadLetterResponse(d: DeadLetterEntity): DeadLetterResponse {
  return {
    id: d.id,
    user_id: d.userId,
    workflow_id: d.workflowId,
    run_id: d.runId,
    error: d.error,
    snapshot: d.snapshot,
    created_at: toRfc3339(d.createdAt)!,
  };
}

export class RunEnvelope {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: RunResponse }) run: RunResponse;
}

export class RunListResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: [RunResponse] }) runs: RunResponse[];
}

export class RunPageResponse extends RunListResponse {
  @ApiProperty({ example: 1 }) page: number;
  @ApiProperty({ example: 20 }) per_page: number;
}

export class RunDetailResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: RunResponse }) run: RunResponse;
  @ApiProperty({ type: [NodeRunResponse] }) node_runs: NodeRunResponse[];
}

export class RunDownload {
  @ApiProperty({ type: RunResponse }) run: RunResponse;
  @ApiProperty({ type: [NodeRunResponse] }) node_runs: NodeRunResponse[];
}

export class CancelResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ example: 'canceled' }) status: 'canceled';
}

export class CancelAllResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ example: 2 }) canceled: number;
}

export class ConcurrencyResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ example: 2 }) limit: number;
  @ApiProperty({ type: String, nullable: true, example: '{{Hook.customer_id}}' }) key: string | null;
  @ApiProperty({ type: Number, nullable: true, example: 1 }) key_limit: number | null;
  @ApiProperty({ enum: CONCURRENCY_ON_LIMIT }) on_limit: ConcurrencyOnLimit;
  @ApiProperty({ type: Number, nullable: true }) max_queued: number | null;
  @ApiProperty({ type: Number, nullable: true }) queued_ttl_sec: number | null;
}

export function toConcurrencyResponse(w: WorkflowEntity): ConcurrencyResponse {
  return {
    success: true,
    limit: w.concurrencyLimit,
    key: w.concurrencyKey,
    key_limit: w.concurrencyKeyLimit,
    on_limit: w.concurrencyOnLimit,
    max_queued: w.maxQueued,
    queued_ttl_sec: w.queuedTtlSec,
  };
}

export class DeadLetterPageResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: [DeadLetterResponse] }) dead_letters: DeadLetterResponse[];
  @ApiProperty({ example: 1 }) page: number;
  @ApiProperty({ example: 20 }) per_page: number;
}

export class DeletedResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ example: 3 }) deleted: number;
}
