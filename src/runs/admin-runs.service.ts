import { AppError, ErrorCode } from '../common/errors/app-error';
import { Injectable, Logger } from '@nestjs/common';
import { AuthPrincipal } from '../common/auth/principal';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { RunRepository } from '../database/repositories/run.repository';
import { PurgeRunsDto, PurgeRunsResponse } from './admin-runs.dto';

const DAY_MS = 86_400_000;
/** When RUN_RETENTION_DAYS is 0 (keep runs forever), a purge without `days` still needs a cut-off. */
const DEFAULT_PURGE_DAYS = 30;

/** What application admins do to runs across every tenant. */
@Injectable()
export class AdminRunsService {
  private readonly logger = new Logger('AdminRuns');

  constructor(
    private readonly runs: RunRepository,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  /**
   * Deletes finished runs (succeeded, failed, canceled) created more than `days` days ago, in every
   * workspace, as the retention sweep does; queued and running runs are never touched.
   */
  async purge(caller: AuthPrincipal, dto: PurgeRunsDto | undefined): Promise<PurgeRunsResponse> {
    // Deleting every tenant's history takes a signed-in admin, not a key that may sit in a script.
    if (caller.method === 'api_key')
      throw new AppError(ErrorCode.Forbidden, 'API keys cannot purge runs; sign in to do it.');
    const days = dto?.days ?? (this.config.runs.retentionDays || DEFAULT_PURGE_DAYS);
    const deleted = await this.runs.purgeFinishedBefore(new Date(this.clock.now().getTime() - days * DAY_MS));
    this.logger.log({ adminId: caller.userId, days, deleted }, 'admin purged finished runs');
    return { success: true, deleted, days };
  }
}
