import { Module } from '@nestjs/common';
import { SecretsModule } from '../secrets/secrets.module';
import { WorkflowAccessModule } from '../workflows/workflow-access.module';
import { WorkflowsModule } from '../workflows/workflows.module';
import { PgEventRelay } from './pg-event-relay';
import { RunStreamsService } from './run-streams.service';

/** The event bridge, and the live streams the SSE routes (StreamsController, in ApiModule) serve. */
@Module({
  imports: [SecretsModule, WorkflowAccessModule, WorkflowsModule],
  providers: [RunStreamsService, PgEventRelay],
  exports: [RunStreamsService],
})
export class EventsModule {}
