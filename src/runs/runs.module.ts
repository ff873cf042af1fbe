import { Module, OnModuleInit } from '@nestjs/common';
import { Retention } from '../common/retention';
import { AppConfig } from '../config/app-config';
import { RunRepository } from '../database/repositories/run.repository';
import { EngineModule } from '../engine/engine.module';
import { PlansModule } from '../plans/plans.module';
import { SecretsModule } from '../secrets/secrets.module';
import { WorkflowAccessModule } from '../workflows/workflow-access.module';
import { AdminRunsService } from './admin-runs.service';
import { RunLauncher } from './run-launcher';
import { RunLifecycleLog } from './run-lifecycle-log';
import { RunsService } from './runs.service';

@Module({
  imports: [PlansModule, SecretsModule, EngineModule, WorkflowAccessModule],
  // RunWorker and its journals are the worker role's (WorkerModule).
  providers: [RunsService, RunLauncher, AdminRunsService, RunLifecycleLog],
  exports: [RunsService, RunLauncher, AdminRunsService],
})
export class RunsModule implements OnModuleInit {
  constructor(
    private readonly retention: Retention,
    private readonly runs: RunRepository,
    private readonly config: AppConfig,
  ) {}

  /** Finished runs (with their node runs) older than RUN_RETENTION_DAYS; 0 keeps them. */
  onModuleInit(): void {
    this.retention.register({
      name: 'runs',
      prune: async (now) => {
        const days = this.config.runs.retentionDays;
        return days > 0 ? this.runs.purgeFinishedBefore(new Date(now.getTime() - days * 86_400_000)) : 0;
      },
    });
  }
}
