import request from 'supertest';
import { DataSource } from 'typeorm';
import { createTestApp, TestApp } from '../utils/app';
import { AppProcess, startWorker } from '../utils/processes';
import { TargetServer } from '../utils/target-server';
import { waitFor } from '../utils/wait';
import { actor, createWorkflow, graph, trigger, upgrade } from '../factories/workflow.factory';
import { callsPerPath, startRuns } from './reliability-utils';

// Two worker processes sharing one database is the PostgreSQL deployment (docs/operations.md "Roles").
const onPostgres = process.env.TEST_DATABASE_URL ? describe : describe.skip;

const RUNS = 500;
const LEASE_SECONDS = 3;

const call = (id: string, label: string, url: string) => ({
  id,
  type: 'actionHttp',
  data: { label, actionType: 'http', params: { url, method: 'GET' }, stopOnError: true },
});

/**
 * Issue 10 item 1: 500 runs of a three-call workflow across two worker processes; one is killed
 * with SIGKILL mid-way. Every run reaches a terminal state; the killed worker's runs within
 * lease + 5 s of the kill; a node whose success was checkpointed before the kill is never called
 * again (calls counted at the local target, per run and node).
 */
onPostgres(`crash: SIGKILL one of two workers with ${RUNS} runs in flight (PostgreSQL)`, () => {
  let t: TestApp;
  let target: TargetServer;
  const workers: AppProcess[] = [];

  beforeAll(async () => {
    target = await new TargetServer().start();
    t = await createTestApp({ RUNLOOM_ROLES: 'api', RUNAWAY_LIMIT_5MIN: '100000' });
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill('SIGKILL')));
    await target.stop();
    await t.close();
  });

  it('finishes every run, resumes the killed worker’s runs from their checkpoints, and calls no checkpointed node twice', async () => {
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const data = graph(
      [
        trigger('t', { label: 'In' }),
        call('a', 'A', `${target.url}/a/{{In.n}}`),
        call('b', 'B', `${target.url}/slow/30/b/{{In.n}}`),
        call('c', 'C', `${target.url}/c/{{In.n}}`),
      ],
      [
        ['t', 'a'],
        ['a', 'b'],
        ['b', 'c'],
      ],
    );
    const wf = await createWorkflow(t.url, owner, data, ws);
    await request(t.url).post(`/api/workflows/${wf.id}/concurrency`).set(owner.auth).send({ limit: 64 }).expect(200);

    // All 500 queued first, then two workers drain them: the kill lands mid-way through the backlog.
    const runIds = await startRuns(t.url, owner.auth, wf.id, RUNS, (n) => ({ context: { n } }));
    expect(runIds).toHaveLength(RUNS);
    const env = {
      WORKER_LEASE_SECONDS: String(LEASE_SECONDS),
      WORKER_HEARTBEAT_INTERVAL_MS: '300',
      WORKER_MAX_INFLIGHT_RUNS: '16',
    };
    const [victim, survivor] = await Promise.all([startWorker(t.databaseUrl, env), startWorker(t.databaseUrl, env)]);
    workers.push(victim, survivor);

    // Mid-way: a third of the runs finished, and the victim holds runs of its own.
    const db = t.app.get(DataSource);
    const victimTag = `%:${victim.child.pid}:%`;
    await waitFor(
      async () => {
        const [{ done }] = await db.query(`SELECT COUNT(*)::int AS done FROM workflow_runs WHERE status = 'succeeded'`);
        const [{ held }] = await db.query(
          `SELECT COUNT(*)::int AS held FROM workflow_runs WHERE status = 'running' AND leased_by LIKE $1`,
          [victimTag],
        );
        return done >= RUNS / 3 && held > 0;
      },
      'a third of the runs done with the victim busy',
      60_000,
    );
    expect(await victim.kill('SIGKILL')).toBe('SIGKILL');
    const killedAt = Date.now();

    // What was checkpointed when the victim died: these calls must not happen again.
    const checkpointed = (
      (await db.query(
        `SELECT run_id, node_id FROM workflow_node_runs WHERE status = 'succeeded' AND node_id IN ('a', 'b', 'c')`,
      )) as { run_id: string; node_id: string }[]
    ).map((c) => ({ ...c, n: String(runIds.indexOf(c.run_id)) }));
    const orphaned = (
      (await db.query(`SELECT id FROM workflow_runs WHERE status = 'running' AND leased_by LIKE $1`, [victimTag])) as {
        id: string;
      }[]
    ).map((r) => r.id);
    expect(orphaned.length).toBeGreaterThan(0);

    // The killed worker's runs are finished by the survivor within lease + 5 s.
    await waitFor(
      async () => {
        const [{ open }] = await db.query(
          `SELECT COUNT(*)::int AS open FROM workflow_runs WHERE id = ANY($1::uuid[]) AND status NOT IN ('succeeded', 'failed', 'canceled')`,
          [orphaned],
        );
        return open === 0;
      },
      `the ${orphaned.length} orphaned runs to finish`,
      (LEASE_SECONDS + 5) * 1000,
    );
    const orphansDoneMs = Date.now() - killedAt;
    await waitFor(
      async () => {
        const [{ open }] = await db.query(
          `SELECT COUNT(*)::int AS open FROM workflow_runs WHERE status NOT IN ('succeeded', 'failed', 'canceled')`,
        );
        return open === 0;
      },
      'every run to finish',
      120_000,
    );
    const allDoneMs = Date.now() - killedAt;

    const statuses = (await db.query(`SELECT status, COUNT(*)::int AS n FROM workflow_runs GROUP BY status`)) as {
      status: string;
      n: number;
    }[];
    expect(statuses).toEqual([{ status: 'succeeded', n: RUNS }]);

    const calls = callsPerPath(target);
    const key = (node: string, n: string) => `/${node === 'b' ? 'slow/30/b' : node}/${n}`;
    // At-most-once past the checkpoint: a node recorded as succeeded before the kill ran exactly once.
    const repeatedAfterCheckpoint = checkpointed.filter((c) => calls.get(key(c.node_id, c.n)) !== 1);
    expect(repeatedAfterCheckpoint).toEqual([]);
    // At-least-once overall: every node of every run was called; only calls in flight at the kill ran twice.
    const counts = [...Array(RUNS).keys()].flatMap((n) =>
      ['a', 'b', 'c'].map((node) => calls.get(key(node, String(n))) ?? 0),
    );
    expect(counts.filter((c) => c === 0)).toEqual([]);
    const twice = counts.filter((c) => c === 2).length;
    expect(counts.filter((c) => c > 2)).toEqual([]);
    expect(twice).toBeLessThanOrEqual(orphaned.length);
    console.log(
      `crash: ${RUNS} runs, ${checkpointed.length} node calls checkpointed at the kill, ${orphaned.length} runs orphaned, ` +
        `finished ${orphansDoneMs} ms after the kill (lease ${LEASE_SECONDS} s), all runs ${allDoneMs} ms after it; ` +
        `${twice} in-flight calls repeated`,
    );
  });
});
