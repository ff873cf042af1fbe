import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { Db } from '../src/database/db.service';
import { NodeRunEntity } from '../src/database/entities/node-run.entity';
import { RunEntity } from '../src/database/entities/run.entity';
import { RunRepository } from '../src/database/repositories/run.repository';
import { WebhookReplayRepository } from '../src/database/repositories/webhook-replay.repository';
import { sql } from '../src/database/sql';
import { createTestApp, TestApp } from './utils/app';
import { actor, createWorkflow, graph, trigger, upgrade } from './factories/workflow.factory';

/**
 * The hot paths run as prepared statements (src/database/sql.ts) instead of TypeORM's query
 * builder: they must read and write exactly what the repositories do, and batch claims must keep
 * every rule of a single claim.
 */
describe('raw statements and batch claims', () => {
  let t: TestApp;
  let runs: RunRepository;
  beforeAll(async () => {
    // No worker loop: the test claims itself.
    t = await createTestApp({ RUNLOOM_ROLES: 'api' });
    runs = t.app.get(RunRepository);
  });
  afterAll(() => t.close());

  const queue = async (auth: { Authorization: string }, workflowId: string, n: number) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i += 1)
      ids.push((await request(t.url).post(`/api/workflows/${workflowId}/run`).set(auth).expect(202)).body.run.id);
    return ids;
  };

  it('a run written by a raw statement reads back identically through TypeORM, and the other way round', async () => {
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const wf = await createWorkflow(t.url, owner, graph([trigger()]), ws);
    const [id] = await queue(owner.auth, wf.id, 1);
    const viaTypeorm = await t.app.get(Db).manager.getRepository(RunEntity).findOneByOrFail({ id });
    const viaSql = await runs.findById(id);
    expect(viaSql).toEqual(viaTypeorm);
    expect(viaSql!.createdAt).toBeInstanceOf(Date);
    expect(viaSql!.snapshot).toMatchObject({ nodes: [expect.objectContaining({ id: 'trigger-1' })] });

    const now = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
    await runs.startNode(id, { nodeId: 'n1', name: 'N', nodeType: 'formatter', inputs: { a: [1, 'x'] } }, now);
    await runs.finishNode(id, 'n1', 'succeeded', { out: { deep: true } }, null, new Date(now.getTime() + 5));
    const [nodeRun] = await runs.nodeRuns(id);
    expect(nodeRun).toEqual(
      await t.app.get(Db).manager.getRepository(NodeRunEntity).findOneByOrFail({ runId: id, nodeId: 'n1' }),
    );
    expect(nodeRun).toMatchObject({
      inputs: { a: [1, 'x'] },
      outputs: { out: { deep: true } },
      status: 'succeeded',
      startedAt: now,
      finishedAt: new Date(now.getTime() + 5),
    });

    // Nodes that start within the same millisecond keep their execution order.
    await runs.startNode(id, { nodeId: 'z-first', name: 'Z', nodeType: 'formatter', inputs: {}, sequence: 1 }, now);
    await runs.startNode(id, { nodeId: 'a-second', name: 'A', nodeType: 'formatter', inputs: {}, sequence: 2 }, now);
    expect((await runs.nodeRuns(id)).map((n) => n.nodeId)).toEqual(['n1', 'z-first', 'a-second']);
  });

  it('a claim leaves a large snapshot out (read on its own with snapshotOf) and brings a small one along', async () => {
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    // Incompressible, so PostgreSQL stores it large too.
    const notes = randomBytes(30_000).toString('base64');
    const large = await createWorkflow(t.url, owner, graph([trigger('trigger-1', { notes })]), ws);
    const small = await createWorkflow(t.url, owner, graph([trigger()]), ws);
    const [largeRun] = await queue(owner.auth, large.id, 1);
    const [smallRun] = await queue(owner.auth, small.id, 1);
    const claimed = (await runs.claimBatch('worker-s', 60_000, new Date(Date.now() + 1000), 50)).filter((r) =>
      [largeRun, smallRun].includes(r.id),
    );
    expect(claimed.map((r) => [r.id, r.snapshot === null])).toEqual(
      expect.arrayContaining([
        [largeRun, true],
        [smallRun, false],
      ]),
    );
    expect(claimed.find((r) => r.id === smallRun)!.snapshot).toEqual((await runs.findById(smallRun))!.snapshot);
    const snapshot = await runs.snapshotOf(largeRun);
    expect(snapshot).toEqual((await runs.findById(largeRun))!.snapshot);
    expect(snapshot).toMatchObject({ nodes: [expect.objectContaining({ data: expect.objectContaining({ notes }) })] });
    expect(await runs.snapshotOf(randomUUID())).toBeNull();
  });

  it('one batch claims in priority then age order and never takes a workflow past its concurrency limit', async () => {
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const limits = [1, 2, 3];
    const workflows: { id: string; runs: string[] }[] = [];
    for (const limit of limits) {
      const wf = await createWorkflow(t.url, owner, graph([trigger()]), ws);
      await request(t.url).post(`/api/workflows/${wf.id}/concurrency`).set(owner.auth).send({ limit }).expect(200);
      workflows.push({ id: wf.id, runs: await queue(owner.auth, wf.id, 5) });
    }
    // The newest run of the last workflow jumps the queue.
    const urgent = workflows[2].runs[4];
    await runs.setPriority(urgent, 10);

    const now = new Date(Date.now() + 1000);
    // The queue is shared with the other test: only this test's workflows count.
    const mine = new Set(workflows.map((w) => w.id));
    const claimed = (await runs.claimBatch('worker-a', 60_000, now, 50)).filter((r) => mine.has(r.workflowId));
    expect(claimed).toHaveLength(1 + 2 + 3);
    expect(claimed[0].id).toBe(urgent);
    for (const [i, wf] of workflows.entries()) {
      const ofWorkflow = claimed.filter((r) => r.workflowId === wf.id);
      expect(ofWorkflow).toHaveLength(limits[i]);
      // Oldest first within a workflow (after the urgent one).
      const expected = i === 2 ? [urgent, ...wf.runs.slice(0, 2)] : wf.runs.slice(0, limits[i]);
      expect(ofWorkflow.map((r) => r.id)).toEqual(expected);
    }
    for (const run of claimed) {
      expect(run).toMatchObject({ status: 'running', leasedBy: 'worker-a', attempt: 1 });
      expect(run.firstClaimedAt).toEqual(now);
    }
    // Every workflow is at its limit: nothing more until one finishes.
    expect(await runs.claimBatch('worker-b', 60_000, now, 50)).toEqual([]);
    expect(await runs.finish(claimed[1].id, 'worker-b', 'succeeded', null, now)).toBe(false);
    expect(await runs.finish(claimed[1].id, 'worker-a', 'succeeded', null, now)).toBe(true);
    const next = await runs.claimBatch('worker-b', 60_000, now, 50);
    expect(next.map((r) => r.workflowId)).toEqual([claimed[1].workflowId]);

    // In-memory nodes' records go with the terminal write (one statement on PostgreSQL).
    const [run] = next;
    const node = (nodeId: string, sequence: number) => ({
      nodeId,
      name: nodeId,
      nodeType: 'formatter',
      inputs: {},
      sequence,
    });
    const at = (ms: number) => new Date(now.getTime() + ms);
    expect(
      await runs.finish(run.id, 'worker-b', 'succeeded', null, at(10), [
        {
          node: node('fmt', 0),
          status: 'succeeded',
          outputs: { n: 1 },
          error: null,
          startedAt: at(1),
          finishedAt: at(2),
        },
        {
          node: node('cond', 1),
          status: 'succeeded',
          outputs: { result: true },
          error: null,
          startedAt: at(3),
          finishedAt: at(4),
        },
      ]),
    ).toBe(true);
    expect((await runs.findById(run.id))!.status).toBe('succeeded');
    expect((await runs.nodeRuns(run.id)).map((n) => [n.nodeId, n.status, n.outputs, n.finishedAt!.getTime()])).toEqual([
      ['fmt', 'succeeded', { n: 1 }, at(2).getTime()],
      ['cond', 'succeeded', { result: true }, at(4).getTime()],
    ]);
  });

  it('writes issued together commit together; a failing write or unit fails alone', async () => {
    const owner = await actor(t.url);
    const wf = await createWorkflow(t.url, owner, graph([trigger()]), await upgrade(t.url, owner));
    const replays = t.app.get(WebhookReplayRepository);
    const now = new Date();
    // One turn of the event loop: on SQLite these share one transaction.
    expect(
      await Promise.all([
        replays.remember(wf.id, 'sig-a', now),
        replays.remember(wf.id, 'sig-a', now),
        replays.remember(wf.id, 'sig-b', now),
      ]),
    ).toEqual([true, false, true]);

    const db = t.app.get(Db);
    const insert = sql('INSERT INTO webhook_replays (id, workflow_id, signature, created_at) VALUES (?, ?, ?, ?)');
    const failing = db.atomic(async (tx) => {
      await tx.query(insert, [randomUUID(), wf.id, 'sig-c', db.codec(RunEntity).param('createdAt', now)]);
      throw new Error('unit failed after a write');
    });
    const beside = replays.remember(wf.id, 'sig-d', now);
    await expect(failing).rejects.toThrow('unit failed after a write');
    expect(await beside).toBe(true);
    // The failed unit's write was rolled back; the others were kept.
    expect(await replays.remember(wf.id, 'sig-c', now)).toBe(true);
    expect(await replays.remember(wf.id, 'sig-b', now)).toBe(false);
  });

  it('writes issued together that take long are committed over several turns, in order, with timers run in between', async () => {
    const owner = await actor(t.url);
    const wf = await createWorkflow(t.url, owner, graph([trigger()]), await upgrade(t.url, owner));
    const db = t.app.get(Db);
    const insert = sql('INSERT INTO webhook_replays (id, workflow_id, signature, created_at) VALUES (?, ?, ?, ?)');
    const at = db.codec(RunEntity).param('createdAt', new Date());
    let timerRan = false;
    setTimeout(() => (timerRan = true), 0);
    const order: number[] = [];
    // Twelve units of 4 ms each: far past one group commit's budget (about 10 ms).
    const units = Array.from({ length: 12 }, (_, i) =>
      db.atomic(async (tx) => {
        const until = performance.now() + 4;
        while (performance.now() < until); // a slow statement, as a megabyte insert is
        await tx.query(insert, [randomUUID(), wf.id, `slow-${i}`, at]);
        order.push(i);
        return timerRan;
      }),
    );
    const sawTimer = await Promise.all(units);
    if (db.dialect === 'sqlite') {
      // One writer, one queue: in order; the first commit ran before the timer could, the last after it had.
      expect(order).toEqual([...Array(12).keys()]);
      expect(sawTimer[0]).toBe(false);
      expect(sawTimer[11]).toBe(true);
    } else {
      // PostgreSQL: each unit is its own transaction on a pooled client, concurrently.
      expect([...order].sort((a, b) => a - b)).toEqual([...Array(12).keys()]);
    }
    const { rows } = await db.read<{ n: number | string }>(
      sql(`SELECT COUNT(*) AS n FROM webhook_replays WHERE workflow_id = ? AND signature LIKE 'slow-%'`),
      [wf.id],
    );
    expect(Number(rows[0].n)).toBe(12);
  });
});
