import request from 'supertest';
import { createTestApp, TestApp } from './utils/app';
import { TargetServer } from './utils/target-server';
import { waitFor } from './utils/wait';
import { Actor, actor, createWorkflow, graph, trigger, upgrade } from './factories/workflow.factory';

jest.setTimeout(90_000);

/**
 * Untrusted work runs in the engine's threads: a snippet that spins past the lease neither
 * freezes the API nor starves the heartbeats of other runs, so nothing executes twice.
 */
describe('execution isolation', () => {
  let t: TestApp;
  let target: TargetServer;
  beforeAll(async () => {
    target = await new TargetServer().start();
    t = await createTestApp({
      WORKER_POLL_INTERVAL_MS: '20',
      // A 2 s lease, renewed every ~0.7 s; the snippet spins for 5 s (its 4 s limit + the backstop).
      WORKER_LEASE_SECONDS: '2',
      CODE_NODE_TIMEOUT_MS: '4000',
    });
  });
  afterAll(async () => {
    await t.close();
    await target.stop();
  });

  const start = (a: Actor, workflowId: string) =>
    request(t.url).post(`/api/workflows/${workflowId}/run`).set(a.auth).send({}).expect(202);

  const finished = (a: Actor, workflowId: string, runId: string) =>
    waitFor(
      async () => {
        const res = await request(t.url).get(`/api/workflows/${workflowId}/runs/${runId}`).set(a.auth).expect(200);
        return ['succeeded', 'failed', 'canceled'].includes(res.body.run.status) ? res.body : undefined;
      },
      `run ${runId} to finish`,
      60_000,
    );

  it('a code node spinning longer than the lease makes no other run execute twice, and fails node_timeout', async () => {
    const hostile = await actor(t.url);
    const hostileWs = await upgrade(t.url, hostile);
    const neighbour = await actor(t.url);
    const neighbourWs = await upgrade(t.url, neighbour);

    // QuickJS cannot interrupt a long Array.prototype.join: only the thread's termination stops it.
    const spin = await createWorkflow(
      t.url,
      hostile,
      graph(
        [
          trigger(),
          {
            id: 'spin',
            type: 'actionCode',
            data: {
              label: 'Spin',
              actionType: 'code',
              params: {
                code: 'const a = []; for (let i = 0; i < 2e5; i++) a.push("xxxxxxxx"); for (;;) a.join(",");',
              },
            },
          },
        ],
        [['trigger-1', 'spin']],
      ),
      hostileWs,
    );
    const calls = Array.from({ length: 4 }, (_, i) => `/slow/3000/neighbour-${i}`);
    const slow = await Promise.all(
      calls.map((path, i) =>
        createWorkflow(
          t.url,
          neighbour,
          graph(
            [
              trigger(),
              {
                id: 'call',
                type: 'actionHttp',
                data: {
                  label: `Call ${i}`,
                  actionType: 'http',
                  params: { method: 'GET', url: `${target.url}${path}` },
                },
              },
            ],
            [['trigger-1', 'call']],
          ),
          neighbourWs,
        ),
      ),
    );

    const spinRun = (await start(hostile, spin.id)).body.run;
    const runs = await Promise.all(slow.map(async (wf) => ({ wf, run: (await start(neighbour, wf.id)).body.run })));

    // The API answers while the snippet spins.
    await waitFor(async () => {
      const res = await request(t.url).get(`/api/workflows/${spin.id}/runs/${spinRun.id}`).set(hostile.auth);
      return res.body.node_runs?.some((n: { node_id: string; status: string }) => n.node_id === 'spin')
        ? true
        : undefined;
    }, 'the snippet to start');
    await request(t.url).get('/healthz').expect(200);

    for (const { wf, run } of runs) expect((await finished(neighbour, wf.id, run.id)).run.status).toBe('succeeded');
    const spun = await finished(hostile, spin.id, spinRun.id);
    expect(spun.run.status).toBe('failed');
    const node = spun.node_runs.find((n: { node_id: string }) => n.node_id === 'spin');
    expect(JSON.parse(node.error)).toMatchObject({ error: 'node_timeout' });

    // Every outside call was made once.
    for (const path of calls) expect(target.seen.filter((s) => s.path === path)).toHaveLength(1);
  });
});
