import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ConsoleSpanExporter, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

/** The exporters `OTEL_TRACES_EXPORTER` may name (AppConfig.traceExporters). */
const EXPORTERS: Record<'otlp' | 'console', () => SpanExporter> = {
  // Endpoint, headers, timeout and compression from OTEL_EXPORTER_OTLP_(TRACES_)* as the spec says.
  otlp: () => new OTLPTraceExporter(),
  console: () => new ConsoleSpanExporter(),
};

let active: NodeTracerProvider | null = null;

/**
 * Starts the OpenTelemetry SDK with the exporters the configuration names (`OTEL_TRACES_EXPORTER`;
 * none by default: every span is then a no-op). The SDK reads the rest of the standard variables:
 * `OTEL_SERVICE_NAME` (default `runloom`) and `OTEL_RESOURCE_ATTRIBUTES`, the sampler
 * (`OTEL_TRACES_SAMPLER(_ARG)`), batching (`OTEL_BSP_*`) and the OTLP endpoint and headers.
 * Called once, before the application is built.
 */
export function startTracing(exporters: readonly ('otlp' | 'console')[]): boolean {
  if (active || !exporters.length) return !!active;
  const resource = resourceFromAttributes({ 'service.name': 'runloom' }).merge(
    detectResources({ detectors: [envDetector] }),
  );
  active = new NodeTracerProvider({
    resource,
    spanProcessors: exporters.map((name) => new BatchSpanProcessor(EXPORTERS[name]())),
  });
  active.register();
  return true;
}

/** Flushes and stops the SDK, if it was started: the spans of the runs a shutdown ended are sent. */
@Injectable()
export class TracingShutdown implements OnApplicationShutdown {
  async onApplicationShutdown(): Promise<void> {
    const provider = active;
    active = null;
    await provider?.shutdown();
  }
}
