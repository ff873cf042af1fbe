import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { WorkerRepository } from '../database/repositories/worker.repository';

/**
 * A process with the worker or scheduler role (both import HeartbeatModule) keeps a row in
 * `workers` fresh every WORKER_HEARTBEAT_INTERVAL_MS, so that api processes can tell whether any worker is alive
 * (`/readyz`, `runloom_workers_alive`). The row goes at a graceful shutdown; a killed process's row
 * stops counting once it is stale and is pruned later by the others.
 */
@Injectable()
export class WorkerHeartbeat implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Workers');
  readonly id = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private timer: NodeJS.Timeout | null = null;
  private startedAt = new Date(0);
  private failing = false;

  constructor(
    private readonly config: AppConfig,
    private readonly workers: WorkerRepository,
    private readonly clock: Clock,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.startedAt = this.clock.now();
    await this.beat();
    this.timer = setInterval(() => void this.beat(), this.config.worker.heartbeatMs);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = null;
    await this.workers.remove(this.id).catch(() => undefined);
  }

  private async beat(): Promise<void> {
    try {
      await this.workers.beat(
        {
          id: this.id,
          host: hostname(),
          pid: process.pid,
          roles: [...this.config.roles].join(','),
          startedAt: this.startedAt,
        },
        this.clock.now(),
      );
      if (this.failing) this.logger.log('Heartbeat recorded again');
      this.failing = false;
    } catch (error) {
      // Logged once per outage: a database that is down is reported by /readyz already.
      if (!this.failing) this.logger.warn(`Heartbeat not recorded: ${(error as Error).message}`);
      this.failing = true;
    }
  }
}
