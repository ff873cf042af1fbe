import type { QuickJSContext, QuickJSRuntime } from 'quickjs-emscripten';
import type { OutboundHttp } from '../../egress/outbound-http';
import { NodeError, type NodeContext } from '../node-types';
import { CodeNode, loadQuickJS, valueAt, type CodeLimits } from './code.node';

const context = {
  Hook: { n: 7, name: 'Ada', items: [{ sku: 'A' }, { sku: 'B' }] },
  HTTP: { status: 200, body: { ok: true } },
};

function nodeContext(signal: AbortSignal = new AbortController().signal): NodeContext {
  return {
    context,
    run: { runId: 'run-1', workflowId: 'wf-1', ownerId: 'user-1', workspaceId: null },
    signal,
    http: {} as unknown as OutboundHttp,
    now: () => new Date(),
  };
}

const run = (params: Record<string, unknown>, options: { limits?: CodeLimits; signal?: AbortSignal } = {}) =>
  new CodeNode(options.limits).execute(
    { id: 'code-1', type: 'action', data: { actionType: 'code', params } },
    nodeContext(options.signal),
  );

const outputsOf = async (params: Record<string, unknown>) => (await run(params)).outputs;

async function failure(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NodeError);
  return (err as NodeError).message;
}

describe('CodeNode (docs/contract.md §5.6 code, QuickJS sandbox)', () => {
  it('requires code', async () => {
    for (const code of [undefined, '', '  \n ', 42]) {
      expect(await failure(run({ code }))).toBe('Custom code is required');
    }
  });

  it('returns an object result as is and wraps anything else in { result }', async () => {
    await expect(outputsOf({ code: 'return { a: 1, b: [true, null] };' })).resolves.toEqual({ a: 1, b: [true, null] });
    await expect(outputsOf({ code: 'return 6 * 7;' })).resolves.toEqual({ result: 42 });
    await expect(outputsOf({ code: 'return "hi";' })).resolves.toEqual({ result: 'hi' });
    await expect(outputsOf({ code: 'return [1, 2];' })).resolves.toEqual({ result: [1, 2] });
    await expect(outputsOf({ code: 'const x = 1;' })).resolves.toEqual({ result: null });
    await expect(outputsOf({ code: 'return null;' })).resolves.toEqual({ result: null });
  });

  it('sees the context and templated, JSON-parsed inputs as constants', async () => {
    const outputs = await outputsOf({
      code: 'return { n: inputs.n + 1, greeting: inputs.greeting, list: inputs.list, sku: context.Hook.items[1].sku, raw: inputs.raw, num: inputs.num };',
      inputs: [
        { key: 'n', value: '{{Hook.n}}' },
        { key: 'greeting', value: 'hello {{Hook.name}}' },
        { key: 'list', value: '{{Hook.items}}' },
        { key: 'raw', value: '{not json' },
        { key: 'num', value: 3 },
      ],
    });
    expect(outputs).toEqual({
      n: 8,
      greeting: 'hello Ada',
      list: [{ sku: 'A' }, { sku: 'B' }],
      sku: 'B',
      raw: '{not json',
      num: 3,
    });
    expect(await failure(run({ code: 'inputs = 1; return 1;' }))).toMatch(/^TypeError: /);
  });

  it('keeps the host context out of reach of the snippet', async () => {
    await run({ code: 'context.Hook.n = 99; context.HTTP = null; return 1;' });
    expect(context.Hook.n).toBe(7);
    expect(context.HTTP).toEqual({ status: 200, body: { ok: true } });
  });

  it('rejects duplicate input keys', async () => {
    const inputs = [
      { key: 'a', value: '1' },
      { key: 'a', value: '2' },
    ];
    expect(await failure(run({ code: 'return 1;', inputs }))).toBe('Duplicate input key: a');
  });

  it('maps outputs by path into the result', async () => {
    const outputs = await outputsOf({
      code: 'return { user: { name: "Ada", tags: ["x", "y"] }, rows: [{ id: 1 }, { id: 2 }] };',
      outputs: [
        { key: 'name', value: 'user.name' },
        { key: 'second', value: 'user.tags[1]' },
        { key: 'lastId', value: 'rows[1].id' },
        { key: 'dotIndex', value: 'rows.0.id' },
        { key: 'all', value: '' },
        { key: 'missing', value: 'user.nope.deeper' },
      ],
    });
    expect(outputs).toEqual({
      name: 'Ada',
      second: 'y',
      lastId: 2,
      dotIndex: 1,
      all: { user: { name: 'Ada', tags: ['x', 'y'] }, rows: [{ id: 1 }, { id: 2 }] },
      missing: null,
    });
    await expect(outputsOf({ code: 'return 5;', outputs: [{ key: 'five', value: '' }] })).resolves.toEqual({ five: 5 });
    expect(valueAt([[1, [2, 3]]], '[0][1][1]')).toBe(3);
  });

  it('rejects duplicate output keys and outputs colliding with inputs', async () => {
    const dup = [
      { key: 'x', value: 'a' },
      { key: 'x', value: 'b' },
    ];
    expect(await failure(run({ code: 'return {};', outputs: dup }))).toBe('Duplicate output key: x');
    expect(
      await failure(
        run({ code: 'return {};', inputs: [{ key: 'x', value: '1' }], outputs: [{ key: 'x', value: '' }] }),
      ),
    ).toBe('Output key collides with an input key: x');
  });

  it('offers no I/O, module system or timers', async () => {
    const outputs = await outputsOf({
      code: `return {
        require: typeof require, process: typeof process, fetch: typeof fetch, setTimeout: typeof setTimeout,
        setInterval: typeof setInterval, module: typeof module, Buffer: typeof Buffer, XMLHttpRequest: typeof XMLHttpRequest,
        std: typeof std, os: typeof os, importScripts: typeof importScripts, WebAssembly: typeof WebAssembly,
      };`,
    });
    expect(Object.values(outputs as Record<string, string>)).toEqual(Array(12).fill('undefined'));
    expect(await failure(run({ code: 'return import("fs");' }))).toMatch(/Error/);
  });

  it('drops what JSON cannot carry, as JSON.stringify does', async () => {
    await expect(outputsOf({ code: 'return { a: 1, f() {}, u: undefined, s: Symbol("x") };' })).resolves.toEqual({
      a: 1,
    });
    await expect(outputsOf({ code: 'return function () {};' })).resolves.toEqual({ result: null });
    await expect(outputsOf({ code: 'return [1, () => 2, NaN];' })).resolves.toEqual({ result: [1, null, null] });
    await expect(outputsOf({ code: 'return { d: new Date(0) };' })).resolves.toEqual({ d: '1970-01-01T00:00:00.000Z' });
    await expect(outputsOf({ code: 'JSON.stringify = () => 1; return { ok: true };' })).resolves.toEqual({ ok: true });
    expect(await failure(run({ code: 'return 10n;' }))).toMatch(/^TypeError: /);
    expect(await failure(run({ code: 'const a = {}; a.self = a; return a;' }))).toMatch(/^TypeError: /);
  });

  it('reports JS exceptions as Name: message without a stack', async () => {
    expect(await failure(run({ code: 'throw new Error("boom");' }))).toBe('Error: boom');
    expect(await failure(run({ code: 'return null.x;' }))).toMatch(/^TypeError: [^\n]+$/);
    expect(await failure(run({ code: 'throw new RangeError("bad");' }))).toBe('RangeError: bad');
    expect(await failure(run({ code: 'throw "plain text";' }))).toBe('plain text');
    expect(await failure(run({ code: 'throw { code: 1 };' }))).toBe('{"code":1}');
    expect(await failure(run({ code: 'return {' }))).toMatch(/^SyntaxError: /);
  });

  it('awaits an async snippet', async () => {
    await expect(
      outputsOf({
        code: 'return (async () => ({ v: await Promise.resolve(inputs.n) }))();',
        inputs: [{ key: 'n', value: '2' }],
      }),
    ).resolves.toEqual({ v: 2 });
    expect(await failure(run({ code: 'return Promise.reject(new Error("nope"));' }))).toBe('Error: nope');
    expect(await failure(run({ code: 'return new Promise(() => {});' }))).toBe(
      'Code returned a promise that never settles',
    );
  });

  it('stops an infinite loop at the deadline', async () => {
    // Without the deadline the loop never ends: the test would not finish at all.
    const message = await failure(
      run({ code: 'while (true) {}' }, { limits: { timeoutMs: 200, memoryBytes: 16 * 1024 * 1024 } }),
    );
    expect(message).toBe('Code execution timed out after 200 ms');
    const caught = await failure(
      run(
        { code: 'try { while (true) {} } catch (e) { return "escaped"; }' },
        { limits: { timeoutMs: 100, memoryBytes: 16 * 1024 * 1024 } },
      ),
    );
    expect(caught).toBe('Code execution timed out after 100 ms');
  });

  it('stops a memory bomb at the heap limit', async () => {
    const limits = { timeoutMs: 5000, memoryBytes: 8 * 1024 * 1024 };
    const message = await failure(run({ code: 'const a = []; for (;;) a.push({ i: a.length });' }, { limits }));
    expect(message).toBe('Code exceeded the memory limit');
    const big = await failure(run({ code: 'return new Array(1e8).fill(1).length;' }, { limits }));
    expect(big).toBe('Code exceeded the memory limit');
  });

  it('turns deep recursion into a JS error, and survives native stack exhaustion', async () => {
    expect(await failure(run({ code: 'function f() { return f() + 1; } return f();' }))).toMatch(/stack overflow/);
    const deep = await failure(
      run({ code: 'let a = []; for (let i = 0; i < 200000; i++) a = [a]; return JSON.stringify(a).length;' }),
    );
    expect(deep).toMatch(/stack/);
    await expect(outputsOf({ code: 'return { after: true };' })).resolves.toEqual({ after: true });
  });

  it('honours the abort signal before and during execution', async () => {
    expect(await failure(run({ code: 'return 1;' }, { signal: AbortSignal.abort() }))).toBe('Code execution aborted');

    // Execution holds the thread, so an abort can only be observed through the flag: it flips after
    // the two checks made before execution, so the interrupt handler sees it mid-run.
    let reads = 0;
    const flipping = {
      get aborted() {
        reads += 1;
        return reads > 2;
      },
      addEventListener: () => undefined,
      removeEventListener: () => undefined,
    } as unknown as AbortSignal;
    const message = await failure(run({ code: 'while (true) {}' }, { signal: flipping }));
    expect(message).toBe('Code execution aborted');
    expect(reads).toBeGreaterThan(2);
  });

  it('disposes every runtime and context across 200 executions', async () => {
    const qjs = await loadQuickJS();
    const runtimes: QuickJSRuntime[] = [];
    const contexts: QuickJSContext[] = [];
    const newRuntime = qjs.newRuntime.bind(qjs);
    const spy = jest.spyOn(qjs, 'newRuntime').mockImplementation((options) => {
      const runtime = newRuntime(options);
      const newContext = runtime.newContext.bind(runtime);
      runtime.newContext = (contextOptions) => {
        const vm = newContext(contextOptions);
        contexts.push(vm);
        return vm;
      };
      runtimes.push(runtime);
      return runtime;
    });
    const snippets = [
      'return { i: inputs.i, list: context.Hook.items };',
      'throw new Error("x" + inputs.i);',
      'return (async () => inputs.i)();',
      'return Promise.reject(inputs.i);',
      'syntax error here',
      'const a = []; for (;;) a.push([a.length]);',
    ];
    const limits = { timeoutMs: 1000, memoryBytes: 2 * 1024 * 1024 };
    try {
      for (let i = 0; i < 200; i++) {
        await run({ code: snippets[i % snippets.length], inputs: [{ key: 'i', value: String(i) }] }, { limits }).catch(
          (e: unknown) => {
            if (!(e instanceof NodeError)) throw e;
          },
        );
      }
    } finally {
      spy.mockRestore();
    }
    expect(runtimes).toHaveLength(200);
    expect(contexts).toHaveLength(200);
    expect(runtimes.filter((r) => r.alive)).toHaveLength(0);
    expect(contexts.filter((c) => c.alive)).toHaveLength(0);
    await expect(outputsOf({ code: 'return { done: true };' })).resolves.toEqual({ done: true });
  });
});
