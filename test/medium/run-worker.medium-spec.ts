import { RunEntity } from '../../src/database/entities/run.entity';
import { NodeRunRepository } from '../../src/database/repositories/node-run.repository';
import { RunQueueRepository } from '../../src/database/repositories/run-queue.repository';
import { RunRepository } from '../../src/database/repositories/run.repository';
import { RunWorker } from '../../src/runs/run-worker';
import { RunsModule } from '../../src/runs/runs.module';
import { RunsService } from '../../src/runs/runs.service';
import { formatSecretReference } from '../../src/secrets/secret-reference';
import { SecretsService } from '../../src/secrets/secrets.service';
import { WorkerModule } from '../../src/worker.module';
import { graph, http, trigger } from '../factories/workflow.factory';
import { createMedium, Medium, TestUser } from '../utils/medium';
import { TargetServer } from '../utils/target-server';
import { waitFor } from '../utils/wait';

/**
 * RunWorker with the real engine, journal and repositories (docs/contract.md §4.3). Runs are queued
 * through RunsService; lease time is moved with the clock, and every wait polls with a deadline.
 * The trigger → formatter → condition graph needs no network; a node that must stay in flight
 * calls a local server that holds the request until the test lets go.
 */
const upper = {
  id: 'fmt',
  type: 'formatter',
  data: { label: 'Upper', config: { operation: 'string.uppercase', input: '{{Trigger.word}}', output_key: 'text' } },
};
const check = { id: 'check', type: 'condition', data: { label: 'Check', expression: '{{Upper.text}} == "HELLO"' } };
const pureGraph = () =>
  graph(
    [trigger(), upper, check],
    [
      ['trigger-1', 'fmt'],
      ['fmt', 'check'],
    ],
  );

const TERMINAL = ['succeeded', 'failed', 'canceled'];

function harness(env: Record<string, string>) {
  const h = {} as {
    m: Medium;
    worker: RunWorker;
    runs: RunRepository;
    claims: RunQueueRepository;
    nodes: NodeRunRepository;
    target: TargetServer;
    owner: TestUser;
  };
  beforeAll(async () => {
    h.m = await createMedium({
      imports: [RunsModule, WorkerModule],
      env: {
        // One engine thread per lane: each compiles the engine from source when it starts.
        ENGINE_THREADS: '1',
        WORKER_POLL_INTERVAL_MS: '10',
        WORKER_HEARTBEAT_INTERVAL_MS: '50',
        WORKER_LEASE_SECONDS: '30',
        ...env,
      },
    });
    h.worker = h.m.get(RunWorker);
    h.runs = h.m.get(RunRepository);
    h.claims = h.m.get(RunQueueRepository);
    h.nodes = h.m.get(NodeRunRepository);
    h.target = await new TargetServer().start();
    h.owner = await h.m.make.user({ plan: 'workspace' });
  });
  afterEach(() => h.worker.stop());
  afterAll(async () => {
    await h.target?.stop();
    await h.m?.close();
  });
  return h;
}

