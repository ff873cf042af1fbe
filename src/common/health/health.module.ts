import { Module } from '@nestjs/common';
import { HealthController } from './health.controller';
import { OpsServer } from './ops-server';
import { WorkerHeartbeat } from './worker-heartbeat';

@Module({ controllers: [HealthController], providers: [OpsServer, WorkerHeartbeat] })
export class HealthModule {}
