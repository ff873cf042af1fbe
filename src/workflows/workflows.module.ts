import { Module } from '@nestjs/common';
import { EngineModule } from '../engine/engine.module';
import { PlansModule } from '../plans/plans.module';
import { SecretsModule } from '../secrets/secrets.module';
import { ScheduleSync } from './schedule-sync';
import { WorkflowAccessModule } from './workflow-access.module';
import { WorkflowHistoryListener } from './workflow-history.listener';
import { WorkflowVersionsService } from './workflow-versions.service';
import { WorkflowsService } from './workflows.service';

@Module({
  imports: [PlansModule, SecretsModule, WorkflowAccessModule, EngineModule],
  providers: [WorkflowsService, WorkflowVersionsService, WorkflowHistoryListener, ScheduleSync],
  exports: [WorkflowsService, WorkflowVersionsService],
})
export class WorkflowsModule {}
