import { DeadLetterRepository } from '../../src/database/repositories/dead-letter.repository';
import { NodeRunRepository } from '../../src/database/repositories/node-run.repository';
import { RunQueueRepository } from '../../src/database/repositories/run-queue.repository';
import { NewRun, RunRepository } from '../../src/database/repositories/run.repository';
import { WorkflowEntity } from '../../src/database/entities/workflow.entity';
import { createMedium, Medium, TestUser } from '../utils/medium';

/**
 * The run, node-run and dead-letter repositories on a real database (the queue's claims and
 * leases: run-claims.medium-spec.ts). Reads a user reaches are scoped by their workflow first:
 * another workflow's id finds nothing.
 */
describe('run repositories', () => {
  let m: Medium;
  let owner: TestUser;
  let runs: RunRepository;
  let nodes: NodeRunRepository;
  let deadLetters: DeadLetterRepository;
  let queue: RunQueueRepository;
  let wf: WorkflowEntity;
  let other: WorkflowEntity;

  beforeAll(async () => {
    m = await createMedium();
    owner = await m.make.user({ plan: 'workspace' });
    runs = m.get(RunRepository);
    nodes = m.get(NodeRunRepository);
    deadLetters = m.get(DeadLetterRepository);
    queue = m.get(RunQueueRepository);
  });
  beforeEach(async () => {
    wf = await m.make.workflow(owner, { workspaceId: owner.soloWorkspaceId });
    other = await m.make.workflow(owner, { workspaceId: owner.soloWorkspaceId });
  });
  afterAll(() => m?.close());

  const newRun = (workflow: WorkflowEntity, extra: Partial<NewRun> = {}): NewRun => ({
    ownerId: owner.user.id,
    workflowId: workflow.id,
    workspaceId: workflow.workspaceId,
    snapshot: { nodes: [], edges: [] },
    idempotencyKey: null,
    triggeredBy: `user:${owner.user.id}`,
    requestId: null,
    queuePriority: 0,
    ...extra,
  });
  const insert = async (workflow = wf, extra: Partial<NewRun> = {}) =>
    (await runs.insert(newRun(workflow, extra), m.clock.now(), [{ triggeredBy: 'test' }])).run;

  describe('RunRepository', () => {
    it('a run and its first event are written together', async () => {
      const run = await insert();
      expect(await runs.findForWorkflow(wf.id, run.id)).toMatchObject({ id: run.id, status: 'queued' });
      expect((await runs.eventsFor(wf.id, run.id)).map((e) => e.triggeredBy)).toEqual(['test']);
    });

    it('a used idempotency key answers the run it made instead of inserting another', async () => {
      const first = await insert(wf, { idempotencyKey: 'k-1' });
      const again = await runs.insert(newRun(wf, { idempotencyKey: 'k-1' }), m.clock.now());
      expect(again).toMatchObject({ duplicate: true, run: { id: first.id } });
      expect(await runs.listForWorkflow(wf.id, 1, 10, [])).toHaveLength(1);
    });

    it('a run is found only through its own workflow', async () => {
      const run = await insert();
      expect(await runs.findForWorkflow(other.id, run.id)).toBeNull();
      expect(await runs.eventsFor(other.id, run.id)).toEqual([]);
      expect(await runs.cancel(other.id, run.id, m.clock.now())).toBe(false);
      expect(await runs.statusOf(run.id)).toBe('queued');
    });

    it('lists filter by status, newest first, one page at a time', async () => {
      const older = await insert();
      m.clock.advance(1_000);
      const newer = await insert();
      expect(await runs.cancel(wf.id, older.id, m.clock.now())).toBe(true);
      expect((await runs.listForWorkflow(wf.id, 1, 10, [])).map((r) => r.id)).toEqual([newer.id, older.id]);
      expect((await runs.listForWorkflow(wf.id, 1, 10, ['canceled'])).map((r) => r.id)).toEqual([older.id]);
      expect((await runs.listForWorkflow(wf.id, 2, 1, [])).map((r) => r.id)).toEqual([older.id]);
    });

    it('cancel-all flips only the workflow’s queued and running runs', async () => {
      const a = await insert();
      const b = await insert();
      const elsewhere = await insert(other);
      const canceled = await runs.cancelAllActive(wf.id, m.clock.now());
      expect(canceled.map((r) => r.id).sort()).toEqual([a.id, b.id].sort());
      expect(await runs.statusOf(elsewhere.id)).toBe('queued');
      expect(await runs.cancelAllActive(wf.id, m.clock.now())).toEqual([]);
    });
  });

  describe('NodeRunRepository', () => {
    const start = (nodeId: string) => ({ nodeId, name: nodeId, nodeType: 'action', inputs: { at: nodeId } });

    it('a node starts as running and finishes with its outputs, keeping its first start time', async () => {
      const run = await insert();
      const startedAt = m.clock.now();
      await nodes.startNode(run.id, start('a'), startedAt);
      m.clock.advance(500);
      // Starting the same node again (a resumed run) keeps its first start.
      await nodes.startNode(run.id, start('a'), m.clock.now());
      await nodes.finishNode(run.id, 'a', 'succeeded', { ok: true }, null, m.clock.now());
      const [node] = await nodes.nodeRuns(wf.id, run.id);
      expect(node).toMatchObject({ nodeId: 'a', status: 'succeeded', outputs: { ok: true }, error: null });
      expect(node.startedAt).toEqual(startedAt);
    });

    it('nodes recorded together come back in execution order', async () => {
      const run = await insert();
      const now = m.clock.now();
      const records = ['x', 'y', 'z'].map((id) => ({
        node: start(id),
        status: 'succeeded' as const,
        outputs: { id },
        error: null,
        startedAt: now,
        finishedAt: now,
      }));
      await nodes.recordNodes(run.id, records, now);
      expect((await nodes.nodeRuns(wf.id, run.id)).map((n) => n.nodeId)).toEqual(['x', 'y', 'z']);
    });

    it("a run's node runs are not readable through another workflow", async () => {
      const run = await insert();
      await nodes.startNode(run.id, start('a'), m.clock.now());
      expect(await nodes.nodeRuns(other.id, run.id)).toEqual([]);
    });
  });

  describe('DeadLetterRepository', () => {
    /** A run that lost its lease for good: claimed, then failed with a dead letter by its holder. */
    const deadLetter = async (workflow = wf) => {
      const run = await insert(workflow);
      // Earlier tests left runs queued: claim everything due and keep this one.
      const claimed = await queue.claimBatch('w-1', 30_000, m.clock.now(), 100);
      expect(claimed.map((c) => c.id)).toContain(run.id);
      const snapshot = { nodes: [], edges: [], _trigger_context: { n: 1 } };
      expect(await queue.failWithDeadLetter(run, 'w-1', 'lost', snapshot, m.clock.now())).toBe(true);
      const [letter] = await deadLetters.list(workflow.id, 1, 10);
      return { run, letter };
    };

    it('failing with a dead letter writes the letter with the run’s snapshot', async () => {
      const { run, letter } = await deadLetter();
      expect(letter).toMatchObject({ runId: run.id, workflowId: wf.id, error: 'lost' });
      expect(letter.snapshot).toMatchObject({ _trigger_context: { n: 1 } });
      expect(await runs.statusOf(run.id)).toBe('failed');
    });

    it('a dead letter is found, requeued and cleared only through its own workflow', async () => {
      const { letter } = await deadLetter();
      expect(await deadLetters.find(other.id, letter.id)).toBeNull();
      expect(await deadLetters.requeue(letter.id, newRun(other), m.clock.now())).toBeNull();
      expect(await deadLetters.clear(other.id)).toBe(0);
      expect(await deadLetters.find(wf.id, letter.id)).not.toBeNull();
    });

    it('a requeue deletes the letter and queues its run in one write; the second finds nothing', async () => {
      const { letter } = await deadLetter();
      const run = await deadLetters.requeue(
        letter.id,
        newRun(wf, { triggeredBy: `dead_letter:${letter.id}` }),
        m.clock.now(),
      );
      expect(run).toMatchObject({ status: 'queued', triggeredBy: `dead_letter:${letter.id}` });
      expect((await runs.eventsFor(wf.id, run!.id)).map((e) => e.triggeredBy)).toEqual([`dead_letter:${letter.id}`]);
      expect(await deadLetters.find(wf.id, letter.id)).toBeNull();
      expect(await deadLetters.requeue(letter.id, newRun(wf), m.clock.now())).toBeNull();
    });
  });
});
