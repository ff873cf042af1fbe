import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { UndiciOutboundHttp } from '../egress/undici-outbound-http';
import { SNAPSHOT_KEYS } from './snapshot';
import { Redactor } from '../secrets/redactor';
import type { SecretsService } from '../secrets/secrets.service';
import type { IntegrationGates } from '../plans/integration-gates';
import { NodeRegistry } from './node-registry';
import { ExecutionLease, RunExecutor, StopReason } from './run-executor';
import type { Checkpoint, ExecutableRun, NodeRunRecord, NodeRunStart, RunJournal } from './run-journal';
import { InlinePureNodeRunner, NodeThreadPool, PureNodeRunner } from './threads/node-thread-pool';

type Entry =
  | { kind: 'started' }
  | { kind: 'node-started'; nodeId: string }
  | { kind: 'node-running'; nodeId: string }
  | { kind: 'node-finished'; nodeId: string; status: string; error: string | null; outputs: unknown }
  | { kind: 'nodes-finished'; records: NodeRunRecord[] }
  | { kind: 'paused'; until: Date; snapshot: Record<string, unknown> }
  | { kind: 'finished'; status: string; error: string | null; records: NodeRunRecord[] }
  | { kind: 'dead-letter'; error: string }
  | { kind: 'released' };

/** Everything an execution reports, in order; `holds` says whether the lease is still ours. */
class MemoryJournal implements RunJournal {
  readonly entries: Entry[] = [];
  holds = true;

  constructor(private readonly earlier: Checkpoint[] = []) {}

  started(): void {
    this.entries.push({ kind: 'started' });
  }
  async checkpoints(): Promise<Checkpoint[]> {
    return this.earlier;
  }
  async nodeStarted(start: NodeRunStart): Promise<void> {
    this.entries.push({ kind: 'node-started', nodeId: start.nodeId });
  }
  nodeRunning(start: NodeRunStart): void {
    this.entries.push({ kind: 'node-running', nodeId: start.nodeId });
  }
  async nodeFinished(
    start: NodeRunStart,
    status: 'succeeded' | 'failed',
    outputs: unknown,
    error: string | null,
  ): Promise<void> {
    this.entries.push({ kind: 'node-finished', nodeId: start.nodeId, status, error, outputs });
  }
  async nodesFinished(records: NodeRunRecord[]): Promise<void> {
    this.entries.push({ kind: 'nodes-finished', records });
  }
  async paused(until: Date, snapshot: Record<string, unknown>): Promise<boolean> {
    this.entries.push({ kind: 'paused', until, snapshot });
    return this.holds;
  }
  async finished(status: 'succeeded' | 'failed', error: string | null, records: NodeRunRecord[]): Promise<boolean> {
    this.entries.push({ kind: 'finished', status, error, records });
    return this.holds;
  }
  async failedWithDeadLetter(error: string): Promise<boolean> {
    this.entries.push({ kind: 'dead-letter', error });
    return this.holds;
  }
  async released(): Promise<boolean> {
    this.entries.push({ kind: 'released' });
    return this.holds;
  }

  /** Every node run written, in the order written (buffered or not). */
  nodeRuns(): { nodeId: string; status: string; error: string | null; outputs: unknown }[] {
    return this.entries.flatMap((e) => {
      if (e.kind === 'node-finished')
        return [{ nodeId: e.nodeId, status: e.status, error: e.error, outputs: e.outputs }];
      if (e.kind === 'nodes-finished' || e.kind === 'finished') {
        return e.records.map((r) => ({ nodeId: r.node.nodeId, status: r.status, error: r.error, outputs: r.outputs }));
      }
      return [];
    });
  }

  last(): Entry {
    return this.entries[this.entries.length - 1];
  }
}

class StoppableLease implements ExecutionLease {
  private readonly controller = new AbortController();
  private reason: StopReason | null = null;
  readonly signal = this.controller.signal;
  stop(reason: StopReason): void {
    this.reason = reason;
    this.controller.abort(new Error(reason));
  }
  stopReason(): StopReason | null {
    return this.reason;
  }
}

