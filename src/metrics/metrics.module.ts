import { Global, Module } from '@nestjs/common';
import { Metrics } from './metrics';

/**
 * Prometheus metrics for operators (docs/operations.md): `Metrics` for modules to record into.
 * `GET /metrics` is served by the api role (MetricsController) or the operations listener.
 */
@Global()
@Module({ providers: [Metrics], exports: [Metrics] })
export class MetricsModule {}
