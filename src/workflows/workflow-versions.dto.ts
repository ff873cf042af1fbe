import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsOptional } from 'class-validator';
import { toRfc3339 } from '../common/clock';
import { WorkflowVersionEntity } from '../database/entities/workflow-version.entity';
import { WorkflowVersionSummary } from '../database/repositories/workflow-version.repository';
import { WorkflowGraph } from './workflow-graph.dto';
import { CHANGE_SUMMARY_MAX, DiffEntryResponse } from './workflows.dto';

export class WorkflowVersionSummaryResponse {
  @ApiProperty({ example: 3 }) number: number;
  @ApiProperty() name: string;
  @ApiProperty({ nullable: true, type: String }) description: string | null;
  @ApiProperty({ format: 'uuid', nullable: true, type: String, description: 'Who saved it.' })
  created_by: string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ maxLength: CHANGE_SUMMARY_MAX, example: '2 node settings changed' }) summary: string;
  @ApiProperty({ nullable: true, type: Number, description: 'The version this one restored.' })
  restored_from: number | null;
}

export class WorkflowVersionResponse extends WorkflowVersionSummaryResponse {
  @ApiProperty({
    type: WorkflowGraph,
    description: 'The graph as saved; credential fields are masked and secrets referenced, as in the workflow.',
  })
  data: Record<string, unknown>;
}

export function toVersionSummary(v: WorkflowVersionSummary): WorkflowVersionSummaryResponse {
  return {
    number: v.number,
    name: v.name,
    description: v.description,
    created_by: v.createdBy,
    created_at: toRfc3339(v.createdAt)!,
    summary: v.summary,
    restored_from: v.restoredFrom,
  };
}

export function toVersionResponse(v: WorkflowVersionEntity): WorkflowVersionResponse {
  return { ...toVersionSummary(v), data: v.data };
}

export class WorkflowVersionPage {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: [WorkflowVersionSummaryResponse], description: 'Newest first.' })
  versions: WorkflowVersionSummaryResponse[];
  @ApiProperty({ example: 1 }) page: number;
  @ApiProperty({ example: 20 }) per_page: number;
  @ApiProperty({ description: 'Versions kept (older ones are pruned by plan).' }) total: number;
  @ApiProperty({ description: 'The newest version number.' }) latest: number;
}

export class WorkflowVersionEnvelope {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: WorkflowVersionResponse }) version: WorkflowVersionResponse;
}

export class WorkflowVersionDiffResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({
    nullable: true,
    type: Number,
    description: 'The version compared against (null: nothing, for version 1).',
  })
  from: number | null;
  @ApiProperty() to: number;
  @ApiProperty({
    type: [DiffEntryResponse],
    description: 'The name and description when they differ, then one entry per node field, as the change log.',
  })
  diffs: DiffEntryResponse[];
}

export class RestoreVersionDto {
  @ApiPropertyOptional({
    format: 'date-time',
    description:
      'The workflow `updated_at` the client last saw, as for `PUT`: required for workspace workflows; a mismatch is a 409 with the current workflow.',
  })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'updated_at must be an RFC 3339 timestamp' })
  updated_at?: Date;
}