const engineConfig = {
  httpMaxResponseBytes: 1 << 20,
  codeTimeoutMs: 1000,
  codeMemoryBytes: 16 << 20,
  threads: 1,
  threadMemoryMb: 64,
  inlineMaxBytes: 4096,
  nodeTimeoutMs: 2000,
  nodeOutputBytes: 4096,
  runOutputBytes: 10_000,
};

function executor(
  overrides: Partial<typeof engineConfig> = {},
  secrets = new Map<string, string>(),
  threads: (config: AppConfig) => PureNodeRunner = () => new InlinePureNodeRunner(),
): RunExecutor {
  const config = {
    engine: { ...engineConfig, ...overrides },
    providers: {},
    roles: new Set(['worker']),
  } as unknown as AppConfig;
  const redactor = new Redactor();
  const secretsService = { redactor, decryptedStore: async () => secrets } as unknown as SecretsService;
  return new RunExecutor(
    new NodeRegistry(config, {} as IntegrationGates),
    threads(config),
    secretsService,
    new UndiciOutboundHttp({ maxResponseBytes: 1 << 20 }),
    new Clock(),
    config,
  );
}

let seq = 0;
function run(nodes: unknown[], edges: [string, string, string?][], extra: Record<string, unknown> = {}): ExecutableRun {
  seq += 1;
  return {
    id: `run-${seq}`,
    workflowId: 'wf',
    workspaceId: 'ws',
    ownerId: 'owner',
    attempt: 1,
    snapshot: {
      nodes,
      edges: edges.map(([source, target, sourceHandle], i) => ({ id: `e${i}`, source, target, sourceHandle })),
      [SNAPSHOT_KEYS.triggerContext]: { amount: 150, customer: 'ada' },
      ...extra,
    },
  };
}

const trigger = { id: 't', type: 'trigger', data: { label: 'Hook' } };
const big = (id: string, label = id) => ({
  id,
  type: 'formatter',
  data: { label, config: { operation: 'string.trim', input: 'x'.repeat(3000), output_key: 'out' } },
});

