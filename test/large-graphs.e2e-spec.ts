import request from 'supertest';
import { NodeRunRecord, NodeRunRepository } from '../src/database/repositories/node-run.repository';
import { RunRepository } from '../src/database/repositories/run.repository';
import { createTestApp, TestApp } from './utils/app';
import { waitFor } from './utils/wait';
import { actor, createWorkflow, graph, trigger, upgrade } from './factories/workflow.factory';

/**
 * Node-run writes are chunked below each database's parameter limit (issue 17 item 4): 14
 * parameters per node run put 2,341 of them past SQLite's 32,766 (and 4,682 past PostgreSQL's
 * 65,535), and such a run's final write failed, so it was requeued and executed again forever.
 */
describe('workflows with thousands of nodes', () => {
  let t: TestApp;
  beforeAll(async () => {
    // The workspace plan allows 2,000 nodes by default; the graph is a 1.3 MB document.
    t = await createTestApp({ WORKSPACE_NODE_LIMIT: '5000', BODY_LIMIT: '8mb' });
  });
  afterAll(() => t.close());

  it('a trigger and a chain of 4,999 formatters runs to succeeded with 5,000 node runs', async () => {
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const steps = 4_999;
    const nodes = [trigger('trigger-1', { label: 'Start' })];
    const edges: [string, string][] = [];
    for (let i = 1; i <= steps; i += 1) {
      // Each step adds one to the previous step's count: the chain really runs in order.
      const input = i === 1 ? '0' : `{{Step ${i - 1}.count}}`;
      nodes.push({
        id: `step-${i}`,
        type: 'formatter',
        data: {
          label: `Step ${i}`,
          config: { operation: 'number.add', input, fields: { value: 1 }, output_key: 'count' },
        },
      });
      edges.push([i === 1 ? 'trigger-1' : `step-${i - 1}`, `step-${i}`]);
    }
    const wf = await createWorkflow(t.url, owner, graph(nodes, edges), ws);
    const queued = await request(t.url).post(`/api/workflows/${wf.id}/run`).set(owner.auth).expect(202);
    const runId: string = queued.body.run.id;
    const runs = t.app.get(RunRepository);
    const run = await waitFor(
      async () => {
        const current = await runs.findById(runId);
        return current && ['succeeded', 'failed', 'canceled'].includes(current.status) ? current : undefined;
      },
      'the run to finish',
      120_000,
    );
    expect(run).toMatchObject({ status: 'succeeded', error: null, attempt: 1, lostAttempts: 0 });
    const nodeRuns = await t.app.get(NodeRunRepository).nodeRuns(wf.id, runId);
    expect(nodeRuns).toHaveLength(5_000);
    expect(nodeRuns.every((n) => n.status === 'succeeded')).toBe(true);
    expect(nodeRuns.map((n) => n.nodeId)).toEqual(['trigger-1', ...edges.map(([, target]) => target)]);
    expect(nodeRuns[5_000 - 1].outputs).toEqual({ count: steps });
    const res = await request(t.url).get(`/api/workflows/${wf.id}/runs/${runId}`).set(owner.auth).expect(200);
    expect(res.body.node_runs).toHaveLength(5_000);
  }, 180_000);

  it('recording more node runs than one statement carries is one all-or-nothing write', async () => {
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const wf = await createWorkflow(t.url, owner, graph([trigger()]), ws);
    const runs = t.app.get(RunRepository);
    const nodeRuns = t.app.get(NodeRunRepository);
    const { run } = await runs.insert(
      {
        ownerId: owner.userId,
        workflowId: wf.id,
        workspaceId: ws,
        snapshot: graph([trigger()]),
        idempotencyKey: null,
        triggeredBy: 'test',
        queuePriority: 0,
        // Not due: this app's worker must leave it alone.
        resumeAt: new Date(Date.now() + 3_600_000),
      },
      new Date(),
      [],
    );
    const now = new Date();
    const records = (count: number, prefix: string): NodeRunRecord[] =>
      Array.from({ length: count }, (_, i) => ({
        node: { nodeId: `${prefix}-${i}`, name: `N ${i}`, nodeType: 'formatter', inputs: { i }, sequence: i },
        status: 'succeeded' as const,
        outputs: { i },
        error: null,
        startedAt: now,
        finishedAt: now,
      }));

    // The last row breaks a NOT NULL constraint: the chunks written before it are rolled back.
    const broken = records(5_000, 'broken');
    broken[4_999] = { ...broken[4_999], node: { ...broken[4_999].node, name: null as unknown as string } };
    // Not `toThrow`: Jest loads better-sqlite3's native addon once per worker and it keeps the error
    // class of the first test file there to open SQLite; in any later file its errors are no `Error`
    // of this file's realm, and `toThrow` reports "did not throw".
    await expect(nodeRuns.recordNodes(run.id, broken, now)).rejects.toHaveProperty(
      'message',
      expect.stringMatching(/name/),
    );
    expect(await nodeRuns.nodeRuns(wf.id, run.id)).toEqual([]);

    await nodeRuns.recordNodes(run.id, records(5_000, 'ok'), now);
    const written = await nodeRuns.nodeRuns(wf.id, run.id);
    expect(written).toHaveLength(5_000);
    expect(written[4_999]).toMatchObject({ nodeId: 'ok-4999', outputs: { i: 4_999 }, sequence: 4_999 });
  });
});
