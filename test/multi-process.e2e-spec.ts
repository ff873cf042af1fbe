import { EventSource } from 'eventsource';
import request from 'supertest';
import { createTestApp, TestApp } from './utils/app';
import { Db } from '../src/database/db.service';
import { AppProcess, startProcess, startWorker } from './utils/processes';
import { TargetServer } from './utils/target-server';
import { waitFor } from './utils/wait';
import { actor, createWorkflow, graph, trigger, uniqueName, upgrade } from './factories/workflow.factory';

// Several processes sharing one database is the PostgreSQL deployment (docs/operations.md "Roles").
const onPostgres = process.env.TEST_DATABASE_URL ? describe : describe.skip;
jest.setTimeout(120_000);

const hold = (id: string, key: string, url: string) => ({
  id,
  type: 'actionHttp',
  data: { label: id, actionType: 'http', params: { url: `${url}/hold/${key}`, method: 'GET' }, timeout: 60_000 },
});
const call = (id: string, path: string, url: string) => ({
  id,
  type: 'actionHttp',
  data: { label: id, actionType: 'http', params: { url: `${url}${path}`, method: 'GET' } },
});

onPostgres('separate API and worker processes on PostgreSQL', () => {
  let t: TestApp;
  let target: TargetServer;
  const workers: AppProcess[] = [];
  beforeAll(async () => {
    target = await new TargetServer().start();
    t = await createTestApp({ RUNLOOM_ROLES: 'api' });
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill('SIGKILL')));
    await target.stop();
    await t.close();
  });

  async function setup(data: unknown, concurrency?: number) {
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const wf = (
      await request(t.url)
        .post('/api/workflows')
        .set(owner.auth)
        .send({ name: uniqueName(), data, workspace_id: ws })
        .expect(201)
    ).body.workflow;
    if (concurrency)
      await request(t.url)
        .post(`/api/workflows/${wf.id}/concurrency`)
        .set(owner.auth)
        .send({ limit: concurrency })
        .expect(200);
    return { owner, wf };
  }

  it('two worker processes never run more than the workflow concurrency limit', async () => {
    workers.push(await startWorker(t.databaseUrl), await startWorker(t.databaseUrl));
    const { owner, wf } = await setup(graph([trigger(), hold('h', 'limit', target.url)], [['trigger-1', 'h']]), 2);
    const runIds: string[] = [];
    for (let i = 0; i < 8; i += 1)
      runIds.push((await request(t.url).post(`/api/workflows/${wf.id}/run`).set(owner.auth).expect(202)).body.run.id);
    for (let released = 0; released < 8;) {
      await waitFor(() => target.heldCount('limit') === Math.min(2, 8 - released), 'the next runs to be held');
      // Give a third claim every chance to appear before releasing (measured, not assumed).
      const active = await request(t.url).get(`/api/workflows/runs?workflow_id=${wf.id}`).set(owner.auth).expect(200);
      expect(active.body.runs.filter((r: { status: string }) => r.status === 'running').length).toBeLessThanOrEqual(2);
      released += target.release('limit');
    }
    for (const id of runIds) {
      await waitFor(
        async () =>
          (await request(t.url).get(`/api/workflows/${wf.id}/runs/${id}`).set(owner.auth)).body.run.status ===
          'succeeded',
        `run ${id}`,
      );
    }
    expect(target.maxInFlight).toBe(2);
    await Promise.all(workers.splice(0).map((w) => w.kill('SIGTERM')));
  });

  it('two worker processes never run more of one concurrency group than its key limit', async () => {
    workers.push(await startWorker(t.databaseUrl), await startWorker(t.databaseUrl));
    const { owner, wf } = await setup(
      graph(
        [trigger('trigger-1', { label: 'Hook' }), hold('h', 'group-{{Hook.customer}}', target.url)],
        [['trigger-1', 'h']],
      ),
      6,
    );
    await request(t.url)
      .post(`/api/workflows/${wf.id}/concurrency`)
      .set(owner.auth)
      .send({ key: '{{Hook.customer}}', key_limit: 2 })
      .expect(200);
    const customers = ['a', 'b'];
    const started = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        request(t.url)
          .post(`/api/workflows/${wf.id}/run`)
          .set(owner.auth)
          .send({ context: { customer: customers[i % 2] } })
          .expect(202),
      ),
    );
    const left = new Map(customers.map((c) => [c, 6]));
    while ([...left.values()].some((n) => n > 0)) {
      await waitFor(
        () =>
          customers.some((c) => target.heldCount(`group-${c}`) > 2) ||
          customers.every((c) => target.heldCount(`group-${c}`) === Math.min(2, left.get(c)!)),
        'the next runs of each group to be held',
      );
      for (const c of customers) expect(target.heldCount(`group-${c}`)).toBeLessThanOrEqual(2);
      for (const c of customers) left.set(c, left.get(c)! - target.release(`group-${c}`));
    }
    for (const res of started) {
      await waitFor(
        async () =>
          (await request(t.url).get(`/api/workflows/${wf.id}/runs/${res.body.run.id}`).set(owner.auth)).body.run
            .status === 'succeeded',
        `run ${res.body.run.id}`,
      );
    }
    for (const c of customers) expect(target.maxHeld.get(`group-${c}`)).toBe(2);
    await Promise.all(workers.splice(0).map((w) => w.kill('SIGTERM')));
  });

  it('a worker killed with SIGKILL mid-run: another worker finishes it from the checkpoint', async () => {
    const env = { WORKER_LEASE_SECONDS: '2', WORKER_HEARTBEAT_INTERVAL_MS: '200' };
    const first = await startWorker(t.databaseUrl, env);
    workers.push(first);
    const { owner, wf } = await setup(
      graph(
        [
          trigger(),
          call('one', '/crash/one', target.url),
          hold('two', 'crash', target.url),
          call('three', '/crash/three', target.url),
        ],
        [
          ['trigger-1', 'one'],
          ['one', 'two'],
          ['two', 'three'],
        ],
      ),
    );
    const run = (await request(t.url).post(`/api/workflows/${wf.id}/run`).set(owner.auth).expect(202)).body.run;
    await waitFor(() => target.heldCount('crash') === 1, 'the first worker to reach node two');
    expect(await first.kill('SIGKILL')).toBe('SIGKILL');

    const second = await startWorker(t.databaseUrl, env);
    workers.push(second);
    // The lease runs out, the run goes back to the queue, the second worker resumes at node two.
    await waitFor(() => target.heldCount('crash') === 1, 'the second worker to reach node two', 30_000);
    target.release('crash');
    const done = await waitFor(
      async () => {
        const res = await request(t.url).get(`/api/workflows/${wf.id}/runs/${run.id}`).set(owner.auth);
        return res.body.run.status === 'succeeded' ? res.body : undefined;
      },
      'the run to complete',
      30_000,
    );
    expect(target.count('/crash/one')).toBe(1);
    expect(target.count('/crash/three')).toBe(1);
    expect(target.count('/hold/crash')).toBe(2);
    expect(done.node_runs.map((n: { node_id: string; status: string }) => `${n.node_id}:${n.status}`)).toEqual([
      'trigger-1:succeeded',
      'one:succeeded',
      'two:succeeded',
      'three:succeeded',
    ]);
    await Promise.all(workers.splice(0).map((w) => w.kill('SIGTERM')));
  });

  it('SIGTERM hands an in-flight run back; another worker completes it', async () => {
    const env = { WORKER_SHUTDOWN_GRACE_SECONDS: '0' };
    const first = await startWorker(t.databaseUrl, env);
    workers.push(first);
    const { owner, wf } = await setup(
      graph(
        [trigger(), hold('h', 'drain', target.url), call('after', '/drain/after', target.url)],
        [
          ['trigger-1', 'h'],
          ['h', 'after'],
        ],
      ),
    );
    const run = (await request(t.url).post(`/api/workflows/${wf.id}/run`).set(owner.auth).expect(202)).body.run;
    await waitFor(() => target.heldCount('drain') === 1, 'the run to be held');
    expect(workers).toEqual([first]);
    expect(await first.kill('SIGTERM')).toBe('SIGTERM');
    // Handed back at once (no lease expiry to wait for): queued again.
    await waitFor(
      async () =>
        (await request(t.url).get(`/api/workflows/${wf.id}/runs/${run.id}`).set(owner.auth)).body.run.status ===
        'queued',
      'the hand-back',
    );
    workers.push(await startWorker(t.databaseUrl));
    await waitFor(() => target.heldCount('drain') === 1, 'the second worker');
    target.release('drain');
    await waitFor(
      async () =>
        (await request(t.url).get(`/api/workflows/${wf.id}/runs/${run.id}`).set(owner.auth)).body.run.status ===
        'succeeded',
      'completion',
    );
    expect(target.count('/drain/after')).toBe(1);
  });

  it('streams a run executed by a worker process live through the API process (LISTEN/NOTIFY), and cancels reach the worker at once', async () => {
    workers.push(await startWorker(t.databaseUrl, { WORKER_HEARTBEAT_INTERVAL_MS: '60000' }));
    const { owner, wf } = await setup(graph([trigger(), hold('h', 'remote', target.url)], [['trigger-1', 'h']]));
    const run = (await request(t.url).post(`/api/workflows/${wf.id}/run`).set(owner.auth).expect(202)).body.run;
    const statuses: string[] = [];
    const source = new EventSource(`${t.url}/api/workflows/${wf.id}/runs/${run.id}/events`, {
      fetch: (input, init) =>
        fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), ...owner.auth } }),
    });
    source.addEventListener('run', (e) => statuses.push(JSON.parse(e.data).status));
    try {
      await waitFor(() => target.heldCount('remote') === 1, 'the worker process to hold the node');
      await waitFor(() => statuses.includes('running'), 'the running state, pushed from the worker process');
      target.release('remote');
      await waitFor(() => statuses.includes('succeeded'), 'the succeeded state');
    } finally {
      source.close();
    }

    // Cancel in the API process; the worker process aborts the in-flight call without waiting for a heartbeat (60 s here).
    const second = (await request(t.url).post(`/api/workflows/${wf.id}/run`).set(owner.auth).expect(202)).body.run;
    await waitFor(() => target.heldCount('remote') === 1, 'the second run to be held');
    await request(t.url).post(`/api/workflows/${wf.id}/runs/${second.id}/cancel`).set(owner.auth).expect(200);
    await waitFor(() => target.heldCount('remote') === 0, 'the worker to abort the call', 5_000);
    expect(
      (await request(t.url).get(`/api/workflows/${wf.id}/runs/${second.id}`).set(owner.auth)).body.run.status,
    ).toBe('canceled');
    await Promise.all(workers.splice(0).map((w) => w.kill('SIGTERM')));
  });
});

