import { Injectable } from '@nestjs/common';
import { AppError, ErrorCode } from '../common/errors/app-error';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { Db } from '../database/db.service';
import { aliveSince, WorkerRepository } from '../database/repositories/worker.repository';

const READINESS_TIMEOUT_MS = 2_000;

/** `busy`: the database answers reads but refuses writes (another connection holds the SQLite write lock). */
export type Check = 'up' | 'down' | 'busy';

export interface Readiness {
  status: 'ok';
  checks: Record<string, Check>;
  workers_alive?: number;
}

/** The claim loop of this process, as readiness sees it (RunWorker). */
export interface WorkerLoop {
  loopHealthy(now: Date): boolean;
}

/**
 * Liveness says the process answers; readiness says it can do work: the database answers and takes
 * writes and, in a process with the worker role, the claim loop is going round. Asked by the api's
 * routes and by the operations listener of a process without them.
 */
@Injectable()
export class HealthService {
  constructor(
    private readonly db: Db,
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly workerRows: WorkerRepository,
  ) {}

  private worker: WorkerLoop | null = null;

  /** The worker role's module hands its loop over at init; a process without one has no loop to check. */
  watchWorkerLoop(loop: WorkerLoop): void {
    this.worker = loop;
  }

  liveness(): { status: 'ok' } {
    return { status: 'ok' };
  }

  async readiness(): Promise<Readiness> {
    const checks: Record<string, Check> = { database: await this.database() };
    // A process without a worker of its own says how many worker processes are alive. It stays
    // ready with none: it still accepts runs, which wait in the queue for a worker.
    const workers = this.worker ? {} : await this.workersAlive(checks.database);
    if (this.worker) checks.worker = this.worker.loopHealthy(this.clock.now()) ? 'up' : 'down';
    const down = Object.keys(checks).filter((k) => checks[k] !== 'up');
    if (down.length) {
      const message =
        checks.database === 'busy'
          ? 'Database busy: writes are refused'
          : down.includes('database')
            ? 'Database unavailable'
            : 'Worker loop not running';
      throw new AppError(ErrorCode.ServiceUnavailable, message, { checks, ...workers });
    }
    return { status: 'ok', checks, ...workers };
  }

  /** `{workers_alive: n}` for a process without the worker role; nothing when the database cannot say. */
  private async workersAlive(database: Check): Promise<{ workers_alive?: number }> {
    if (database === 'down') return {};
    try {
      return {
        workers_alive: await this.workerRows.countAlive(aliveSince(this.clock.now(), this.config.worker.heartbeatMs)),
      };
    } catch {
      return {};
    }
  }

  private async database(): Promise<Check> {
    if (!(await this.databaseUp())) return 'down';
    try {
      return this.db.writable() ? 'up' : 'busy';
    } catch {
      return 'down';
    }
  }

  private async databaseUp(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.db.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('timeout')), READINESS_TIMEOUT_MS);
        }),
      ]);
      return true;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }
}
