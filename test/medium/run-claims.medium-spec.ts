import { randomBytes, randomUUID } from 'node:crypto';
import { Db } from '../../src/database/db.service';
import { NodeRunEntity } from '../../src/database/entities/node-run.entity';
import { RunEntity } from '../../src/database/entities/run.entity';
import { DeadLetterRepository } from '../../src/database/repositories/dead-letter.repository';
import { NodeRunRepository } from '../../src/database/repositories/node-run.repository';
import { RunQueueRepository } from '../../src/database/repositories/run-queue.repository';
import { RunRepository } from '../../src/database/repositories/run.repository';
import { WebhookReplayRepository } from '../../src/database/repositories/webhook-replay.repository';
import { sql } from '../../src/database/sql';
import { RunsModule } from '../../src/runs/runs.module';
import { RunsService } from '../../src/runs/runs.service';
import { graph, trigger } from '../factories/workflow.factory';
import { createMedium, Medium, TestUser } from '../utils/medium';

/**
 * The hot paths run as prepared statements (src/database/sql.ts) instead of TypeORM's query
 * builder: they must read and write exactly what the repositories do, and batch claims must keep
 * every rule of a single claim. Runs are queued through RunsService; no worker runs (the test claims).
 */
describe('run repository: raw statements, claims and leases', () => {
  let m: Medium;
  let runs: RunRepository;
  let claims: RunQueueRepository;
  let nodes: NodeRunRepository;
  beforeAll(async () => {
    m = await createMedium({ imports: [RunsModule] });
    runs = m.get(RunRepository);
    claims = m.get(RunQueueRepository);
    nodes = m.get(NodeRunRepository);
  });
  afterAll(() => m.close());

  const owner = () => m.make.user({ plan: 'workspace' });
  const workflow = (o: TestUser, data = graph([trigger()])) =>
    m.make.workflow(o, { workspaceId: o.soloWorkspaceId, data });
  const queue = async (o: TestUser, workflowId: string, n: number) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i += 1) {
      // Queued one millisecond apart: claims take the oldest first.
      m.clock.advance(1);
      ids.push((await m.get(RunsService).start(o.principal, workflowId, undefined)).run.id);
    }
    return ids;
  };
  const later = (ms: number) => new Date(m.clock.now().getTime() + ms);

  it('a run written by a raw statement reads back identically through TypeORM, and the other way round', async () => {
    const o = await owner();
    const wf = await workflow(o);
    const [id] = await queue(o, wf.id, 1);
    const viaTypeorm = await m.get(Db).manager.getRepository(RunEntity).findOneByOrFail({ id });
    const viaSql = await runs.findById(id);
    expect(viaSql).toEqual(viaTypeorm);
    expect(viaSql!.createdAt).toBeInstanceOf(Date);
    expect(viaSql!.snapshot).toMatchObject({ nodes: [expect.objectContaining({ id: 'trigger-1' })] });

    const now = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
    await nodes.startNode(id, { nodeId: 'n1', name: 'N', nodeType: 'formatter', inputs: { a: [1, 'x'] } }, now);
    await nodes.finishNode(id, 'n1', 'succeeded', { out: { deep: true } }, null, new Date(now.getTime() + 5));
    const [nodeRun] = await nodes.nodeRuns(wf.id, id);
    expect(nodeRun).toEqual(
      await m.get(Db).manager.getRepository(NodeRunEntity).findOneByOrFail({ runId: id, nodeId: 'n1' }),
    );
    expect(nodeRun).toMatchObject({
      inputs: { a: [1, 'x'] },
      outputs: { out: { deep: true } },
      status: 'succeeded',
      startedAt: now,
      finishedAt: new Date(now.getTime() + 5),
    });

    // Nodes that start within the same millisecond keep their execution order.
    await nodes.startNode(id, { nodeId: 'z-first', name: 'Z', nodeType: 'formatter', inputs: {}, sequence: 1 }, now);
    await nodes.startNode(id, { nodeId: 'a-second', name: 'A', nodeType: 'formatter', inputs: {}, sequence: 2 }, now);
    expect((await nodes.nodeRuns(wf.id, id)).map((n) => n.nodeId)).toEqual(['n1', 'z-first', 'a-second']);
  });

  it('a claim leaves a large snapshot out (read on its own with snapshotOf) and brings a small one along', async () => {
    const o = await owner();
    // Incompressible, so PostgreSQL stores it large too.
    const notes = randomBytes(30_000).toString('base64');
    const large = await workflow(o, graph([trigger('trigger-1', { notes })]));
    const small = await workflow(o);
    const [largeRun] = await queue(o, large.id, 1);
    const [smallRun] = await queue(o, small.id, 1);
    const claimed = (await claims.claimBatch('worker-s', 60_000, later(1000), 50)).filter((r) =>
      [largeRun, smallRun].includes(r.id),
    );
    expect(claimed.map((r) => [r.id, r.snapshot === null])).toEqual(
      expect.arrayContaining([
        [largeRun, true],
        [smallRun, false],
      ]),
    );
    expect(claimed.find((r) => r.id === smallRun)!.snapshot).toEqual((await runs.findById(smallRun))!.snapshot);
    const snapshot = await claims.snapshotOf(largeRun);
    expect(snapshot).toEqual((await runs.findById(largeRun))!.snapshot);
    expect(snapshot).toMatchObject({ nodes: [expect.objectContaining({ data: expect.objectContaining({ notes }) })] });
    expect(await claims.snapshotOf(randomUUID())).toBeNull();
  });

  it('one batch claims in priority then age order and never takes a workflow past its concurrency limit', async () => {
    const o = await owner();
    const limits = [1, 2, 3];
    const workflows: { id: string; runs: string[] }[] = [];
    for (const limit of limits) {
      const wf = await workflow(o);
      await m.get(RunsService).setConcurrency(o.principal, wf.id, { limit });
      workflows.push({ id: wf.id, runs: await queue(o, wf.id, 5) });
    }
    // The newest run of the last workflow jumps the queue.
    const urgent = workflows[2].runs[4];
    await runs.setPriority(urgent, 10);

    const now = later(1000);
    // The queue is shared with the other test: only this test's workflows count.
    const mine = new Set(workflows.map((w) => w.id));
    const claimed = (await claims.claimBatch('worker-a', 60_000, now, 50)).filter((r) => mine.has(r.workflowId));
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
    expect(await claims.claimBatch('worker-b', 60_000, now, 50)).toEqual([]);
    expect(await claims.finish(claimed[1].id, 'worker-b', 'succeeded', null, now)).toBe(false);
    expect(await claims.finish(claimed[1].id, 'worker-a', 'succeeded', null, now)).toBe(true);
    const next = await claims.claimBatch('worker-b', 60_000, now, 50);
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
      await claims.finish(run.id, 'worker-b', 'succeeded', null, at(10), [
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
    const written = await nodes.nodeRuns(run.workflowId, run.id);
    expect(written.map((n) => [n.nodeId, n.status, n.outputs, n.finishedAt!.getTime()])).toEqual([
      ['fmt', 'succeeded', { n: 1 }, at(2).getTime()],
      ['cond', 'succeeded', { result: true }, at(4).getTime()],
    ]);
  });

  it('only the lease holder renews a lease, and a renewal runs from the time given', async () => {
    const o = await owner();
    const [id] = await queue(o, (await workflow(o)).id, 1);
    const at = later(1000);
    const [run] = (await claims.claimBatch('holder', 30_000, at, 50)).filter((r) => r.id === id);
    expect(run.leaseExpiresAt).toEqual(new Date(at.getTime() + 30_000));
    expect(await claims.renewLease(id, 'someone-else', 30_000, later(20_000))).toBe(false);
    expect(await claims.renewLease(id, 'holder', 30_000, later(20_000))).toBe(true);
    expect((await runs.findById(id))!.leaseExpiresAt).toEqual(later(50_000));
  });

  it('an expired lease puts the run back in the queue; the last allowed loss fails it with a dead letter', async () => {
    const o = await owner();
    const wf = await workflow(o);
    const [id] = await queue(o, wf.id, 1);
    const maxAttempts = 2;
    const claimAt = later(1000);
    expect((await claims.claimBatch('crashing', 10_000, claimAt, 50)).map((r) => r.id)).toContain(id);
    // Not yet expired: nothing moves.
    expect((await claims.requeueExpired(later(10_000), maxAttempts)).requeued).not.toContain(id);
    const first = await claims.requeueExpired(later(12_000), maxAttempts);
    expect(first).toMatchObject({ requeued: expect.arrayContaining([id]), abandoned: [] });
    expect(await runs.findById(id)).toMatchObject({ status: 'queued', leasedBy: null, lostAttempts: 1 });

    expect((await claims.claimBatch('crashing', 10_000, later(13_000), 50)).map((r) => r.id)).toContain(id);
    const second = await claims.requeueExpired(later(30_000), maxAttempts);
    expect(second.abandoned).toEqual([id]);
    expect(await runs.findById(id)).toMatchObject({
      status: 'failed',
      lostAttempts: 2,
      error: 'Run abandoned after 2 attempts: worker lease lost',
    });
    expect(await m.get(DeadLetterRepository).list(wf.id, 1, 10)).toEqual([expect.objectContaining({ runId: id })]);
  });

  it('release hands a running run back to the queue, and only its lease holder may', async () => {
    const o = await owner();
    const [id] = await queue(o, (await workflow(o)).id, 1);
    expect((await claims.claimBatch('holder', 30_000, later(1000), 50)).map((r) => r.id)).toContain(id);
    expect(await claims.release(id, 'someone-else', later(2000))).toBe(false);
    expect(await claims.release(id, 'holder', later(2000))).toBe(true);
    expect(await runs.findById(id)).toMatchObject({ status: 'queued', leasedBy: null, resumeAt: later(2000) });
    const [again] = (await claims.claimBatch('next', 30_000, later(3000), 50)).filter((r) => r.id === id);
    expect(again).toMatchObject({ leasedBy: 'next', attempt: 2 });
  });

  it('runs finishing together are finished together, each with its node runs, and each learns whether it still held its run', async () => {
    const o = await owner();
    const wf = await workflow(o);
    await m.get(RunsService).setConcurrency(o.principal, wf.id, { limit: 5 });
    const ids = await queue(o, wf.id, 5);
    const at = later(1000);
    const claimed = (await claims.claimBatch('holder', 30_000, at, 50)).filter((r) => ids.includes(r.id));
    expect(claimed).toHaveLength(5);
    const db = m.get(Db);
    const exec = jest.spyOn(db, 'exec');
    const done = later(2000);
    const record = (nodeId: string, outputs: unknown) => ({
      node: { nodeId, name: nodeId.toUpperCase(), nodeType: 'formatter', inputs: { from: nodeId } },
      status: 'succeeded' as const,
      outputs,
      error: null,
      startedAt: done,
      finishedAt: done,
    });
    const outcomes = await Promise.all([
      claims.finish(ids[0], 'holder', 'succeeded', null, done, [record('a', { n: 1 }), record('b', [1, 'x'])]),
      claims.finish(ids[1], 'holder', 'failed', 'boom', done, [record('a', null)]),
      // No longer this worker's run: nothing changes.
      claims.finish(ids[2], 'someone-else', 'succeeded', null, done, [record('a', { lost: true })]),
      claims.finish(ids[3], 'holder', 'canceled', null, done),
      claims.finish(ids[4], 'holder', 'succeeded', null, done, [record('z', { 'quote"d': 'ünï\u0000' })]),
    ]);
    const statements = exec.mock.calls.length;
    exec.mockRestore();
    expect(outcomes).toEqual([true, true, false, true, true]);
    const statuses = await Promise.all(ids.map((id) => runs.findById(id)));
    expect(statuses.map((r) => [r!.status, r!.error, r!.leasedBy])).toEqual([
      ['succeeded', null, null],
      ['failed', 'boom', null],
      ['running', null, 'holder'],
      ['canceled', null, null],
      ['succeeded', null, null],
    ]);
    expect(statuses[0]!.finishedAt).toEqual(done);
    const first = await nodes.nodeRuns(wf.id, ids[0]);
    expect(first.map((n) => [n.nodeId, n.name, n.inputs, n.outputs, n.status])).toEqual([
      ['a', 'A', { from: 'a' }, { n: 1 }, 'succeeded'],
      ['b', 'B', { from: 'b' }, [1, 'x'], 'succeeded'],
    ]);
    expect(first[0].finishedAt).toEqual(done);
    expect((await nodes.nodeRuns(wf.id, ids[1]))[0].outputs).toBeNull();
    // PostgreSQL cannot store NUL in text: it is replaced, as in every other write.
    const nul = db.dialect === 'postgres' ? '\uFFFD' : '\u0000';
    expect((await nodes.nodeRuns(wf.id, ids[4]))[0].outputs).toEqual({ 'quote"d': `ünï${nul}` });
    // PostgreSQL: the first write goes alone, the four asked for meanwhile in one statement.
    if (db.dialect === 'postgres') expect(statements).toBe(2);
  });

  it('a terminal write that fails among others fails alone', async () => {
    const o = await owner();
    const wf = await workflow(o);
    await m.get(RunsService).setConcurrency(o.principal, wf.id, { limit: 3 });
    const ids = await queue(o, wf.id, 3);
    const claimed = (await claims.claimBatch('holder', 30_000, later(1000), 50)).filter((r) => ids.includes(r.id));
    expect(claimed).toHaveLength(3);
    const done = later(2000);
    const record = (nodeId: string) => ({
      node: { nodeId, name: 'N', nodeType: 'formatter', inputs: null },
      status: 'succeeded' as const,
      outputs: { ok: true },
      error: null,
      startedAt: done,
      finishedAt: done,
    });
    const outcomes = await Promise.allSettled([
      claims.finish(ids[0], 'holder', 'succeeded', null, done, [record('a')]),
      // A node run without a node id breaks its statement (NOT NULL).
      claims.finish(ids[1], 'holder', 'succeeded', null, done, [record(null as unknown as string)]),
      claims.finish(ids[2], 'holder', 'succeeded', null, done, [record('a')]),
    ]);
    expect(outcomes.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const after = await Promise.all(ids.map((id) => runs.findById(id)));
    expect(after.map((r) => r!.status)).toEqual(['succeeded', 'running', 'succeeded']);
    expect(await nodes.nodeRuns(wf.id, ids[1])).toEqual([]);
  });

  it('writes issued together commit together; a failing write or unit fails alone', async () => {
    const wf = await workflow(await owner());
    const replays = m.get(WebhookReplayRepository);
    const now = m.clock.now();
    // One turn of the event loop: on SQLite these share one transaction, in order; on PostgreSQL
    // the two `sig-a` writes race on two connections and either may be first.
    const [a1, a2, b] = await Promise.all([
      replays.remember(wf.id, 'sig-a', now),
      replays.remember(wf.id, 'sig-a', now),
      replays.remember(wf.id, 'sig-b', now),
    ]);
    expect([a1, a2, b]).toEqual(m.get(Db).dialect === 'sqlite' ? [true, false, true] : [a1, !a1, true]);

    const db = m.get(Db);
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
    const wf = await workflow(await owner());
    const db = m.get(Db);
    const insert = sql('INSERT INTO webhook_replays (id, workflow_id, signature, created_at) VALUES (?, ?, ?, ?)');
    const at = db.codec(RunEntity).param('createdAt', m.clock.now());
    let timerRan = false;
    const order: number[] = [];
    // Twelve units of 4 ms each: far past one group commit's budget (about 10 ms).
    const units = Array.from({ length: 12 }, (_, i) =>
      db.atomic(async (tx) => {
        // Armed by the first unit itself, so only a turn of the event loop between units can run it.
        if (i === 0) setTimeout(() => (timerRan = true), 0);
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

  describe('concurrency groups and queue expiry (docs/contract.md §2.12)', () => {
    const keyed = (o: TestUser) => workflow(o, graph([trigger('trigger-1', { label: 'Hook' })]));
    const queueFor = async (o: TestUser, workflowId: string, customer: string, n: number) => {
      const ids: string[] = [];
      for (let i = 0; i < n; i += 1) {
        m.clock.advance(1);
        ids.push((await m.get(RunsService).start(o.principal, workflowId, { context: { customer } })).run.id);
      }
      return ids;
    };

    it('claimers at once never take a group past its key limit, and a full group leaves its place to others', async () => {
      const o = await owner();
      const wf = await keyed(o);
      await m
        .get(RunsService)
        .setConcurrency(o.principal, wf.id, { limit: 10, key: '{{Hook.customer}}', key_limit: 2 });
      // The full group's runs are the oldest: a claim must look past them.
      const a = await queueFor(o, wf.id, 'a', 6);
      const b = await queueFor(o, wf.id, 'b', 3);
      expect((await runs.findById(a[0]))!.concurrencyKey).toBe('a');
      const now = later(1000);
      const batches = await Promise.all(['w1', 'w2', 'w3', 'w4'].map((w) => claims.claimBatch(w, 60_000, now, 50)));
      const claimed = batches.flat().filter((r) => r.workflowId === wf.id);
      expect(
        claimed
          .filter((r) => r.concurrencyKey === 'a')
          .map((r) => r.id)
          .sort(),
      ).toEqual(a.slice(0, 2).sort());
      expect(
        claimed
          .filter((r) => r.concurrencyKey === 'b')
          .map((r) => r.id)
          .sort(),
      ).toEqual(b.slice(0, 2).sort());
      expect((await claims.claimBatch('w5', 60_000, now, 50)).filter((r) => r.workflowId === wf.id)).toEqual([]);
      // One of a's runs finishes: exactly one more of a's is claimable.
      const done = claimed.find((r) => r.concurrencyKey === 'a')!;
      expect(await claims.finish(done.id, done.leasedBy!, 'succeeded', null, now, [])).toBe(true);
      const next = (await claims.claimBatch('w6', 60_000, later(2000), 50)).filter((r) => r.workflowId === wf.id);
      expect(next.map((r) => r.id)).toEqual([a[2]]);
    });

    it('a run waiting past its queued_ttl_sec is never claimed, and the sweep ends it expired; a started one never expires', async () => {
      const o = await owner();
      const wf = await keyed(o);
      await m.get(RunsService).setConcurrency(o.principal, wf.id, { limit: 2, queued_ttl_sec: 5 });
      const [started, waiting] = await queueFor(o, wf.id, 'c', 2);
      const [claimed] = (await claims.claimBatch('early', 60_000, later(1000), 1)).filter(
        (r) => r.workflowId === wf.id,
      );
      expect(claimed.id).toBe(started);
      expect(claimed.queueExpiresAt).toBeNull();
      // Past its expiry, not yet swept: no claim starts it.
      expect((await claims.claimBatch('late', 60_000, later(6000), 50)).map((r) => r.id)).not.toContain(waiting);
      expect(await claims.expireQueued(later(6000))).toEqual(expect.arrayContaining([waiting]));
      expect(await runs.findById(waiting)).toMatchObject({
        status: 'expired',
        error: "Expired: not started within the workflow's queued_ttl_sec",
        queueExpiresAt: null,
        finishedAt: later(6000),
      });
      expect(await claims.expireQueued(later(7000))).not.toContain(waiting);
      expect((await runs.findById(started))!.status).toBe('running');
    });

    it('starts that cancel the oldest and claims at the same moment neither deadlock nor pass the limit', async () => {
      const o = await owner();
      const wf = await keyed(o);
      await m.get(RunsService).setConcurrency(o.principal, wf.id, {
        limit: 5,
        key: '{{Hook.customer}}',
        key_limit: 1,
        on_limit: 'cancel_oldest',
      });
      const service = m.get(RunsService);
      const errors: unknown[] = [];
      let starting = true;
      const starters = ['a', 'b', 'c'].map(async (customer) => {
        for (let i = 0; i < 10; i += 1) {
          await service.start(o.principal, wf.id, { context: { customer } }).catch((e: unknown) => errors.push(e));
        }
      });
      const claimers = ['w1', 'w2', 'w3'].map(async (worker) => {
        while (starting) {
          // SQLite answers synchronously: without a turn of the event loop the starters never run.
          await new Promise((resolve) => setImmediate(resolve));
          const mine = (
            await claims.claimBatch(worker, 60_000, later(1000), 10).catch((e: unknown) => {
              errors.push(e);
              return [];
            })
          ).filter((r) => r.workflowId === wf.id);
          const { rows } = await m
            .get(Db)
            .read<{ concurrency_key: string; n: number | string }>(
              sql(
                "SELECT concurrency_key, COUNT(*) AS n FROM workflow_runs WHERE workflow_id = ? AND status = 'running' GROUP BY concurrency_key",
              ),
              [wf.id],
            );
          for (const row of rows) expect(Number(row.n)).toBeLessThanOrEqual(1);
          for (const run of mine) await claims.finish(run.id, worker, 'succeeded', null, later(1000), []);
        }
      });
      await Promise.all(starters);
      starting = false;
      await Promise.all(claimers);
      expect(errors).toEqual([]);
    });
  });
});