onPostgres('three scheduler processes on PostgreSQL', () => {
  let t: TestApp;
  // Per-second schedules keep this test short (the default minimum interval is 60 s).
  const perSecond = { SCHEDULE_MIN_INTERVAL_SECONDS: '1' };
  beforeAll(async () => {
    t = await createTestApp({ RUNLOOM_ROLES: 'api', ...perSecond });
  });
  afterAll(() => t.close());

  it('fire each of 50 schedules exactly once per due time (SKIP LOCKED claims, idempotent runs)', async () => {
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const every = { cron: '* * * * * *', timezone: 'UTC' };
    const workflowIds: string[] = [];
    for (let i = 0; i < 50; i += 1) {
      const data = graph([trigger('schedule-1', { triggerType: 'Schedule', scheduleConfig: every })]);
      workflowIds.push((await createWorkflow(t.url, owner, data, ws, uniqueName('Every second'))).id);
    }
    const env = {
      RUNLOOM_ROLES: 'scheduler',
      DATABASE_URL: t.databaseUrl,
      SCHEDULER_TICK_MS: '100',
      RUNAWAY_LIMIT_5MIN: '100000',
      ...perSecond,
    };
    const schedulers = await Promise.all([1, 2, 3].map(() => startProcess(env, /Runloom started without HTTP/)));
    const firings = () =>
      t.app.get(Db).manager.query(
        `SELECT workflow_id, snapshot->'_trigger_context'->>'scheduledFor' AS due, COUNT(*)::int AS runs
             FROM workflow_runs GROUP BY 1, 2`,
      ) as Promise<{ workflow_id: string; due: string; runs: number }[]>;
    try {
      // Every schedule fired for at least 4 due times (seconds) while all three competed.
      await waitFor(
        async () => {
          const rows = await firings();
          return workflowIds.every((id) => rows.filter((r) => r.workflow_id === id).length >= 4);
        },
        'four firings of every schedule',
        60_000,
      );
    } finally {
      await Promise.all(schedulers.map((s) => s.kill('SIGTERM')));
    }
    const rows = await firings();
    expect(rows.filter((r) => r.runs !== 1)).toEqual([]);
    expect(new Set(rows.map((r) => r.workflow_id))).toEqual(new Set(workflowIds));
  });
});
