import { Module } from '@nestjs/common';
import { SecretsModule } from '../secrets/secrets.module';
import { WorkflowAccessModule } from '../workflows/workflow-access.module';
import { PgEventRelay } from './pg-event-relay';
import { RunStreamsService } from './run-streams.service';
import { StreamsController } from './streams.controller';

/**
 * The event bridge and the SSE controllers. WorkflowsService is resolved at run time (ModuleRef)
 * rather than imported: importing WorkflowsModule here would register its `/:id` routes before
 * the static `/runs…` routes of the runs module.
 */
@Module({
  imports: [SecretsModule, WorkflowAccessModule],
  controllers: [StreamsController],
  providers: [RunStreamsService, PgEventRelay],
})
export class EventsModule {}
