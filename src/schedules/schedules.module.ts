import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { RunsModule } from '../runs/runs.module';
import { Scheduler } from './scheduler';

/** The Scheduler, ticked by @nestjs/schedule: what the scheduler role runs (SchedulerModule). */
@Module({ imports: [ScheduleModule.forRoot(), RunsModule], providers: [Scheduler] })
export class SchedulesModule {}
