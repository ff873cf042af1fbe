import { Controller, Get, Headers, Res } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/http/openapi';
import type { Response } from 'express';
import { timingSafeEqual } from 'node:crypto';
import { Public } from '../common/auth/decorators';
import { AppError, ErrorCode } from '../common/errors/app-error';
import { AppConfig } from '../config/app-config';
import { Metrics } from './metrics';

/**
 * `GET /metrics` in Prometheus's text format. Open by default (labels carry no tenant data); with
 * METRICS_TOKEN set, scrapers must send `Authorization: Bearer <token>`.
 */
@ApiTags('operations')
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: Metrics,
    private readonly config: AppConfig,
  ) {}

  @Public()
  @Get()
  @ApiOkResponse({
    description:
      'Prometheus text format: `runloom_http_request_duration_seconds`, `runloom_runs{status}`, ' +
      '`runloom_queue_depth`, `runloom_run_queue_to_start_seconds`, `runloom_runs_finished_total{status}`, ' +
      '`runloom_sse_connections`, `runloom_egress_blocks_total{rule}` and the Node.js process metrics.',
    content: { 'text/plain': { schema: { type: 'string', example: 'runloom_queue_depth 0\n' } } },
  })
  @ApiErrors(401)
  async scrape(@Headers('authorization') authorization: string | undefined, @Res() res: Response): Promise<void> {
    const token = this.config.http.metricsToken;
    if (token && !sameSecret(authorization ?? '', `Bearer ${token}`)) {
      throw new AppError(ErrorCode.Unauthorized, 'Metrics need the METRICS_TOKEN bearer token');
    }
    res.setHeader('content-type', this.metrics.registry.contentType);
    res.end(await this.metrics.registry.metrics());
  }
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
