import { Module } from '@nestjs/common';
import { RunsModule } from '../runs/runs.module';
import { ScheduleSync } from './schedule-sync';
import { Scheduler } from './scheduler';

@Module({ imports: [RunsModule], providers: [ScheduleSync, Scheduler], exports: [ScheduleSync] })
export class SchedulesModule {}
