import { Controller, Get } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { Public } from '../common/auth/decorators';
import { ErrorEnvelopeDto } from '../common/http/openapi';
import { HealthService, Readiness } from './health.service';

class HealthResponse {
  @ApiProperty({ enum: ['ok'] }) status: 'ok';
}

class ReadinessChecks {
  @ApiProperty({ example: 'up' }) database: string;
  @ApiPropertyOptional({ example: 'up', description: 'In a process with the worker role.' }) worker?: string;
}

class ReadinessResponse extends HealthResponse {
  @ApiProperty({ type: ReadinessChecks }) checks: ReadinessChecks;
  @ApiPropertyOptional({
    example: 1,
    description: 'Without the worker role: worker processes with a recent heartbeat.',
  })
  workers_alive?: number;
}

/** `/healthz` and `/readyz` on the api port (HealthService answers them). */
@ApiTags('health')
@Controller()
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Public()
  @Get('healthz')
  @ApiOkResponse({ type: HealthResponse })
  @ApiOperation({ summary: 'Liveness check' })
  healthz(): { status: 'ok' } {
    return this.health.liveness();
  }

  @Public()
  @Get('readyz')
  @ApiOkResponse({
    description:
      '`worker` appears in a process with the worker role. A process without it reports `workers_alive`, ' +
      'the worker processes whose heartbeat is recent, and stays ready with none (runs wait in the queue).',
    type: ReadinessResponse,
  })
  @ApiServiceUnavailableResponse({ type: ErrorEnvelopeDto, description: '`service_unavailable` with `checks`.' })
  @ApiOperation({ summary: 'Readiness check (database and worker)' })
  readyz(): Promise<Readiness> {
    return this.health.readiness();
  }
}
