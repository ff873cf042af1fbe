import { readdirSync, readFileSync } from 'node:fs';
import type { AppConfig } from '../../config/app-config';
import { NodeThreadPool } from './node-thread-pool';
import type { NodeTask } from './thread-tasks';

jest.setTimeout(60_000);

function pool(threads = 1, threadMemoryMb = 64, threadNice = 0): NodeThreadPool {
  return new NodeThreadPool({
    engine: { threads, threadMemoryMb, threadNice },
    roles: new Set(['worker']),
  } as unknown as AppConfig);
}

function codeTask(code: string, timeoutMs = 60_000): NodeTask {
  return {
    type: 'node',
    kind: 'code',
    node: { id: 'code', type: 'action', data: { actionType: 'code', params: { code } } },
    context: {},
    run: { runId: 'r', workflowId: 'w', ownerId: 'o', workspaceId: 'ws' },
    now: Date.now(),
    limits: { code: { timeoutMs, memoryBytes: 64 << 20 }, outputBytes: 1 << 20 },
  };
}

/** Linux: the nice value of each thread of this process (field 19 of /proc/self/task/<tid>/stat). */
function threadNiceValues(): Map<number, number> {
  const nice = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    // The command name may hold spaces: the fields after it start at field 3.
    nice.set(Number(tid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
  }
  return nice;
}

/** Counts event-loop turns while `work` is pending: a blocked loop would count none. */
async function ticksDuring<T>(work: Promise<T>): Promise<{ value: T; ticks: number }> {
  let ticks = 0;
  const timer = setInterval(() => (ticks += 1), 5);
  try {
    return { value: await work, ticks };
  } finally {
    clearInterval(timer);
  }
}

describe('NodeThreadPool (real worker threads)', () => {
  const pools: NodeThreadPool[] = [];
  const make = (...args: Parameters<typeof pool>) => {
    const p = pool(...args);
    pools.push(p);
    return p;
  };
  afterAll(() => Promise.all(pools.map((p) => p.onApplicationShutdown())));

  it('a snippet spinning inside a built-in is terminated at its budget while this thread keeps turning', async () => {
    const threads = make();
    await threads.onApplicationBootstrap();
    // QuickJS cannot interrupt a long Array.prototype.join: only terminating the thread stops it.
    const spin = codeTask('const a = []; for (let i = 0; i < 2e5; i++) a.push("xxxxxxxx"); for (;;) a.join(",");');
    const { value, ticks } = await ticksDuring(threads.run(spin, 1500, new AbortController().signal, 'ws'));
    expect(value).toEqual({ ok: false, error: expect.stringContaining('"error":"node_timeout"') });
    expect(ticks).toBeGreaterThan(10);

    // The thread was replaced: the next task runs.
    const next = await threads.run(codeTask('return { ok: 1 };'), 5000, new AbortController().signal, 'ws');
    expect(next).toEqual({ ok: true, value: { ok: true, result: { outputs: { ok: 1 } }, bytes: 8 } });
  });

  it('engine threads run at ENGINE_THREAD_NICE, below the main thread (Linux)', async () => {
    expect(process.platform).toBe('linux'); // where the service runs, and the only place threads have their own nice value
    const before = threadNiceValues();
    const threads = make(2, 64, 7);
    await threads.onApplicationBootstrap();
    const value = await threads.run(codeTask('return { ok: 1 };'), 5000, new AbortController().signal, 'ws');
    expect(value).toMatchObject({ ok: true });
    const after = threadNiceValues();
    const started = [...after].filter(([tid]) => !before.has(tid));
    // Two lanes of two threads each, started warm, all at nice 7; this thread keeps its priority.
    expect(started.filter(([, nice]) => nice === 7).length).toBeGreaterThanOrEqual(4);
    expect(after.get(process.pid)).toBe(before.get(process.pid));
  });

  it('a thread past its heap limit fails the node with node_memory_exceeded, not the process', async () => {
    // Under ts-node a thread holds ~35 MB (the compiler, class-validator) before its first task.
    const threads = make(1, 64);
    const hog: NodeTask = {
      type: 'node',
      kind: 'formatter',
      node: {
        id: 'f',
        type: 'formatter',
        // Half a million small objects, then a flat key for each of their 1.5 million values:
        // far past 32 MB of heap.
        data: {
          config: {
            operation: 'json.flatten',
            input: `[${Array.from({ length: 500_000 }, () => '{"a":[1,2,3]}').join(',')}]`,
            output_key: 'o',
          },
        },
      },
      context: {},
      run: { runId: 'r', workflowId: 'w', ownerId: 'o', workspaceId: 'ws' },
      now: Date.now(),
      limits: { code: { timeoutMs: 1000, memoryBytes: 1 << 20 }, outputBytes: 1 << 30 },
    };
    const reply = await threads.run(hog, 30_000, new AbortController().signal, 'ws');
    expect(reply.ok).toBe(false);
    expect(!reply.ok && JSON.parse(reply.error)).toMatchObject({ error: 'node_memory_exceeded' });
  });

  it('a thread too small to load its modules fails the node instead of being replaced forever', async () => {
    const threads = make(1, 8);
    const reply = await threads.run(codeTask('return 1;'), 30_000, new AbortController().signal, 'ws');
    expect(reply.ok).toBe(false);
    expect(!reply.ok && JSON.parse(reply.error)).toMatchObject({ error: 'node_memory_exceeded' });
  });

  it('a canceled task rejects with the abort and frees its thread', async () => {
    const threads = make();
    const controller = new AbortController();
    const pending = threads.run(codeTask('for (;;) {}'), 60_000, controller.signal, 'ws');
    controller.abort(new Error('canceled'));
    await expect(pending).rejects.toThrow();
    const next = await threads.run(codeTask('return 2;'), 5000, new AbortController().signal, 'ws');
    expect(next).toMatchObject({ ok: true, value: { ok: true, result: { outputs: { result: 2 } } } });
  });

  it('waiting tasks take turns by tenant: a backlog of one tenant does not queue ahead of another', async () => {
    const threads = make();
    const order: string[] = [];
    const task = (tenant: string, i: number) =>
      threads
        .run(codeTask(`return ${i};`), 10_000, new AbortController().signal, tenant)
        .then(() => order.push(tenant));
    const hold = new AbortController();
    const blocker = threads.run(codeTask('for (;;) {}'), 60_000, hold.signal, 'busy').catch(() => undefined);
    const backlog = [1, 2, 3, 4].map((i) => task('busy', i));
    const neighbour = task('neighbour', 9);
    hold.abort();
    await Promise.all([blocker, ...backlog, neighbour]);
    expect(order.indexOf('neighbour')).toBeLessThanOrEqual(1);
  });

  it('snippets have their own threads: with every snippet thread spinning, a formatter still runs at once', async () => {
    const threads = make(2);
    const spinning = [new AbortController(), new AbortController()];
    const snippets = spinning.map((c) =>
      threads.run(codeTask('for (;;) {}'), 60_000, c.signal, 'hostile').catch(() => 'stopped'),
    );
    const formatter: NodeTask = {
      ...codeTask(''),
      type: 'node',
      kind: 'formatter',
      node: {
        id: 'f',
        type: 'formatter',
        data: { config: { operation: 'string.uppercase', input: 'calm', output_key: 'o' } },
      },
    };
    const calm = await threads.run(formatter, 10_000, new AbortController().signal, 'hostile');
    expect(calm).toMatchObject({ ok: true, value: { ok: true, result: { outputs: { o: 'CALM' } } } });
    for (const c of spinning) c.abort();
    expect(await Promise.all(snippets)).toEqual(['stopped', 'stopped']);
  });
});