describe('RunExecutor on an in-memory journal', () => {
  let server: http.Server;
  let url = '';
  const hits: string[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      hits.push(req.url ?? '');
      if (req.url?.startsWith('/never')) return; // answers nothing: a node that hangs
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ path: req.url }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const httpNode = (id: string, path: string, data: Record<string, unknown> = {}) => ({
    id,
    type: 'action',
    data: { label: id, actionType: 'http', params: { method: 'GET', url: `${url}${path}` }, ...data },
  });

  it('follows the condition branch, buffers in-memory node runs and finishes with them', async () => {
    const journal = new MemoryJournal();
    const cond = {
      id: 'c',
      type: 'condition',
      data: { label: 'Big', expression: '{{Hook.amount}} > 100' },
    };
    const yes = httpNode('yes', '/yes');
    const no = httpNode('no', '/no');
    const outcome = await executor().execute(
      run(
        [trigger, cond, yes, no],
        [
          ['t', 'c'],
          ['c', 'yes', 'cond-true'],
          ['c', 'no', 'cond-false'],
        ],
      ),
      new StoppableLease(),
      journal,
    );
    expect(outcome).toBe('succeeded');
    expect(hits).toContain('/yes');
    expect(hits).not.toContain('/no');
    // The trigger and the condition are written together before the HTTP node starts.
    const kinds = journal.entries.map((e) => e.kind);
    expect(kinds.indexOf('nodes-finished')).toBeLessThan(kinds.indexOf('node-started'));
    expect(journal.nodeRuns().map((n) => [n.nodeId, n.status])).toEqual([
      ['t', 'succeeded'],
      ['c', 'succeeded'],
      ['yes', 'succeeded'],
    ]);
    expect(journal.last()).toMatchObject({ kind: 'finished', status: 'succeeded', error: null });
  });

  it('a node of an unknown type or actionType fails the run with the reason instead of being skipped', async () => {
    for (const [node, reason] of [
      [{ id: 'x', type: 'fromatter', data: { label: 'X' } }, 'unknown node type "fromatter"'],
      [{ id: 'x', type: 'action', data: { label: 'X', actionType: 'htp', params: {} } }, 'unknown actionType "htp"'],
      [{ id: 'x', type: 'actionCustom', data: { label: 'X' } }, 'action node type "actionCustom" names no actionType'],
    ] as const) {
      const journal = new MemoryJournal();
      const outcome = await executor().execute(run([trigger, node], [['t', 'x']]), new StoppableLease(), journal);
      expect(outcome).toBe('failed');
      expect(journal.nodeRuns().find((n) => n.nodeId === 'x')).toMatchObject({
        status: 'failed',
        error: `This server cannot run this node: ${reason}`,
      });
      expect(journal.last()).toMatchObject({ kind: 'dead-letter' });
    }
  });

  it('a failing node files a dead letter; stopOnError:false goes on without its outputs', async () => {
    const failing = new MemoryJournal();
    const broken = httpNode('broken', '', { params: { method: 'GET', url: 'not a url' } });
    expect(await executor().execute(run([trigger, broken], [['t', 'broken']]), new StoppableLease(), failing)).toBe(
      'failed',
    );
    expect(failing.last()).toMatchObject({ kind: 'dead-letter' });

    const tolerant = new MemoryJournal();
    const tolerated = { ...broken, data: { ...broken.data, stopOnError: false } };
    const after = httpNode('after', '/after');
    const outcome = await executor().execute(
      run(
        [trigger, tolerated, after],
        [
          ['t', 'broken'],
          ['broken', 'after'],
        ],
      ),
      new StoppableLease(),
      tolerant,
    );
    expect(outcome).toBe('succeeded');
    expect(tolerant.nodeRuns().map((n) => [n.nodeId, n.status])).toEqual([
      ['t', 'succeeded'],
      ['broken', 'failed'],
      ['after', 'succeeded'],
    ]);
  });

  it('a delay pauses with the resume state; a resumed attempt reuses checkpoints and runs nothing twice', async () => {
    const journal = new MemoryJournal();
    const until = new Date(Date.now() + 60_000).toISOString();
    const wait = {
      id: 'wait',
      type: 'delay',
      data: { label: 'Wait', config: { mode: 'datetime', wait_until: until } },
    };
    const after = httpNode('after', '/after-pause');
    const graph = run(
      [trigger, wait, after],
      [
        ['t', 'wait'],
        ['wait', 'after'],
      ],
    );
    expect(await executor().execute(graph, new StoppableLease(), journal)).toBe('paused');
    const paused = journal.last() as Extract<Entry, { kind: 'paused' }>;
    expect(paused.until.toISOString()).toBe(until);
    expect(paused.snapshot[SNAPSHOT_KEYS.resumeFromNodes]).toEqual(['after']);
    expect(hits).not.toContain('/after-pause');

    // The second attempt: the delay's checkpoint is in the past now, so the run goes on.
    const earlier: Checkpoint[] = journal.nodeRuns().map((n, i) => ({
      nodeId: n.nodeId,
      status: n.status,
      outputs: n.nodeId === 'wait' ? { resumeAt: new Date(Date.now() - 1).toISOString() } : n.outputs,
      sequence: i,
      updatedAt: new Date(),
    }));
    const resumed = new MemoryJournal(earlier);
    const outcome = await executor().execute(
      { ...graph, attempt: 2, snapshot: paused.snapshot },
      new StoppableLease(),
      resumed,
    );
    expect(outcome).toBe('succeeded');
    expect(resumed.nodeRuns().map((n) => n.nodeId)).toEqual(['after']);
    expect(hits.filter((h) => h === '/after-pause')).toHaveLength(1);
  });

  it('outputs past the node limit, or past the run limit, fail the node with output_too_large', async () => {
    const small = executor({ nodeOutputBytes: 1024 });
    const one = new MemoryJournal();
    expect(await small.execute(run([trigger, big('f')], [['t', 'f']]), new StoppableLease(), one)).toBe('failed');
    expect(JSON.parse((one.last() as { error: string }).error)).toMatchObject({ error: 'output_too_large' });

    // Three 3 KB outputs fit one by one (4 KB each) but not together (10 KB per run).
    const total = new MemoryJournal();
    const chain = run(
      [trigger, big('a'), big('b'), big('c'), big('d')],
      [
        ['t', 'a'],
        ['a', 'b'],
        ['b', 'c'],
        ['c', 'd'],
      ],
    );
    expect(await executor().execute(chain, new StoppableLease(), total)).toBe('failed');
    const failed = total.nodeRuns().find((n) => n.status === 'failed')!;
    expect(failed.nodeId).toBe('d');
    expect(JSON.parse(failed.error!)).toMatchObject({ error: 'output_too_large' });
  });

  it('a node that ignores its deadline fails node_timeout; a cancel stops the run without a terminal write', async () => {
    const slow = new MemoryJournal();
    const hang = httpNode('hang', '/never', { timeout: 60_000 });
    const outcome = await executor({ nodeTimeoutMs: 200 }).execute(
      run([trigger, hang], [['t', 'hang']]),
      new StoppableLease(),
      slow,
    );
    expect(outcome).toBe('failed');
    expect(JSON.parse((slow.last() as { error: string }).error)).toMatchObject({ error: 'node_timeout' });

    const canceled = new MemoryJournal();
    const lease = new StoppableLease();
    const pending = executor().execute(run([trigger, httpNode('hang', '/never-2')], [['t', 'hang']]), lease, canceled);
    const deadline = Date.now() + 5000;
    while (!hits.includes('/never-2') && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    lease.stop('canceled');
    expect(await pending).toBe('canceled');
    expect(canceled.entries.some((e) => e.kind === 'finished' || e.kind === 'dead-letter')).toBe(false);
  });

  it('a terminal write that no longer applies (lease lost) ends as lost, not succeeded', async () => {
    const journal = new MemoryJournal();
    journal.holds = false;
    expect(await executor().execute(run([trigger], []), new StoppableLease(), journal)).toBe('lost');
  });

  it('secrets are hydrated for the node and redacted from what is recorded', async () => {
    const journal = new MemoryJournal();
    const secret = 'sk-live-0123456789abcdef';
    const echo = {
      id: 'echo',
      type: 'formatter',
      data: {
        label: 'Echo',
        config: { operation: 'string.trim', input: '{{Hook.customer}}', output_key: 'out' },
        params: { token: 'http:bearer_token:api' },
      },
    };
    const code = {
      id: 'code',
      type: 'action',
      data: {
        label: 'Code',
        actionType: 'code',
        params: {
          code: 'return { leaked: inputs.key, length: inputs.key.length };',
          inputs: [{ key: 'key', value: 'http:bearer_token:api' }],
        },
      },
    };
    const store = new Map([['http:bearer_token:api', secret]]);
    const outcome = await executor({}, store).execute(
      run(
        [trigger, echo, code],
        [
          ['t', 'echo'],
          ['echo', 'code'],
        ],
      ),
      new StoppableLease(),
      journal,
    );
    expect(outcome).toBe('succeeded');
    // Hydrated for the snippet (it saw the value's length), redacted from what was recorded.
    expect(journal.nodeRuns().find((n) => n.nodeId === 'code')!.outputs).toMatchObject({ length: secret.length });
    expect(JSON.stringify(journal.entries)).not.toContain(secret);
  });

  it('in real threads: a node of a stretch that overruns its budget fails node_timeout, the ones before it are kept', async () => {
    let pool: NodeThreadPool | undefined;
    const threaded = executor(
      { nodeTimeoutMs: 300, threadMemoryMb: 1024, nodeOutputBytes: 1 << 30, runOutputBytes: 1 << 30 },
      new Map(),
      (config) => {
        pool = new NodeThreadPool(config);
        return pool;
      },
    );
    try {
      await pool!.onApplicationBootstrap(); // threads started and their modules loaded
      const journal = new MemoryJournal();
      const quick = {
        id: 'quick',
        type: 'formatter',
        data: { label: 'Quick', config: { operation: 'string.uppercase', input: 'ok', output_key: 'o' } },
      };
      // Flattening 300,000 small objects takes far longer than 0.3 s.
      const slow = {
        id: 'slow',
        type: 'formatter',
        data: {
          label: 'Slow',
          config: {
            operation: 'json.flatten',
            input: `[${Array.from({ length: 300_000 }, () => '{"a":[1,2]}').join(',')}]`,
            output_key: 'o',
          },
        },
      };
      const never = { ...quick, id: 'never', data: { ...quick.data, label: 'Never' } };
      const outcome = await threaded.execute(
        run(
          [trigger, quick, slow, never],
          [
            ['t', 'quick'],
            ['quick', 'slow'],
            ['slow', 'never'],
          ],
        ),
        new StoppableLease(),
        journal,
      );
      expect(outcome).toBe('failed');
      expect(journal.nodeRuns().map((n) => [n.nodeId, n.status])).toEqual([
        ['t', 'succeeded'],
        ['quick', 'succeeded'],
        ['slow', 'failed'],
      ]);
      expect(JSON.parse(journal.nodeRuns()[2].error!)).toMatchObject({ error: 'node_timeout' });
      expect(journal.last()).toMatchObject({ kind: 'dead-letter' });
    } finally {
      await pool?.onApplicationShutdown();
    }
  }, 60_000);

  it('a stretch over a few KB runs inline; one over a large payload, or a code snippet, goes to the threads', async () => {
    const tasks: string[] = [];
    class Counting extends InlinePureNodeRunner {
      override async run(task: Parameters<InlinePureNodeRunner['run']>[0]) {
        tasks.push(task.type === 'node' ? task.kind : 'segment');
        return super.run(task);
      }
    }
    const counted = executor({ nodeOutputBytes: 1 << 20, runOutputBytes: 1 << 20 }, new Map(), () => new Counting());
    const fmt = {
      id: 'f',
      type: 'formatter',
      data: { label: 'F', config: { operation: 'string.uppercase', input: '{{Hook.customer}}', output_key: 'o' } },
    };
    const small = run([trigger, fmt], [['t', 'f']]);
    expect(await counted.execute(small, new StoppableLease(), new MemoryJournal())).toBe('succeeded');
    expect(tasks).toEqual([]);

    const large = run([trigger, fmt], [['t', 'f']], {
      [SNAPSHOT_KEYS.triggerContext]: { customer: 'x'.repeat(10_000) },
    });
    expect(await counted.execute(large, new StoppableLease(), new MemoryJournal())).toBe('succeeded');
    expect(tasks).toEqual(['segment']);

    const code = { id: 'c', type: 'action', data: { label: 'C', actionType: 'code', params: { code: 'return 1;' } } };
    expect(await counted.execute(run([trigger, code], [['t', 'c']]), new StoppableLease(), new MemoryJournal())).toBe(
      'succeeded',
    );
    expect(tasks).toEqual(['segment', 'code']);
  });

  it('a long stretch is recorded in chunks, not in one write at the end', async () => {
    const journal = new MemoryJournal();
    const chain = Array.from({ length: 600 }, (_, i) => ({
      id: `f${i}`,
      type: 'formatter',
      data: { label: `F${i}`, config: { operation: 'string.uppercase', input: 'x', output_key: 'o' } },
    }));
    const edges = chain.map((n, i): [string, string] => [i ? `f${i - 1}` : 't', n.id]);
    expect(await executor().execute(run([trigger, ...chain], edges), new StoppableLease(), journal)).toBe('succeeded');
    const writes = journal.entries.flatMap((e) =>
      e.kind === 'nodes-finished' || e.kind === 'finished' ? [e.records.length] : [],
    );
    expect(writes).toEqual([100, 100, 100, 100, 100, 100, 1]);
  });
});
