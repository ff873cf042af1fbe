import { ApiProperty } from '@nestjs/swagger';
import { IsArray, IsString } from 'class-validator';
import { toRfc3339 } from '../common/clock';
import { EgressBlockEntity } from '../database/entities/egress-block.entity';

export class EgressAllowlistDto {
  @ApiProperty({
    type: [String],
    example: ['api.example.com', '*.hooks.example.org'],
    description: 'Hosts or `*.suffix` patterns; trimmed, lower-cased, deduplicated.',
  })
  @IsArray({ message: 'allowlist must be an array of strings' })
  @IsString({ each: true, message: 'allowlist must be an array of strings' })
  allowlist: string[];
}

export class EgressAllowlistResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: [String] }) allowlist: string[];
}

export class EgressBlockResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) user_id: string;
  @ApiProperty({ format: 'uuid' }) workflow_id: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) run_id: string | null;
  @ApiProperty({ nullable: true, type: String }) node_id: string | null;
  @ApiProperty({ description: 'Scheme, host and path (query strings are not kept: they may carry credentials).' })
  url: string;
  @ApiProperty() host: string;
  @ApiProperty({ enum: ['scheme', 'denylist', 'ssrf', 'default_deny', 'allowlist_miss'] }) rule: string;
  @ApiProperty() message: string;
  @ApiProperty({ format: 'date-time' }) created_at: string;
}

export function toEgressBlockResponse(b: EgressBlockEntity): EgressBlockResponse {
  return {
    id: b.id,
    user_id: b.userId,
    workflow_id: b.workflowId,
    run_id: b.runId,
    node_id: b.nodeId,
    url: b.url,
    host: b.host,
    rule: b.rule,
    message: b.message,
    created_at: toRfc3339(b.createdAt)!,
  };
}

export class EgressBlockPageResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: [EgressBlockResponse] }) blocks: EgressBlockResponse[];
  @ApiProperty({ example: 1 }) page: number;
  @ApiProperty({ example: 20 }) per_page: number;
}
