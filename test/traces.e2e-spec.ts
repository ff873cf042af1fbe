import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import * as http2 from 'node:http';
import * as net from 'node:net';
import request from 'supertest';
import { createTestApp, scratchDatabase, TestApp } from './utils/app';
import { AppProcess, startProcess } from './utils/processes';
import { TargetServer } from './utils/target-server';
import { waitFor } from './utils/wait';
import { Actor, actor, graph, http, trigger, uniqueName } from './factories/workflow.factory';

/**
 * Traces (docs/operations.md, Traces) with the in-memory exporter: the SDK is registered in this
 * process before the application is built, as start-tracing.ts does for an exporter in production.
 */
describe('traces: one trace per run, a span per node, joined to the request (docs/operations.md)', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  let t: TestApp;
  let target: TargetServer;
  let a: Actor;
  beforeAll(async () => {
    provider.register();
    target = await new TargetServer().start();
    t = await createTestApp({ WORKER_POLL_INTERVAL_MS: '20' });
    a = await actor(t.url);
  });
  afterAll(async () => {
    await t.close();
    await target.stop();
    await provider.shutdown();
    trace.disable();
    propagation.disable();
    context.disable();
  });

  // The caller's own trace: what a client that traces its calls sends.
  const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
  const CALLER_SPAN = '00f067aa0ba902b7';
  const traceparent = `00-${CALLER_TRACE}-${CALLER_SPAN}-01`;

  /** An HTTP node labelled `Call` (templates name nodes by label). */
  const call = (url: string) => {
    const node = http('call', { url });
    return { ...node, data: { ...node.data, label: 'Call' } };
  };

  const threeNodes = (path: string, triggerType = 'Manual') =>
    graph(
      [
        trigger('in', { label: 'In', triggerType }),
        call(`${target.url}${path}`),
        { id: 'check', type: 'condition', data: { label: 'Check', expression: '{{Call.status}} == 200' } },
      ],
      [
        ['in', 'call'],
        ['call', 'check'],
      ],
    );

  async function create(data: unknown) {
    const res = await request(t.url).post('/api/workflows').set(a.auth).send({ name: uniqueName(), data }).expect(201);
    return res.body.workflow as { id: string };
  }

  async function finished(workflowId: string, runId: string) {
    return waitFor(async () => {
      const res = await request(t.url).get(`/api/workflows/${workflowId}/runs/${runId}`).set(a.auth).expect(200);
      return ['succeeded', 'failed', 'canceled'].includes(res.body.run.status) ? res.body.run : undefined;
    }, `run ${runId} to finish`);
  }

  /** The run's span and its children, once the run span has ended (spans are exported as they end). */
  async function spansOf(runId: string) {
    const run = await waitFor(
      () =>
        exporter.getFinishedSpans().find((s) => s.name === 'workflow.run' && s.attributes['runloom.run.id'] === runId),
      `the span of run ${runId}`,
    );
    const id = run.spanContext().spanId;
    const nodes = exporter
      .getFinishedSpans()
      .filter((s) => s.parentSpanContext?.spanId === id)
      .sort((x, y) => Number(x.attributes['runloom.node.sequence']) - Number(y.attributes['runloom.node.sequence']));
    return { run, nodes };
  }

  const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
  const ms = (time: [number, number]) => time[0] * 1000 + time[1] / 1e6;

  it('a run started with a traceparent: request span → run span → one span per node, in the caller’s trace', async () => {
    const wf = await create(threeNodes('/traced'));
    const started = await request(t.url)
      .post(`/api/workflows/${wf.id}/run`)
      .set(a.auth)
      .set('traceparent', traceparent)
      .send({})
      .expect(202);
    const run = await finished(wf.id, started.body.run.id);
    expect(run.status).toBe('succeeded');

    const spans = await spansOf(run.id);
    const server = exporter.getFinishedSpans().find((s) => s.spanContext().spanId === parentOf(spans.run))!;
    expect(server).toBeDefined();
    expect(server.name).toBe('POST /api/workflows/:id/run');
    expect(server.kind).toBe(SpanKind.SERVER);
    expect(server.spanContext().traceId).toBe(CALLER_TRACE);
    expect(parentOf(server)).toBe(CALLER_SPAN);
    expect(server.attributes).toMatchObject({
      'http.route': '/api/workflows/:id/run',
      'http.response.status_code': 202,
    });

    expect(spans.run.spanContext().traceId).toBe(CALLER_TRACE);
    expect(spans.run.attributes).toMatchObject({
      'runloom.run.id': run.id,
      'runloom.workflow.id': wf.id,
      'runloom.workflow.version': 1,
      'runloom.run.attempt': 1,
      'runloom.run.outcome': 'succeeded',
    });
    expect(spans.run.status.code).toBe(SpanStatusCode.OK);

    expect(spans.nodes.map((s) => [s.name, s.attributes['runloom.node.type'], s.status.code])).toEqual([
      ['node In', 'trigger', SpanStatusCode.OK],
      ['node Call', 'actionHttp', SpanStatusCode.OK],
      ['node Check', 'condition', SpanStatusCode.OK],
    ]);
    for (const node of spans.nodes) {
      expect(node.spanContext().traceId).toBe(CALLER_TRACE);
      expect(ms(node.endTime)).toBeGreaterThanOrEqual(ms(node.startTime));
      // Within the run's span.
      expect(ms(node.startTime)).toBeGreaterThanOrEqual(ms(spans.run.startTime) - 1);
      expect(ms(node.endTime)).toBeLessThanOrEqual(ms(spans.run.endTime) + 1);
    }
    // The node run the API reports took as long as its span says.
    const detail = await request(t.url).get(`/api/workflows/${wf.id}/runs/${run.id}`).set(a.auth).expect(200);
    const call = detail.body.node_runs.find((n: { node_id: string }) => n.node_id === 'call');
    expect(ms(spans.nodes[1].endTime) - ms(spans.nodes[1].startTime)).toBeCloseTo(
      Date.parse(call.finished_at) - Date.parse(call.started_at),
      -1,
    );
  });

  it('without a traceparent the request span is the root: still one trace per run', async () => {
    const wf = await create(threeNodes('/untraced'));
    const started = await request(t.url).post(`/api/workflows/${wf.id}/run`).set(a.auth).send({}).expect(202);
    await finished(wf.id, started.body.run.id);
    const spans = await spansOf(started.body.run.id);
    const server = exporter.getFinishedSpans().find((s) => s.spanContext().spanId === parentOf(spans.run))!;
    expect(server.name).toBe('POST /api/workflows/:id/run');
    expect(server.parentSpanContext).toBeUndefined();
    const traceId = server.spanContext().traceId;
    expect([spans.run, ...spans.nodes].every((s) => s.spanContext().traceId === traceId)).toBe(true);
    expect(spans.nodes).toHaveLength(3);
  });

  it('a webhook trigger honours traceparent, and its span is named by the route, never the token', async () => {
    const wf = await create(threeNodes('/hooked', 'Webhook'));
    const { url } = (await request(t.url).get(`/api/workflows/${wf.id}/webhook-url`).set(a.auth).expect(200)).body;
    const token = url.split('/').filter(Boolean).pop();
    const accepted = await request(t.url).post(url).set('traceparent', traceparent).send({ order: 1 }).expect(202);
    const runId = accepted.body.run_id ?? accepted.body.run?.id;
    expect(runId).toEqual(expect.any(String));
    const spans = await spansOf(runId);
    const server = exporter.getFinishedSpans().find((s) => s.spanContext().spanId === parentOf(spans.run))!;
    expect(server.name).toBe('POST /api/workflows/:id/trigger/:token');
    expect(JSON.stringify({ name: server.name, attributes: server.attributes })).not.toContain(token);
    expect(parentOf(server)).toBe(CALLER_SPAN);
    expect(spans.run.spanContext().traceId).toBe(CALLER_TRACE);
    expect(spans.nodes.map((s) => s.name)).toEqual(['node In', 'node Call', 'node Check']);
  });

  it('a run canceled while a node runs: its span still ends, with the outcome canceled', async () => {
    a = await actor(t.url);
    const wf = await create(
      graph([trigger('in', { label: 'In' }), call(`${target.url}/hold/traced-cancel`)], [['in', 'call']]),
    );
    const started = await request(t.url).post(`/api/workflows/${wf.id}/run`).set(a.auth).send({}).expect(202);
    await waitFor(() => target.heldCount('traced-cancel') > 0, 'the held call');
    await request(t.url)
      .post(`/api/workflows/${wf.id}/runs/${started.body.run.id}/cancel`)
      .set(a.auth)
      .send({})
      .expect(200);
    target.release('traced-cancel');
    expect((await finished(wf.id, started.body.run.id)).status).toBe('canceled');
    const spans = await spansOf(started.body.run.id);
    expect(spans.run.attributes['runloom.run.outcome']).toBe('canceled');
    expect(spans.run.status.code).not.toBe(SpanStatusCode.OK);
  });

  it('a failing node: its span and the run span carry the error', async () => {
    a = await actor(t.url); // Solo: three workflows each
    const wf = await create(
      graph([trigger('in', { label: 'In' }), call('http://127.0.0.1:1/refused')], [['in', 'call']]),
    );
    const started = await request(t.url).post(`/api/workflows/${wf.id}/run`).set(a.auth).send({}).expect(202);
    const run = await finished(wf.id, started.body.run.id);
    expect(run.status).toBe('failed');
    const spans = await spansOf(run.id);
    expect(spans.run.status).toEqual({ code: SpanStatusCode.ERROR, message: run.error });
    expect(spans.run.attributes['runloom.run.outcome']).toBe('failed');
    const failed = spans.nodes.find((s) => s.name === 'node Call')!;
    expect(failed.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed.attributes['runloom.node.status']).toBe('failed');
  });
});

