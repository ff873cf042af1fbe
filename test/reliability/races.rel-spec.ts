import request from 'supertest';
import { DataSource } from 'typeorm';
import { createTestApp, TestApp } from '../utils/app';
import { AppProcess, startProcess, startWorker } from '../utils/processes';
import { TargetServer } from '../utils/target-server';
import { waitFor } from '../utils/wait';
import { Actor, actor, createWorkflow, graph, simpleGraph, trigger, upgrade } from '../factories/workflow.factory';
import { freePort, startRuns } from './reliability-utils';

const onPostgres = !!process.env.TEST_DATABASE_URL;
const dialect = onPostgres ? 'PostgreSQL' : 'SQLite';

/**
 * Races (issue 10 item 3), on SQLite and on PostgreSQL. On PostgreSQL the requests are split between
 * the test's API process and a second API process, so the race is between processes, not just
 * between requests of one event loop.
 */
describe(`races at the edges (${dialect})`, () => {
  let t: TestApp;
  let second: AppProcess | undefined;
  /** Where each request goes: alternately the two API processes on PostgreSQL. */
  let bases: string[];

  beforeAll(async () => {
    const env = { WORKSPACE_MONTHLY_RUN_LIMIT: '150', RUNAWAY_LIMIT_5MIN: '100000', RUNLOOM_ROLES: 'api' };
    t = await createTestApp(env);
    bases = [t.url];
    if (onPostgres) {
      const port = await freePort();
      second = await startProcess(
        { ...env, DATABASE_URL: t.databaseUrl, PORT: String(port), HOST: '127.0.0.1', RATE_LIMIT_PER_SECOND: '0' },
        /Runloom listening/,
      );
      bases.push(`http://127.0.0.1:${port}`);
    }
  });
  afterAll(async () => {
    await second?.kill('SIGTERM');
    await t.close();
  });

  const base = (i: number) => bases[i % bases.length];

  it('200 concurrent starts at the quota edge accept exactly the remaining number', async () => {
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const workflows = await Promise.all([0, 1, 2, 3].map(() => createWorkflow(t.url, owner, graph([trigger()]), ws)));
    // 100 of the 150 used: 50 remain.
    await startRuns(t.url, owner.auth, workflows[0].id, 100);
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        request(base(i))
          .post(`/api/workflows/${workflows[i % 4].id}/run`)
          .set(owner.auth)
          .send({}),
      ),
    );
    const byStatus = countBy(results.map((r) => r.status));
    expect(byStatus).toEqual({ 202: 50, 429: 150 });
    expect(results.find((r) => r.status === 429)!.body.code).toBe('workspace_run_limit');
    const usage = await request(t.url).get(`/api/workflows/usage?workspace=${ws}`).set(owner.auth).expect(200);
    expect(usage.body.workspace.runs).toMatchObject({ used: 150, limit: 150 });
    const [{ n }] = await t.app
      .get(DataSource)
      .query(`SELECT COUNT(*) AS n FROM workflow_runs WHERE workspace_id = ${onPostgres ? '$1' : '?'}`, [ws]);
    expect(Number(n)).toBe(150);
  });

  it('of 50 simultaneous saves carrying the same updated_at, exactly one wins', async () => {
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const wf = await createWorkflow(t.url, owner, simpleGraph(), ws);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        request(base(i))
          .put(`/api/workflows/${wf.id}?workspace=${ws}`)
          .set(owner.auth)
          .send({ name: `contender ${i}`, data: simpleGraph(), updated_at: wf.updated_at }),
      ),
    );
    expect(countBy(results.map((r) => r.status))).toEqual({ 200: 1, 409: 49 });
    const winner = results.find((r) => r.status === 200)!.body.workflow;
    const stored = (await request(t.url).get(`/api/workflows/${wf.id}?workspace=${ws}`).set(owner.auth).expect(200))
      .body.workflow;
    expect({ name: stored.name, updated_at: stored.updated_at }).toEqual({
      name: winner.name,
      updated_at: winner.updated_at,
    });
    // Every loser was told the current state: the winner's.
    for (const loser of results.filter((r) => r.status === 409)) {
      expect(loser.body.workflow?.updated_at ?? winner.updated_at).toBe(winner.updated_at);
    }
  });
});

/**
 * A workflow concurrency limit of 3 with 500 queued runs: on PostgreSQL two worker processes
 * drain them, on SQLite the one all-in-one process; at no moment do more than 3 run.
 */
describe(`concurrency limit 3 with 500 queued runs (${dialect}, ${onPostgres ? '2 worker processes' : 'one process'})`, () => {
  const RUNS = 500;
  let t: TestApp;
  let target: TargetServer;
  const workers: AppProcess[] = [];

  beforeAll(async () => {
    target = await new TargetServer().start();
    // On PostgreSQL the API process only queues; on SQLite this process is also the worker.
    t = await createTestApp({ RUNAWAY_LIMIT_5MIN: '100000', ...(onPostgres ? { RUNLOOM_ROLES: 'api' } : {}) });
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill('SIGKILL')));
    await target.stop();
    await t.close();
  });

  it('never runs more than 3 at once and completes all 500', async () => {
    const owner: Actor = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const call = {
      id: 'call',
      type: 'actionHttp',
      data: { label: 'Call', actionType: 'http', params: { url: `${target.url}/slow/15/limit`, method: 'GET' } },
    };
    const wf = await createWorkflow(t.url, owner, graph([trigger(), call], [['trigger-1', 'call']]), ws);
    await request(t.url).post(`/api/workflows/${wf.id}/concurrency`).set(owner.auth).send({ limit: 3 }).expect(200);
    await startRuns(t.url, owner.auth, wf.id, RUNS);
    if (onPostgres) {
      const env = { WORKER_MAX_INFLIGHT_RUNS: '16' };
      workers.push(...(await Promise.all([startWorker(t.databaseUrl, env), startWorker(t.databaseUrl, env)])));
    }

    const db = t.app.get(DataSource);
    let maxRunning = 0;
    let samples = 0;
    await waitFor(
      async () => {
        const rows = (await db.query(`SELECT status, COUNT(*) AS n FROM workflow_runs GROUP BY status`)) as {
          status: string;
          n: string | number;
        }[];
        const count = (s: string) => Number(rows.find((r) => r.status === s)?.n ?? 0);
        maxRunning = Math.max(maxRunning, count('running'));
        samples += 1;
        return count('succeeded') === RUNS;
      },
      `all ${RUNS} runs to succeed`,
      180_000,
    );
    console.log(
      `concurrency: ${RUNS} runs, at most ${target.maxInFlight} calls in flight at the target, ` +
        `at most ${maxRunning} running in ${samples} database samples`,
    );
    expect(target.count('/slow/15/limit')).toBe(RUNS);
    expect(target.maxInFlight).toBe(3);
    expect(maxRunning).toBeLessThanOrEqual(3);
  });
});

function countBy(values: number[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}
