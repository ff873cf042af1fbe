import { Module } from '@nestjs/common';
import { HealthService } from './health.service';
import { OpsServer } from './ops-server';
import { WorkerHeartbeat } from './worker-heartbeat';

/** Liveness and readiness, for the api's routes (HealthController, in ApiModule) and the operations listener. */
@Module({ providers: [HealthService], exports: [HealthService] })
export class HealthModule {}

/** `/healthz`, `/readyz` and `/metrics` on OPS_PORT: what a process without the api role serves. */
@Module({ imports: [HealthModule], providers: [OpsServer] })
export class OpsModule {}

/** The `workers` row of a process that works for the others; the worker and scheduler roles import it (one per process). */
@Module({ providers: [WorkerHeartbeat] })
export class HeartbeatModule {}
