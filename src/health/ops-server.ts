import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppError, ErrorCode } from '../common/errors/app-error';
import { envelopeFor, errorEnvelope } from '../common/errors/envelope';
import { AppConfig } from '../config/app-config';
import { Metrics } from '../metrics/metrics';
import { METRICS_UNAUTHORIZED, metricsAuthorized } from '../metrics/metrics.controller';
import { HealthService } from './health.service';

/**
 * The operations listener of a process without the api role (worker, scheduler): `GET /healthz`,
 * `/readyz` and `/metrics` on OPS_PORT, answered by the same code as the api's routes. Plain
 * node:http: such a process serves no API, and needs no HTTP framework for three routes.
 */
@Injectable()
export class OpsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Operations');
  private server: http.Server | null = null;

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
    private readonly health: HealthService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const port = this.config.opsPort;
    if (port === null) return;
    const server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          new Error(
            error.code === 'EADDRINUSE'
              ? `OPS_PORT ${port} is already in use on ${this.config.host}: choose another port`
              : `Cannot listen on OPS_PORT ${port}: ${error.message}`,
            { cause: error },
          ),
        ),
      );
      server.listen(port, this.config.host, () => resolve());
    });
    this.server = server;
    const bound = (server.address() as AddressInfo).port;
    this.logger.log(`Operations listener on http://localhost:${bound} (/healthz, /readyz, /metrics)`);
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    try {
      if (!['/healthz', '/readyz', '/metrics'].includes(path)) throw new AppError(ErrorCode.NotFound);
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new AppError(ErrorCode.MethodNotAllowed);
      if (path === '/healthz') return send(res, 200, this.health.liveness());
      if (path === '/readyz') return send(res, 200, await this.health.readiness());
      if (!metricsAuthorized(this.config, req.headers.authorization)) {
        throw new AppError(ErrorCode.Unauthorized, METRICS_UNAUTHORIZED);
      }
      res.writeHead(200, { 'content-type': this.metrics.registry.contentType });
      res.end(await this.metrics.registry.metrics());
    } catch (error) {
      const known = envelopeFor(error);
      if (known) return send(res, known.status, known.body, known.headers);
      this.logger.error(`Operations request ${path} failed: ${(error as Error).stack ?? String(error)}`);
      send(res, 500, errorEnvelope('Internal server error', ErrorCode.InternalError));
    }
  }
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}
