import { Module } from '@nestjs/common';
import { MonitorController } from './monitor.controller';

/** The live run page at /monitor (docs/operations.md). */
@Module({ controllers: [MonitorController] })
export class MonitorModule {}
