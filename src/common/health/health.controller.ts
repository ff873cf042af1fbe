import { Controller, Get } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import {
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { ErrorEnvelopeDto } from '../http/openapi';
import { Public } from '../auth/decorators';
import { AppError, ErrorCode } from '../errors/app-error';
import { AppConfig } from '../../config/app-config';
import { Db } from '../../database/db.service';
import { aliveSince, WorkerRepository } from '../../database/repositories/worker.repository';
import { RunWorker } from '../../runs/run-worker';
import { Clock } from '../clock';

const READINESS_TIMEOUT_MS = 2_000;

/** `busy`: the database answers reads but refuses writes (another connection holds the SQLite write lock). */
type Check = 'up' | 'down' | 'busy';

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

/**
 * Liveness says the process answers; readiness says it can do work: the database answers and takes
 * writes and, in a process with the worker role, the claim loop is going round.
 */
@ApiTags('health')
@Controller()
export class HealthController {
  constructor(
    private readonly db: Db,
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly moduleRef: ModuleRef,
    private readonly workerRows: WorkerRepository,
  ) {}

  @Public()
  @Get('healthz')
  @ApiOkResponse({ type: HealthResponse })
  @ApiOperation({ summary: 'Liveness check' })
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
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
  async readyz(): Promise<{ status: 'ok'; checks: Record<string, Check>; workers_alive?: number }> {
    const checks: Record<string, Check> = { database: await this.database() };
    // An api process without a worker of its own says how many worker processes are alive. It
    // stays ready with none: it still accepts runs, which wait in the queue for a worker.
    const workers = this.config.roles.has('worker') ? {} : await this.workersAlive(checks.database);
    if (this.config.roles.has('worker')) {
      // Looked up, not injected: the worker lives in the runs module, which depends on this one's siblings.
      const worker = this.moduleRef.get(RunWorker, { strict: false });
      checks.worker = worker.loopHealthy(this.clock.now()) ? 'up' : 'down';
    }
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
