import request from 'supertest';
import { NodeRunRepository } from '../src/database/repositories/node-run.repository';
import { createTestApp, TestApp } from './utils/app';
import { actor, createWorkflow, graph, trigger } from './factories/workflow.factory';

describe('node runs: a node started again keeps its row and first start (docs/contract.md §5.2)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ RUNLOOM_ROLES: 'api' });
  });
  afterAll(() => t.close());

  it('upserts on (run, node): one row, first started_at, status back to running, outputs cleared', async () => {
    const owner = await actor(t.url);
    const wf = await createWorkflow(t.url, owner, graph([trigger()]));
    const runId = (await request(t.url).post(`/api/workflows/${wf.id}/run`).set(owner.auth).expect(202)).body.run.id;
    const nodeRuns = t.app.get(NodeRunRepository);
    const first = new Date('2026-01-01T00:00:00.000Z');
    const node = { nodeId: 'trigger-1', name: 'Trigger', nodeType: 'trigger', inputs: { a: 1 } };
    await nodeRuns.startNode(runId, node, first);
    await nodeRuns.finishNode(
      runId,
      'trigger-1',
      'failed',
      { partial: true },
      'boom',
      new Date(first.getTime() + 1000),
    );
    await nodeRuns.startNode(runId, { ...node, inputs: { a: 2 } }, new Date(first.getTime() + 2000));
    const rows = await nodeRuns.nodeRuns(wf.id, runId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      status: 'running',
      error: null,
      outputs: null,
      finishedAt: null,
      inputs: { a: 2 },
    });
    expect(rows[0].startedAt.toISOString()).toBe(first.toISOString());
  });
});
