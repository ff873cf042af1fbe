import { context, propagation, Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { withRouteConfig } from '../http/route-config';

/**
 * Traces (docs/operations.md, Traces). Runloom's code only speaks the OpenTelemetry API: with no
 * SDK started (the default) every span is a no-op. start-tracing.ts starts the SDK when the
 * standard `OTEL_*` variables ask for an exporter.
 */
export const TRACER_NAME = 'runloom';

export const tracer = () => trace.getTracer(TRACER_NAME);

/**
 * Marks a route that starts runs: its request gets a server span, a child of the `traceparent`
 * the caller sent, and the runs it starts are children of that span (one trace per run).
 */
export const Traced = () => withRouteConfig({ traced: true });

const SPAN = Symbol('runloom.requestSpan');
type TracedRequest = FastifyRequest & { [SPAN]?: Span };

function isTraced(request: FastifyRequest): boolean {
  return (request.routeOptions.config as { traced?: unknown } | undefined)?.traced === true;
}

/**
 * preHandler: a {@link Traced} route's handler runs inside its server span. Named by the route
 * template, never the path: webhook paths carry their token.
 */
export function traceRequest(request: FastifyRequest, done: () => void): void {
  if (!isTraced(request)) return done();
  const parent = propagation.extract(context.active(), request.headers);
  const route = request.routeOptions.url ?? 'unknown';
  const span = tracer().startSpan(
    `${request.method} ${route}`,
    {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': request.method, 'http.route': route, 'runloom.request_id': request.id },
    },
    parent,
  );
  (request as TracedRequest)[SPAN] = span;
  context.with(trace.setSpan(parent, span), done);
}

/** onResponse: the server span ends with the status the client got (an error from 500 up). */
export function endRequestSpan(request: FastifyRequest, reply: FastifyReply): void {
  const span = (request as TracedRequest)[SPAN];
  if (!span) return;
  (request as TracedRequest)[SPAN] = undefined;
  span.setAttribute('http.response.status_code', reply.statusCode);
  if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}

/** onRequestAbort: the client went away before the answer; the span ends as such (onResponse may never come). */
export function abortRequestSpan(request: FastifyRequest): void {
  const span = (request as TracedRequest)[SPAN];
  if (!span) return;
  (request as TracedRequest)[SPAN] = undefined;
  span.setAttribute('runloom.request.aborted', true);
  span.end();
}

/**
 * The W3C `traceparent` of the active span (the request's, inside a traced route), for a run to
 * record; null when nothing is being traced.
 */
export function currentTraceParent(): string | null {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent ?? null;
}

/** The context a recorded `traceparent` names, for the spans of the work it started. */
export function contextFrom(traceParent: string | null) {
  return traceParent ? propagation.extract(context.active(), { traceparent: traceParent }) : context.active();
}
