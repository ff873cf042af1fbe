import { Module } from '@nestjs/common';
import { EngineModule } from '../engine/engine.module';
import { PlansModule } from '../plans/plans.module';
import { SchedulesModule } from '../schedules/schedules.module';
import { SecretsModule } from '../secrets/secrets.module';
import { WorkflowAccessModule } from './workflow-access.module';
import { WorkflowsController } from './workflows.controller';
import { WorkflowHistoryListener } from './workflow-history.listener';
import { WorkflowsService } from './workflows.service';

@Module({
  imports: [PlansModule, SecretsModule, SchedulesModule, WorkflowAccessModule, EngineModule],
  controllers: [WorkflowsController],
  providers: [WorkflowsService, WorkflowHistoryListener],
  exports: [WorkflowsService],
})
export class WorkflowsModule {}
