import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { ErrorEnvelopeDto } from '../http/openapi';
import { Public } from '../auth/decorators';
import { AppError, ErrorCode } from '../errors/app-error';
import { Db } from '../../database/db.service';

const READINESS_TIMEOUT_MS = 2_000;

/** Liveness says the process answers; readiness says it can do work (the database answers). */
@ApiTags('health')
@Controller()
export class HealthController {
  constructor(private readonly db: Db) {}

  @Public()
  @Get('healthz')
  @ApiOkResponse({ schema: { example: { status: 'ok' } } })
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Public()
  @Get('readyz')
  @ApiOkResponse({ schema: { example: { status: 'ok', checks: { database: 'up' } } } })
  @ApiServiceUnavailableResponse({ type: ErrorEnvelopeDto, description: '`service_unavailable` with `checks`.' })
  async readyz(): Promise<{ status: 'ok'; checks: { database: 'up' } }> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.db.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('timeout')), READINESS_TIMEOUT_MS);
        }),
      ]);
    } catch {
      throw new AppError(ErrorCode.ServiceUnavailable, 'Database unavailable', { checks: { database: 'down' } });
    } finally {
      clearTimeout(timer);
    }
    return { status: 'ok', checks: { database: 'up' } };
  }
}
