import { EventEmitter2 } from '@nestjs/event-emitter';
import { __resetOutOfContextForTests } from 'nestjs-pino/PinoLogger';
import request from 'supertest';
import { createTestApp, TestApp } from './utils/app';
import { AppProcess, startWorker } from './utils/processes';
import { TargetServer } from './utils/target-server';
import { waitFor } from './utils/wait';
import { Actor, actor, createWorkflow, graph, trigger, upgrade } from './factories/workflow.factory';

// The lifecycle lines (docs/operations.md, Logs): one per run transition, with ids, duration,
// reason and the id of the request that started the run.

type Line = Record<string, unknown> & { level: number; msg: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SECRET = 'lifecycle-canary-0123456789';

function parsed(lines: string[]): Line[] {
  return lines.flatMap((text) => {
    try {
      return [JSON.parse(text) as Line];
    } catch {
      return [];
    }
  });
}

/**
 * A test app whose lines outside requests reach its own `logs`: nestjs-pino keeps one such logger
 * per process, made by the first app, so a later app in the same file would log into the first's.
 */
function freshApp(env: Record<string, string>): Promise<TestApp> {
  __resetOutOfContextForTests();
  return createTestApp(env);
}

const runLines = (lines: string[], runId: string) => parsed(lines).filter((l) => l.run_id === runId);
const eventsOf = (lines: Line[]) => lines.map((l) => l.event);

async function finished(t: TestApp, a: Actor, workflowId: string, runId: string): Promise<{ status: string }> {
  return waitFor(async () => {
    const res = await request(t.url).get(`/api/workflows/${workflowId}/runs/${runId}`).set(a.auth).expect(200);
    return ['succeeded', 'failed', 'canceled'].includes(res.body.run.status) ? res.body.run : undefined;
  }, `run ${runId} to finish`);
}

describe('run lifecycle log lines', () => {
  let t: TestApp;
  let target: TargetServer;
  let owner: Actor;
  let ws: string;
  beforeAll(async () => {
    target = await new TargetServer().start();
    t = await freshApp({ WORKER_POLL_INTERVAL_MS: '20' });
    owner = await actor(t.url);
    ws = await upgrade(t.url, owner);
    await request(t.url)
      .put('/api/options/secrets/http/bearer_token/canary')
      .set(owner.auth)
      .send({ value: SECRET })
      .expect(200);
  });
  afterAll(async () => {
    await target.stop();
    await t.close();
  });

  it('a manual run: queued, started, succeeded, with ids, durations and the starting request id', async () => {
    const wf = await createWorkflow(t.url, owner, graph([trigger()]), ws);
    const started = await request(t.url)
      .post(`/api/workflows/${wf.id}/run`)
      .set(owner.auth)
      .set('x-request-id', 'manual-run.42')
      .send({})
      .expect(202);
    expect(started.headers['x-request-id']).toBe('manual-run.42');
    const run = started.body.run;
    expect(await finished(t, owner, wf.id, run.id)).toMatchObject({ status: 'succeeded' });

    const lines = await waitFor(() => {
      const found = runLines(t.logs, run.id);
      return found.some((l) => l.event === 'run.succeeded') ? found : undefined;
    }, 'the succeeded line');
    expect(eventsOf(lines)).toEqual(['run.queued', 'run.started', 'run.succeeded']);
    for (const line of lines) {
      expect(line).toMatchObject({
        level: 30,
        workflow_id: wf.id,
        workspace_id: ws,
        trigger: 'manual',
        triggered_by: `user:${owner.userId}`,
        request_id: 'manual-run.42',
      });
    }
    const [queued, running, succeeded] = lines;
    expect(queued).toMatchObject({ msg: 'run queued', status: 'queued' });
    expect(queued.duration_ms).toBeUndefined();
    expect(running).toMatchObject({ msg: 'run started', status: 'running', attempt: 1 });
    expect(succeeded).toMatchObject({ msg: 'run succeeded', status: 'succeeded' });
    for (const line of [running, succeeded]) expect(line.duration_ms).toEqual(expect.any(Number));
    expect(succeeded.reason).toBeUndefined();
  });

  it('a failed run: a warning with the error as the reason, the secret in it masked', async () => {
    const data = graph(
      [
        trigger(),
        {
          id: 'boom',
          type: 'actionCode',
          data: {
            label: 'Boom',
            actionType: 'code',
            params: {
              code: 'throw new Error("upstream refused " + inputs.k);',
              inputs: [{ key: 'k', value: 'http:bearer_token:canary' }],
            },
          },
        },
      ],
      [['trigger-1', 'boom']],
    );
    const wf = await createWorkflow(t.url, owner, data, ws);
    const started = await request(t.url).post(`/api/workflows/${wf.id}/run`).set(owner.auth).send({}).expect(202);
    // No x-request-id sent: the generated one is echoed, and carried into the run.
    const requestId = started.headers['x-request-id'];
    expect(requestId).toMatch(UUID);
    expect(await finished(t, owner, wf.id, started.body.run.id)).toMatchObject({ status: 'failed' });

    const failed = await waitFor(
      () => runLines(t.logs, started.body.run.id).find((l) => l.event === 'run.failed'),
      'the failed line',
    );
    expect(failed).toMatchObject({ level: 40, msg: 'run failed', status: 'failed', request_id: requestId });
    expect(failed.reason).toContain('upstream refused');
    expect(failed.reason).toContain('********');
    expect(JSON.stringify(t.logs)).not.toContain(SECRET);
  });

  it('a canceled run: one line, from the cancel, naming who canceled it', async () => {
    const data = graph(
      [
        trigger(),
        {
          id: 'hold',
          type: 'actionHttp',
          data: { label: 'Hold', actionType: 'http', params: { url: `${target.url}/hold/cancel`, method: 'GET' } },
        },
      ],
      [['trigger-1', 'hold']],
    );
    const wf = await createWorkflow(t.url, owner, data, ws);
    const run = (await request(t.url).post(`/api/workflows/${wf.id}/run`).set(owner.auth).send({}).expect(202)).body
      .run;
    await waitFor(() => target.heldCount('cancel') === 1, 'the run to be held');
    await request(t.url).post(`/api/workflows/${wf.id}/runs/${run.id}/cancel`).set(owner.auth).expect(200);
    await waitFor(() => target.heldCount('cancel') === 0, 'the worker to stop the call');

    const lines = runLines(t.logs, run.id);
    expect(eventsOf(lines)).toEqual(['run.queued', 'run.started', 'run.canceled']);
    expect(lines[2]).toMatchObject({
      level: 30,
      msg: 'run canceled',
      reason: `canceled by user:${owner.userId}`,
      duration_ms: expect.any(Number),
    });
  });

  it("a webhook run carries the webhook request's id; a hostile x-request-id is replaced", async () => {
    const wf = await createWorkflow(
      t.url,
      owner,
      graph([trigger('hook', { label: 'Hook', triggerType: 'Webhook' })]),
      ws,
    );
    const url = (await request(t.url).get(`/api/workflows/${wf.id}/webhook-url`).set(owner.auth).expect(200)).body
      .url as string;

    const sane = await request(t.url).post(url).set('x-request-id', 'hook-7f3a').send({ a: 1 }).expect(202);
    expect(sane.headers['x-request-id']).toBe('hook-7f3a');
    const hostile = 'x" "level":60 <script>'.padEnd(80, '!');
    const refused = await request(t.url).post(url).set('x-request-id', hostile).send({ a: 2 }).expect(202);
    const generated = refused.headers['x-request-id'];
    expect(generated).toMatch(UUID);

    for (const [response, id] of [
      [sane, 'hook-7f3a'],
      [refused, generated],
    ] as const) {
      const lines = await waitFor(() => {
        const found = runLines(t.logs, response.body.run.id);
        return found.some((l) => l.event === 'run.succeeded') ? found : undefined;
      }, 'the webhook run to succeed');
      expect(eventsOf(lines)).toEqual(['run.queued', 'run.started', 'run.succeeded']);
      for (const line of lines) expect(line).toMatchObject({ trigger: 'webhook', request_id: id });
    }
    expect(t.logs.join('\n')).not.toContain('<script>');
  });

  it('a rerun is logged as one, with the request that asked for it', async () => {
    const wf = await createWorkflow(t.url, owner, graph([trigger()]), ws);
    const base = (await request(t.url).post(`/api/workflows/${wf.id}/run`).set(owner.auth).send({}).expect(202)).body
      .run;
    await finished(t, owner, wf.id, base.id);
    const rerun = await request(t.url)
      .post(`/api/workflows/${wf.id}/runs/${base.id}/rerun`)
      .set(owner.auth)
      .set('x-request-id', 'rerun-1')
      .send({})
      .expect(202);
    await finished(t, owner, wf.id, rerun.body.run.id);
    const line = await waitFor(
      () => runLines(t.logs, rerun.body.run.id).find((l) => l.event === 'run.succeeded'),
      'the rerun to succeed',
    );
    expect(line).toMatchObject({ trigger: 'rerun', triggered_by: `rerun:${base.id}`, request_id: 'rerun-1' });
  });
});

describe('schedule firings in the log', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await freshApp({
      WORKER_POLL_INTERVAL_MS: '20',
      SCHEDULER_TICK_MS: '200',
      SCHEDULE_MIN_INTERVAL_SECONDS: '1',
    });
  });
  afterAll(() => t.close());

  it('one line per firing with the run it queued and the next time; a one-shot logs that it turned off', async () => {
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const minute = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
    const iso = new Date(minute).toISOString();
    const scheduleConfig = { startDate: iso.slice(0, 10), startTime: iso.slice(11, 16), timezone: 'UTC' };
    const data = graph([trigger('schedule-1', { label: 'Once', triggerType: 'Schedule', scheduleConfig })]);
    const wf = await createWorkflow(t.url, owner, data, ws);

    const fired = await waitFor(
      () => parsed(t.logs).find((l) => l.event === 'schedule.fired' && l.workflow_id === wf.id),
      'the firing line',
    );
    expect(fired).toMatchObject({
      level: 30,
      msg: 'schedule fired',
      schedule_id: expect.any(String),
      run_id: expect.stringMatching(UUID),
      due_at: iso,
      next_run_at: null,
    });
    // Fired by the scheduler, not as part of the request that saved the workflow.
    expect(fired.req).toBeUndefined();
    const disabled = parsed(t.logs).find((l) => l.event === 'schedule.disabled' && l.workflow_id === wf.id);
    expect(disabled).toMatchObject({
      level: 40,
      schedule_id: fired.schedule_id,
      reason: 'The schedule has no further runs',
    });
    const queued = await waitFor(
      () => runLines(t.logs, fired.run_id as string).find((l) => l.event === 'run.queued'),
      'the scheduled run queued line',
    );
    expect(queued).toMatchObject({
      trigger: 'schedule',
      triggered_by: `schedule:${fired.schedule_id as string}`,
      request_id: null,
    });
    expect(queued.req).toBeUndefined();
  });
});