/**
 * The standard variables in a real process: `OTEL_TRACES_EXPORTER=otlp` sends the run's span tree
 * over OTLP/HTTP to `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (a collector stand-in on 127.0.0.1).
 */
describe('traces: OTLP export configured by OTEL_* (real process)', () => {
  const bodies: { resourceSpans: OtlpResourceSpans[] }[] = [];
  const collector = http2.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/traces') bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  let app: AppProcess;
  let drop: () => Promise<void>;
  let target: TargetServer;
  beforeAll(async () => {
    target = await new TargetServer().start();
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const db = await scratchDatabase();
    drop = db.drop;
    const port = await freePort();
    app = await startProcess(
      {
        DATABASE_URL: db.url,
        PORT: String(port),
        HOST: '127.0.0.1',
        WORKER_POLL_INTERVAL_MS: '20',
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${(collector.address() as net.AddressInfo).port}/v1/traces`,
        OTEL_SERVICE_NAME: 'runloom-e2e',
        OTEL_BSP_SCHEDULE_DELAY: '50',
      },
      /Runloom listening/,
    );
    baseUrl = `http://127.0.0.1:${port}`;
  });
  let baseUrl: string;
  afterAll(async () => {
    await app?.kill('SIGKILL');
    await drop?.();
    await target.stop();
    await new Promise((resolve) => collector.close(resolve));
  });

  it('a 3-node run reaches the collector as a request span, a run span and three node spans', async () => {
    expect(app.output()).toContain('Traces exported with otlp (OTEL_TRACES_EXPORTER)');
    const a = await actor(baseUrl);
    const data = graph(
      [
        trigger('in', { label: 'In' }),
        http('call', { url: `${target.url}/otlp` }),
        { id: 'check', type: 'condition', data: { label: 'Check', expression: '1 == 1' } },
      ],
      [
        ['in', 'call'],
        ['call', 'check'],
      ],
    );
    const wf = (
      await request(baseUrl).post('/api/workflows').set(a.auth).send({ name: uniqueName(), data }).expect(201)
    ).body.workflow;
    const started = await request(baseUrl)
      .post(`/api/workflows/${wf.id}/run`)
      .set(a.auth)
      .set('traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')
      .send({})
      .expect(202);
    const runId: string = started.body.run.id;

    const spans = await waitFor(() => {
      const all = bodies.flatMap((b) =>
        b.resourceSpans.flatMap((r) =>
          r.scopeSpans.flatMap((s) => s.spans.map((span) => ({ ...span, resource: r.resource }))),
        ),
      );
      const run = all.find(
        (s) =>
          s.name === 'workflow.run' &&
          s.attributes.some((x) => x.key === 'runloom.run.id' && x.value.stringValue === runId),
      );
      const nodes = run ? all.filter((s) => s.parentSpanId === run.spanId) : [];
      return run && nodes.length === 3 ? { all, run, nodes } : undefined;
    }, 'the run span and its three node spans at the collector');

    expect(spans.run.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(spans.run.resource.attributes).toContainEqual({
      key: 'service.name',
      value: { stringValue: 'runloom-e2e' },
    });
    const server = spans.all.find((s) => s.spanId === spans.run.parentSpanId)!;
    expect(server).toMatchObject({ name: 'POST /api/workflows/:id/run', parentSpanId: 'b7ad6b7169203331' });
    expect(spans.nodes.map((s) => s.name).sort()).toEqual(['node Check', 'node HTTP Request', 'node In']);
  });
});

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: { key: string; value: { stringValue?: string } }[];
}
interface OtlpResourceSpans {
  resource: { attributes: { key: string; value: { stringValue?: string } }[] };
  scopeSpans: { spans: OtlpSpan[] }[];
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
