import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { OptionalBody } from '../common/http/validation.pipe';

/** `POST /api/admin/purge-runs`: the client leaves `days` out when its field is blank; no body works too. */
@OptionalBody()
export class PurgeRunsDto {
  @ApiPropertyOptional({
    example: 30,
    minimum: 1,
    maximum: 36500,
    description: 'Finished runs created more than this many days ago go; default RUN_RETENTION_DAYS (30 when 0).',
  })
  @IsOptional()
  @IsInt({ message: 'days must be a whole number' })
  @Min(1, { message: 'days must be at least 1' })
  @Max(36500, { message: 'days must be at most 36500' })
  days?: number;
}

export class PurgeRunsResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ example: 12, description: 'Runs deleted (with their node runs, events and dead letters).' })
  deleted: number;
  @ApiProperty({ example: 30 }) days: number;
}
