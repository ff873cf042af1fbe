import { Module } from '@nestjs/common';
import { EngineModule } from '../engine/engine.module';
import { PlansModule } from '../plans/plans.module';
import { SecretsModule } from '../secrets/secrets.module';
import { WorkflowAccessModule } from '../workflows/workflow-access.module';
import { AdminRunsController } from './admin-runs.controller';
import { AdminRunsService } from './admin-runs.service';
import { RunJournals } from './run-journals';
import { RunLifecycleLog } from './run-lifecycle-log';
import { RunWorker } from './run-worker';
import { RunsController } from './runs.controller';
import { RunsService } from './runs.service';

@Module({
  imports: [PlansModule, SecretsModule, EngineModule, WorkflowAccessModule],
  controllers: [RunsController, AdminRunsController],
  providers: [RunsService, RunWorker, RunJournals, AdminRunsService, RunLifecycleLog],
  exports: [RunsService, RunWorker],
})
export class RunsModule {}
