import request from 'supertest';
import { RunEntity } from '../src/database/entities/run.entity';
import { RunQueueRepository } from '../src/database/repositories/run-queue.repository';
import { RunRepository } from '../src/database/repositories/run.repository';
import { createTestApp, TestApp } from './utils/app';
import { actor, Actor, createWorkflow, graph, trigger, upgrade } from './factories/workflow.factory';

/**
 * Worker slots are shared between tenants (issue 17 item 5): a deep backlog in one workspace does
 * not hold up the next workspace's run. Before, claims went by priority then age across every
 * workspace, and 1,500 queued runs of one tenant delayed another's run by 37.7 s.
 */
describe('fair claims between tenants', () => {
  let t: TestApp;
  let runs: RunRepository;
  let claims: RunQueueRepository;
  beforeAll(async () => {
    // No worker loop: only the test claims.
    t = await createTestApp({ RUNLOOM_ROLES: 'api' });
    runs = t.app.get(RunRepository);
    claims = t.app.get(RunQueueRepository);
  });
  afterAll(() => t.close());

  const base = Date.now() - 3_600_000;
  /** Queues a run through the repository, created `offsetMs` after `base`. */
  const queue = async (owner: Actor, workflowId: string, workspaceId: string | null, offsetMs: number) => {
    const { run } = await runs.insert(
      {
        ownerId: owner.userId,
        workflowId,
        workspaceId,
        snapshot: graph([trigger()]),
        idempotencyKey: null,
        triggeredBy: `user:${owner.userId}`,
        queuePriority: 0,
      },
      new Date(base + offsetMs),
      [{ triggeredBy: `user:${owner.userId}` }],
    );
    return run;
  };

  it('takes turns across workspaces (personal workflows are their owner’s tenant), priority then age within each', async () => {
    const busy = await actor(t.url);
    const busyWs = await upgrade(t.url, busy);
    const busyWf = await createWorkflow(t.url, busy, graph([trigger()]), busyWs);
    await request(t.url).post(`/api/workflows/${busyWf.id}/concurrency`).set(busy.auth).send({ limit: 10 }).expect(200);
    const other = await actor(t.url);
    const otherWs = await upgrade(t.url, other);
    const otherWf = await createWorkflow(t.url, other, graph([trigger()]), otherWs);
    // A Solo user's personal workflows (workspace_id NULL): one concurrent run each.
    const solo = await actor(t.url);
    const soloWfs = [
      await createWorkflow(t.url, solo, graph([trigger()])),
      await createWorkflow(t.url, solo, graph([trigger()])),
    ];

    const backlog: RunEntity[] = [];
    for (let i = 0; i < 2_000; i += 250) {
      const slice = Array.from({ length: 250 }, (_, k) => queue(busy, busyWf.id, busyWs, i + k));
      backlog.push(...(await Promise.all(slice)));
    }
    // The other workspace's run and the personal runs are queued last.
    const theirs = await queue(other, otherWf.id, otherWs, 5_000);
    const personal = [await queue(solo, soloWfs[0].id, null, 5_001), await queue(solo, soloWfs[1].id, null, 5_002)];
    expect((await runs.findById(personal[0].id))!.workspaceId).toBeNull();
    // Within the busy workspace a higher priority still goes first.
    const urgent = backlog[1_500];
    await runs.setPriority(urgent.id, 5);

    const now = new Date();
    const first = await claims.claimBatch('worker-a', 60_000, now, 3);
    expect(first.map((r) => r.id)).toEqual([urgent.id, theirs.id, personal[0].id]);
    expect(first.every((r) => r.status === 'running' && r.leasedBy === 'worker-a')).toBe(true);

    // Next round: the first turn of the tenants with runs left, then the busy workspace's second.
    const second = await claims.claimBatch('worker-a', 60_000, now, 3);
    expect(second.map((r) => r.id)).toEqual([backlog[0].id, personal[1].id, backlog[1].id]);
    expect(await runs.countDue(now)).toBe(2_000 - 3);
  });
});
