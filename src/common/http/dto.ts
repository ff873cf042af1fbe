import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsUUID, Max } from 'class-validator';

// Request and response shapes that several features' controllers share; feature-specific ones stay with the feature.

export class WorkspaceQuery {
  @ApiPropertyOptional({
    format: 'uuid',
    description: 'The workspace the client is working in (plan context, docs/contract.md §3).',
  })
  @IsOptional()
  @IsUUID(undefined, { message: 'workspace must be a UUID' })
  workspace?: string;
}

/** Far past any list a person pages through; keeps `(page - 1) * per_page` a small integer for SQL. */
export const MAX_PAGE = 100_000;

export class PagingQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE, default: 1 })
  @IsOptional()
  @Type(() => Number)
  @Max(MAX_PAGE, { message: `page must be <= ${MAX_PAGE}` })
  @IsInt({ message: 'page must be an integer' })
  page?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'per_page must be an integer' })
  per_page?: number;
}

/** A PagingQuery's page and page size, defaulted and within bounds. */
export function clampPaging(page?: number, perPage?: number): { page: number; perPage: number } {
  return { page: Math.max(1, page ?? 1), perPage: Math.min(100, Math.max(1, perPage ?? 20)) };
}

export class SuccessResponse {
  @ApiProperty({ example: true }) success: true;
}

export class MessageResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty() message: string;
}

/** The documented shape of a PlanViolationError's item (src/common/errors/app-error.ts). */
export class PlanViolation {
  @ApiProperty({ example: 'workflow-limit' }) code: string;
  @ApiProperty({ example: 'Solo accounts can save up to 3 workflows.' }) message: string;
  @ApiPropertyOptional({ description: 'The node the violation is about.' }) nodeLabel?: string;
}

export class PlanViolationResponse {
  @ApiProperty({ example: false }) success: false;
  @ApiProperty({ example: 'error' }) status: 'error';
  @ApiProperty({
    example: 'Solo accounts can save up to 3 workflows. Delete an existing workflow or upgrade in Settings → Plan.',
  })
  message: string;
  @ApiProperty({ type: [PlanViolation], example: [{ code: 'workflow-limit', message: '…' }] })
  violations: PlanViolation[];
}
