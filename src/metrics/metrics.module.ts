import { Global, Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller';
import { Metrics } from './metrics';
import { HttpMetricsMiddleware } from './http-metrics.middleware';

/** Prometheus metrics for operators (docs/operations.md): `GET /metrics`, and `Metrics` for modules to record into. */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [Metrics, HttpMetricsMiddleware],
  exports: [Metrics, HttpMetricsMiddleware],
})
export class MetricsModule {}
