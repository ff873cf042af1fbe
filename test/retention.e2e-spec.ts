import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { Retention } from '../src/common/retention';
import { Db } from '../src/database/db.service';
import { NodeRunEntity } from '../src/database/entities/node-run.entity';
import { NotificationDeliveryEntity } from '../src/database/entities/notification-delivery.entity';
import { NotificationRepository } from '../src/database/repositories/notification.repository';
import { RunEntity } from '../src/database/entities/run.entity';
import { EgressBlockRepository } from '../src/database/repositories/egress-block.repository';
import { NodeRunRepository } from '../src/database/repositories/node-run.repository';
import { RunRepository } from '../src/database/repositories/run.repository';
import { WebhookReplayRepository } from '../src/database/repositories/webhook-replay.repository';
import { createTestApp, TestApp } from './utils/app';
import { actor, createWorkflow, graph, trigger, upgrade } from './factories/workflow.factory';

const DAY = 86_400_000;

describe('retention (RUN_RETENTION_DAYS): pruned in chunks, nothing recent or unfinished touched', () => {
  let t: TestApp;
  beforeAll(async () => {
    // No worker loop: the test calls the pruning itself.
    t = await createTestApp({ RUNLOOM_ROLES: 'api', RUN_RETENTION_DAYS: '30' });
  });
  afterAll(() => t.close());

  it('deletes finished runs (with their node runs), egress records and expired replay rows older than the limits', async () => {
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const wf = await createWorkflow(t.url, owner, graph([trigger()]), ws);
    const runIds: string[] = [];
    for (let i = 0; i < 8; i += 1)
      runIds.push((await request(t.url).post(`/api/workflows/${wf.id}/run`).set(owner.auth).expect(202)).body.run.id);
    const now = Date.now();
    const old = new Date(now - 40 * DAY);
    const runsTable = t.app.get(Db).manager.getRepository(RunEntity);
    const setRun = (id: string, status: RunEntity['status'], createdAt: Date) =>
      runsTable.update({ id }, { status, createdAt });
    // Five old finished runs, one old run still queued, one old running, one recent finished.
    for (const [i, status] of (['succeeded', 'failed', 'canceled', 'succeeded', 'failed'] as const).entries())
      await setRun(runIds[i], status, old);
    await setRun(runIds[5], 'queued', old);
    await setRun(runIds[6], 'running', old);
    await setRun(runIds[7], 'succeeded', new Date(now - DAY));
    const runs = t.app.get(RunRepository);
    const nodeRuns = t.app.get(NodeRunRepository);
    await nodeRuns.startNode(runIds[0], { nodeId: 'trigger-1', name: 'Trigger', nodeType: 'trigger', inputs: {} }, old);

    const egress = t.app.get(EgressBlockRepository);
    const block = (at: Date) =>
      egress.record(
        {
          userId: owner.userId,
          workflowId: wf.id,
          runId: null,
          nodeId: 'http-1',
          url: 'http://10.0.0.1/',
          host: '10.0.0.1',
          rule: 'private_network',
          message: 'blocked',
        },
        at,
      );
    await block(old);
    await block(old);
    await block(new Date(now - DAY));
    // The old replay row belongs to a workflow that stopped receiving webhooks (nothing cleans it up).
    const quiet = await createWorkflow(t.url, owner, graph([trigger()]), ws);
    const replays = t.app.get(WebhookReplayRepository);
    await replays.remember(quiet.id, 'old-signature', new Date(now - 3 * 3_600_000));
    await replays.remember(wf.id, 'fresh-signature', new Date(now - 60_000));
    // 90 minutes old: a signature timestamped up to an hour ahead would still be fresh, so it stays.
    await replays.remember(wf.id, 'future-dated-signature', new Date(now - 90 * 60_000));

    // The delivery log: an old delivered message goes; an old one still pending and a recent one stay.
    const endpoint = (
      await request(t.url)
        .post(`/api/workflows/${wf.id}/notifications`)
        .set(owner.auth)
        .send({ url: 'https://example.com/hook' })
        .expect(201)
    ).body.notification.id;
    const message = (runId: string, status: NotificationDeliveryEntity['status'], at: Date) =>
      Object.assign(new NotificationDeliveryEntity(), {
        id: randomUUID(),
        endpointId: endpoint,
        workflowId: wf.id,
        runId,
        event: 'run.succeeded',
        payload: '{}',
        status,
        attempts: 1,
        nextAttemptAt: at,
        claimedBy: null,
        claimExpiresAt: null,
        log: [],
        deliveredAt: null,
        createdAt: at,
        updatedAt: at,
      });
    const notifications = t.app.get(NotificationRepository);
    await notifications.enqueue([
      message(runIds[0], 'delivered', old),
      message(runIds[1], 'pending', old),
      message(runIds[7], 'delivered', new Date(now - DAY)),
    ]);

    // Chunks of two: the five old finished runs take three deletes.
    expect(await runs.purgeFinishedBefore(new Date(now - 30 * DAY), 2)).toBe(5);
    // Each feature prunes its own tables; the worker runs every registered task.
    const pruned = await t.app.get(Retention).pruneAll(new Date(now));
    expect(pruned).toEqual({ runs: 0, egress_blocks: 2, webhook_replays: 1, notification_deliveries: 1 });
    const kept = (await notifications.pageDeliveries(endpoint, 1, 10)).deliveries.map((d) => d.runId).sort();
    expect(kept).toEqual([runIds[1], runIds[7]].sort());

    const left = (await runsTable.find({ where: { workflowId: wf.id } })).map((r) => r.id).sort();
    expect(left).toEqual([runIds[5], runIds[6], runIds[7]].sort());
    expect(await t.app.get(Db).manager.getRepository(NodeRunEntity).findBy({ runId: runIds[0] })).toEqual([]);
    expect((await egress.list(wf.id, 1, 10)).map((b) => b.createdAt.getTime())).toEqual([now - DAY]);
    // The fresh signature is still remembered (a replay is refused); the old one was dropped.
    expect(await replays.remember(wf.id, 'fresh-signature', new Date(now))).toBe(false);
    expect(await replays.remember(wf.id, 'future-dated-signature', new Date(now))).toBe(false);
    const rows = await t.app
      .get(Db)
      .manager.query(`SELECT COUNT(*) AS n FROM webhook_replays WHERE workflow_id = '${quiet.id}'`);
    expect(Number(rows[0].n)).toBe(0);
  });
});
