import { Controller, Get, Headers, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/http/openapi';
import type { HttpReply } from '../common/http/http';
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
      '`runloom_sse_connections`, `runloom_egress_blocks_total{rule}`, `runloom_workers_alive`, ' +
      '`runloom_build_info{version,node_version}` and the standard Node.js process metrics (`process_*`, `nodejs_*`).',
    content: { 'text/plain': { schema: { type: 'string', example: 'runloom_queue_depth 0\n' } } },
  })
  @ApiErrors(401)
  @ApiOperation({ summary: 'Prometheus metrics' })
  async scrape(@Headers('authorization') authorization: string | undefined, @Res() res: HttpReply): Promise<void> {
    if (!metricsAuthorized(this.config, authorization)) {
      throw new AppError(ErrorCode.Unauthorized, METRICS_UNAUTHORIZED);
    }
    void res.header('content-type', this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }
}

export const METRICS_UNAUTHORIZED = 'Metrics need the METRICS_TOKEN bearer token';

/** Whether a scrape may read the metrics: always without METRICS_TOKEN, else with its bearer token. */
export function metricsAuthorized(config: AppConfig, authorization: string | undefined): boolean {
  const token = config.http.metricsToken;
  return !token || sameSecret(authorization ?? '', `Bearer ${token}`);
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