describe('RunWorker', () => {
  const h = harness({ WORKER_SHUTDOWN_GRACE_SECONDS: '0' });

  const queue = async (data: ReturnType<typeof graph>, context: unknown = { word: 'hello' }) => {
    const wf = await h.m.make.workflow(h.owner, { workspaceId: h.owner.soloWorkspaceId, data });
    const { run } = await h.m.get(RunsService).start(h.owner.principal, wf.id, { context });
    return { workflowId: wf.id, runId: run.id };
  };
  const status = async (runId: string) => (await h.runs.findById(runId))!.status;
  const settled = (runId: string): Promise<RunEntity> =>
    waitFor(async () => {
      const run = await h.runs.findById(runId);
      return run && TERMINAL.includes(run.status) && h.worker.inflightCount === 0 ? run : undefined;
    }, `run ${runId} to finish`);
  const nodeRuns = async (runId: string) => h.nodes.nodeRuns((await h.runs.findById(runId))!.workflowId, runId);
  const nodeStatuses = async (runId: string) => (await nodeRuns(runId)).map((n) => `${n.nodeId}:${n.status}`);

  it('claims a queued run and executes every node to success under its own lease', async () => {
    const { runId } = await queue(pureGraph());
    h.worker.start();
    const run = await settled(runId);
    expect(run).toMatchObject({ status: 'succeeded', error: null, attempt: 1 });
    expect(run.firstClaimedAt).toEqual(h.m.clock.now());
    expect(await nodeStatuses(runId)).toEqual(['trigger-1:succeeded', 'fmt:succeeded', 'check:succeeded']);
    const outputs = Object.fromEntries((await nodeRuns(runId)).map((n) => [n.nodeId, n.outputs]));
    expect(outputs.fmt).toEqual({ text: 'HELLO' });
    expect(outputs.check).toMatchObject({ result: true });
  });

  it("reads the owner's secrets once per claimed batch, and the next batch sees a change", async () => {
    const secrets = h.m.get(SecretsService);
    const path = { group: 'batch', service: 'target', name: 'key' };
    await secrets.put(h.owner.principal, path, 'first-value');
    const data = graph(
      [
        trigger(),
        http('call', {
          url: `${h.target.url}/batch-lookups`,
          headers: [{ key: 'X-Key', value: formatSecretReference(path) }],
        }),
      ],
      [['trigger-1', 'call']],
    );
    const reads = jest.spyOn(secrets, 'decryptedStore');
    try {
      const first = [await queue(data), await queue(data), await queue(data)];
      h.worker.start();
      for (const { runId } of first) expect((await settled(runId)).status).toBe('succeeded');
      expect(reads).toHaveBeenCalledTimes(1);
      await h.worker.stop();

      await secrets.put(h.owner.principal, path, 'second-value');
      const { runId } = await queue(data);
      h.worker.start();
      expect((await settled(runId)).status).toBe('succeeded');
      expect(reads).toHaveBeenCalledTimes(2);
      const sent = h.target.seen.filter((r) => r.path === '/batch-lookups').map((r) => r.headers['x-key']);
      expect(sent).toEqual(['first-value', 'first-value', 'first-value', 'second-value']);
    } finally {
      reads.mockRestore();
    }
  });

  it('a run canceled while a node is in flight stops at once: the call is dropped and later nodes never run', async () => {
    const data = graph(
      [trigger(), http('call', { url: `${h.target.url}/hold/cancel` }), upper],
      [
        ['trigger-1', 'call'],
        ['call', 'fmt'],
      ],
    );
    const { workflowId, runId } = await queue(data);
    h.worker.start();
    await waitFor(() => h.target.heldCount('cancel') === 1, 'the HTTP node to be in flight');
    await h.m.get(RunsService).cancel(h.owner.principal, workflowId, runId);
    expect((await settled(runId)).status).toBe('canceled');
    await waitFor(() => h.target.heldCount('cancel') === 0, 'the held call to be dropped');
    expect(await nodeStatuses(runId)).not.toContain('fmt:succeeded');
  });

  it('a cancel written by another process is noticed on the next heartbeat', async () => {
    const data = graph([trigger(), http('call', { url: `${h.target.url}/hold/elsewhere` })], [['trigger-1', 'call']]);
    const { workflowId, runId } = await queue(data);
    h.worker.start();
    await waitFor(() => h.target.heldCount('elsewhere') === 1, 'the HTTP node to be in flight');
    // The repository write alone, without this process's cancel event.
    expect(await h.runs.cancel(workflowId, runId, h.m.clock.now())).toBe(true);
    expect((await settled(runId)).status).toBe('canceled');
    await waitFor(() => h.target.heldCount('elsewhere') === 0, 'the held call to be dropped');
  });

  it('a run whose lease expired is requeued and executed again by a live worker', async () => {
    const { runId } = await queue(pureGraph());
    // A worker that claims and then dies: its lease runs out only when the clock passes it.
    const [claimed] = await h.claims.claimBatch('dead-worker', h.m.config.worker.leaseMs, h.m.clock.now(), 1);
    expect(claimed).toMatchObject({ id: runId, leasedBy: 'dead-worker', attempt: 1 });
    h.worker.start();
    h.m.clock.advance(h.m.config.worker.leaseMs + 1_000);
    const run = await settled(runId);
    expect(run).toMatchObject({ status: 'succeeded', attempt: 2, lostAttempts: 1 });
    expect(run.leasedBy).not.toBe('dead-worker');
  });

  it('shutdown hands an in-flight run back to the queue, claimable by the next worker', async () => {
    const data = graph([trigger(), http('call', { url: `${h.target.url}/hold/shutdown` })], [['trigger-1', 'call']]);
    const { runId } = await queue(data);
    h.worker.start();
    await waitFor(() => h.target.heldCount('shutdown') === 1, 'the HTTP node to be in flight');
    await h.worker.stop();
    expect(h.worker.inflightCount).toBe(0);
    expect(await h.runs.findById(runId)).toMatchObject({ status: 'queued', leasedBy: null, leaseExpiresAt: null });
    await waitFor(() => h.target.heldCount('shutdown') === 0, 'the held call to be dropped');
    const [next] = await h.claims.claimBatch('next-worker', h.m.config.worker.leaseMs, h.m.clock.now(), 10);
    expect(next).toMatchObject({ id: runId, leasedBy: 'next-worker', attempt: 2 });
    expect(await status(runId)).toBe('running');
  });
});

describe('RunWorker shutdown with a grace period', () => {
  const h = harness({ WORKER_SHUTDOWN_GRACE_SECONDS: '600' });

  it('shutdown waits for an in-flight run that finishes within the grace period', async () => {
    const data = graph([trigger(), http('call', { url: `${h.target.url}/hold/grace` })], [['trigger-1', 'call']]);
    const wf = await h.m.make.workflow(h.owner, { workspaceId: h.owner.soloWorkspaceId, data });
    const { run } = await h.m.get(RunsService).start(h.owner.principal, wf.id, undefined);
    h.worker.start();
    await waitFor(() => h.target.heldCount('grace') === 1, 'the HTTP node to be in flight');
    let stopped = false;
    const stopping = h.worker.stop().then(() => (stopped = true));
    // The claim loop has ended (no more claims) while the run is still in flight.
    await waitFor(async () => (await h.runs.findById(run.id))!.status === 'running' && !stopped, 'shutdown to begin');
    expect(h.target.release('grace')).toBe(1);
    await stopping;
    expect(await h.runs.findById(run.id)).toMatchObject({ status: 'succeeded' });
  });
});
