import { Module } from '@nestjs/common';
import { HeartbeatModule } from './health/health.module';
import { SchedulesModule } from './schedules/schedules.module';

/** The scheduler role (docs/architecture.md, Roles): fires due schedules, and heartbeats like a worker. */
@Module({ imports: [SchedulesModule, HeartbeatModule] })
export class SchedulerModule {}
