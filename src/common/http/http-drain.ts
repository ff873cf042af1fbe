import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'node:http';

/** How long requests in flight at shutdown may take before their connections are cut. */
const DRAIN_DEADLINE_MS = 10_000;
const IDLE_SWEEP_MS = 50;

/**
 * Graceful HTTP shutdown (SIGTERM): stop accepting connections, answer what is in flight, and close
 * kept-alive connections as they go idle. Without it a client that keeps its connection busy held
 * the process open forever: `server.close()` waits for connections, not requests, and a
 * keep-alive connection that always has a next request never ends.
 */
@Injectable()
export class HttpDrain implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Shutdown');
  private draining = false;

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onApplicationBootstrap(): void {
    // First listener: a response written while draining tells the client to reconnect elsewhere.
    this.server()?.prependListener('request', (_req, res) => {
      if (this.draining) res.setHeader('connection', 'close');
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    const server = this.server();
    if (!server?.listening) return;
    this.draining = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Connections that finish their request while we wait are closed as soon as they are idle.
    const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
    server.closeIdleConnections();
    const deadline = setTimeout(() => {
      this.logger.warn(`Requests still in flight after ${DRAIN_DEADLINE_MS} ms: closing their connections`);
      server.closeAllConnections();
    }, DRAIN_DEADLINE_MS);
    await closed;
    clearInterval(sweep);
    clearTimeout(deadline);
  }

  private server(): Server | undefined {
    return this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
  }
}
