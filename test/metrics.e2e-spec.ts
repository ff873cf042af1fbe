import { EventSource } from 'eventsource';
import { readFileSync } from 'node:fs';
import request from 'supertest';
import { RunWorker } from '../src/runs/run-worker';
import { createTestApp, TestApp } from './utils/app';
import { TargetServer } from './utils/target-server';
import { waitFor } from './utils/wait';
import { actor, createWorkflow, graph, trigger, upgrade } from './factories/workflow.factory';

/** The value of one sample of the Prometheus text, e.g. `runloom_runs{status="succeeded"}`; undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-z_:]+)(?:\{(.*)\})? ([0-9.e+-]+|NaN)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const has = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => has[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe('operations: Prometheus metrics and readiness (issue 11)', () => {
  let t: TestApp;
  let target: TargetServer;
  beforeAll(async () => {
    target = await new TargetServer().start();
    t = await createTestApp();
  });
  afterAll(async () => {
    await target.stop();
    await t.close();
  });

  const scrape = async () =>
    (
      await request(t.url)
        .get('/metrics')
        .expect(200)
        .expect('content-type', /text\/plain/)
    ).text;

  it('counts requests by route template, runs by status, queue→start, egress blocks and open streams', async () => {
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const call = (id: string) => ({
      id,
      type: 'actionHttp',
      data: { label: id, actionType: 'http', params: { url: `${target.url}/metrics-${id}`, method: 'GET' } },
    });
    const ok = await createWorkflow(t.url, owner, graph([trigger(), call('ok')], [['trigger-1', 'ok']]), ws);
    const blocked = await createWorkflow(t.url, owner, graph([trigger(), call('no')], [['trigger-1', 'no']]), ws);
    await request(t.url)
      .post(`/api/workflows/${blocked.id}/egress`)
      .set(owner.auth)
      .send({ allowlist: ['api.example.com'] })
      .expect(200);
    const runs = [
      (await request(t.url).post(`/api/workflows/${ok.id}/run`).set(owner.auth).send({}).expect(202)).body.run,
      (await request(t.url).post(`/api/workflows/${blocked.id}/run`).set(owner.auth).send({}).expect(202)).body.run,
    ];
    for (const [run, wf] of [
      [runs[0], ok],
      [runs[1], blocked],
    ] as const) {
      await waitFor(
        async () =>
          ['succeeded', 'failed'].includes(
            (await request(t.url).get(`/api/workflows/${wf.id}/runs/${run.id}`).set(owner.auth)).body.run.status,
          ),
        'the run to finish',
      );
    }

    const text = await scrape();
    expect(
      sample(text, 'runloom_http_request_duration_seconds_count', {
        route: '/api/workflows/:id/run',
        method: 'POST',
        status_code: '202',
      }),
    ).toBe(2);
    expect(sample(text, 'runloom_runs', { status: 'succeeded' })).toBe(1);
    expect(sample(text, 'runloom_runs', { status: 'failed' })).toBe(1);
    expect(sample(text, 'runloom_runs_finished_total', { status: 'succeeded' })).toBe(1);
    expect(sample(text, 'runloom_queue_depth')).toBe(0);
    expect(sample(text, 'runloom_run_queue_to_start_seconds_count')).toBe(2);
    expect(sample(text, 'runloom_egress_blocks_total', { rule: 'allowlist_miss' })).toBe(1);
    // The default collectors under their standard names, and which build answers.
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(sample(text, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(text).not.toMatch(/^runloom_(process|nodejs)_/m);
    const version = (JSON.parse(readFileSync(`${__dirname}/../package.json`, 'utf8')) as { version: string }).version;
    expect(sample(text, 'runloom_build_info', { version, node_version: process.version })).toBe(1);
    // No raw ids in labels: routes are templates.
    expect(text).not.toContain(ok.id);

    const cookie = `dsentr_session=${owner.auth.Authorization.slice('Bearer '.length)}`;
    const source = new EventSource(`${t.url}/api/workflows/runs/events`, {
      fetch: (input, init) =>
        fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), cookie } }),
    });
    try {
      await waitFor(async () => sample(await scrape(), 'runloom_sse_connections') === 1, 'the stream to count');
    } finally {
      source.close();
    }
    await waitFor(async () => sample(await scrape(), 'runloom_sse_connections') === 0, 'the closed stream to uncount');
  });

  it('readiness reports the worker loop: down once it stops', async () => {
    expect((await request(t.url).get('/readyz').expect(200)).body.checks).toEqual({ database: 'up', worker: 'up' });
    await t.app.get(RunWorker).stop();
    const res = await request(t.url).get('/readyz').expect(503);
    expect(res.body).toMatchObject({
      code: 'service_unavailable',
      message: 'Worker loop not running',
      checks: { database: 'up', worker: 'down' },
    });
  });
});

describe('metrics behind METRICS_TOKEN', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ METRICS_TOKEN: 'scrape-token-0123456789' });
  });
  afterAll(() => t.close());

  it('refuses a scraper without the token, in the envelope', async () => {
    const res = await request(t.url).get('/metrics').expect(401);
    expect(res.body.code).toBe('unauthorized');
    await request(t.url).get('/metrics').set('Authorization', 'Bearer wrong-token-0123456789').expect(401);
    const ok = await request(t.url).get('/metrics').set('Authorization', 'Bearer scrape-token-0123456789').expect(200);
    expect(ok.text).toContain('runloom_queue_depth');
  });
});