// Each process logs the transitions it made: on PostgreSQL the API process hears the worker's
// events through the relay but does not log them again.
const onPostgres = process.env.TEST_DATABASE_URL ? describe : describe.skip;
jest.setTimeout(120_000);

onPostgres('separate API and worker processes', () => {
  let t: TestApp;
  let worker: AppProcess | undefined;
  beforeAll(async () => {
    t = await freshApp({ RUNLOOM_ROLES: 'api' });
  });
  afterAll(async () => {
    await worker?.kill('SIGKILL');
    await t.close();
  });

  it('the API logs queued, the worker logs started and succeeded, both with the request id', async () => {
    worker = await startWorker(t.databaseUrl);
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const wf = await createWorkflow(t.url, owner, graph([trigger()]), ws);
    const relayed = new Set<string>();
    t.app.get(EventEmitter2).on('run.finished', (e: { runId: string }) => relayed.add(e.runId));
    const run = (
      await request(t.url)
        .post(`/api/workflows/${wf.id}/run`)
        .set(owner.auth)
        .set('x-request-id', 'across-processes')
        .send({})
        .expect(202)
    ).body.run;
    await finished(t, owner, wf.id, run.id);
    const workerLines = await waitFor(() => {
      const found = runLines(worker!.output().split('\n'), run.id);
      return found.some((l) => l.event === 'run.succeeded') ? found : undefined;
    }, 'the worker process to log the run');
    expect(eventsOf(workerLines)).toEqual(['run.started', 'run.succeeded']);
    for (const line of workerLines) expect(line.request_id).toBe('across-processes');
    // The API process heard the worker's events (for its streams) and logged only its own transition.
    await waitFor(() => relayed.has(run.id), "the worker's run.finished in the API process");
    expect(eventsOf(runLines(t.logs, run.id))).toEqual(['run.queued']);
    expect(runLines(t.logs, run.id)[0].request_id).toBe('across-processes');
  });
});
