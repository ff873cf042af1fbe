import { Module } from '@nestjs/common';
import { ScheduleSync } from './schedule-sync';

@Module({ providers: [ScheduleSync], exports: [ScheduleSync] })
export class SchedulesModule {}
