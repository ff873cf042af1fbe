import { createRequire } from 'node:module';
import {
  newQuickJSWASMModuleFromVariant,
  RELEASE_SYNC,
  type QuickJSContext,
  type QuickJSSyncVariant,
  type QuickJSHandle,
  type QuickJSRuntime,
  type QuickJSWASMModule,
} from 'quickjs-emscripten';
import { Type } from 'class-transformer';
import { IsArray, IsOptional, IsString, Matches, ValidateNested } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { nodeMessage, parseParams } from '../node-params';
import {
  NodeError,
  type GraphNode,
  type NodeContext,
  type NodeExecutor,
  type NodeResult,
  type NodeTypeInfo,
} from '../node-types';
import { renderTemplate, stableStringify } from '../templating';
import { KeyValueRows, objectOrAbsent } from './param-rules';

export interface CodeLimits {
  /** Wall-clock budget of one execution, pending promise jobs included. */
  timeoutMs: number;
  /** QuickJS heap limit (the snippet's objects, strings, the inputs and the context). */
  memoryBytes: number;
}

const CODE_REQUIRED = nodeMessage('Custom code is required');

/** One row of `params.inputs`. */
export class CodeInput {
  @JSONSchema({ description: 'The name in `inputs` (trimmed; duplicates are refused).', examples: ['total'] })
  @IsString()
  key!: string;

  @JSONSchema({
    description: 'A string is templated, then read as JSON when it parses; any other JSON value is passed as is.',
    examples: ['{{Hook.amount}}'],
  })
  @IsOptional()
  value?: unknown;
}

/** One row of `params.outputs`. */
export class CodeOutput {
  @JSONSchema({ description: 'The output field (trimmed; no duplicates, no input name).', examples: ['vat'] })
  @IsString()
  key!: string;

  @JSONSchema({
    type: 'string',
    description:
      'The path into the result (`a.b[0].c`, `items.0.id`); empty takes the whole result, a missing one gives null.',
    examples: ['tax.vat'],
  })
  @IsOptional()
  value?: unknown;
}

/** A code node's `data.params`. */
@JSONSchema({
  examples: [{ code: 'return { vat: inputs.total * 0.2 };', inputs: [{ key: 'total', value: '{{Hook.amount}}' }] }],
})
export class CodeParams {
  @JSONSchema({
    description:
      'The body of a JavaScript function (QuickJS, no I/O, no timers) with `inputs` and `context` in scope; what it returns (a promise is awaited) becomes the output.',
    examples: ['return { vat: inputs.total * 0.2 };'],
  })
  @IsString({ context: CODE_REQUIRED })
  @Matches(/\S/, { context: CODE_REQUIRED })
  code!: string;

  @JSONSchema({ description: 'Named values for the snippet. Rows without a non-blank string key are skipped.' })
  @KeyValueRows()
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => CodeInput)
  inputs?: CodeInput[];

  @JSONSchema({
    description:
      'Output fields picked from the result by path. Without any, an object result is the output and anything else comes as `result`.',
  })
  @KeyValueRows()
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => CodeOutput)
  outputs?: CodeOutput[];
}

export const CODE_NODE: NodeTypeInfo = {
  kind: 'code',
  category: 'action',
  title: 'Code',
  description:
    'Runs a JavaScript snippet in a sandbox (QuickJS in WebAssembly) with time and memory limits and no access to the network or the host.',
  nodeTypes: ['action', 'actionCode'],
  actionTypes: ['code'],
  paramsField: 'params',
  params: CodeParams,
  outputs: {
    '<result fields>': 'Without `outputs`: the returned object, or `{ result }` for any other value.',
    '<output keys>': 'With `outputs`: one field per row, the value at its path in the result.',
  },
  planGate: null,
};

/**
 * Code node (docs/contract.md §5.6 "code"), with execution limits (deviation 26 in docs/deviations.md): the snippet
 * runs in QuickJS compiled to WebAssembly, a fresh runtime per execution, with a deadline, a heap
 * limit and a stack limit. Nothing of the host is reachable: `inputs` and `context` enter as JSON
 * text and the return value leaves as JSON text, and the engine has no I/O globals at all.
 *
 * `data.params`: `code` (required), `inputs` `[{key,value}]` (values templated, then JSON-parsed when
 * they parse; duplicate keys rejected), `outputs` `[{key,value}]` (output name → path into the result,
 * `a.b[0].c`, empty = whole result; duplicates and input-name collisions rejected). Without outputs an
 * object result is the output as is, anything else becomes `{ result }`.
 *
 * Execution is synchronous on the calling thread: a busy snippet holds the event loop until its
 * deadline, so `ctx.signal` is honoured before the start and at every interrupt check.
 */
export class CodeNode implements NodeExecutor {
  constructor(private readonly limits: CodeLimits = { timeoutMs: 5000, memoryBytes: 32 * 1024 * 1024 }) {}

  async execute(node: GraphNode, ctx: NodeContext): Promise<NodeResult> {
    // Params that are not an object count as none (the node has always said what is missing).
    const params = parseParams(CodeParams, objectOrAbsent(node.data?.params));
    const inputs = readInputs(params.inputs ?? [], ctx.context);
    const outputs = readOutputs(params.outputs ?? [], inputs);

    const result = await runSnippet(params.code, inputs, ctx.context, this.limits, ctx.signal);
    return { outputs: mapResult(result, outputs) };
  }
}

/**
 * QuickJS's own stack check counts only the WebAssembly shadow stack; native frames grow faster, so
 * this stays well below Node's ~1 MB native stack. Native exhaustion is still possible for some
 * built-ins (deep JSON nesting) and is handled by discarding the module (see `runSnippet`).
 */
const MAX_STACK_BYTES = 256 * 1024;

/**
 * RELEASE_SYNC with its Emscripten glue loaded by `require`: the stock variant uses `import()`, which
 * Jest's CommonJS runtime refuses. Resolved from quickjs-emscripten itself, whose dependency it is.
 */
const VARIANT: QuickJSSyncVariant = {
  type: 'sync',
  importFFI: RELEASE_SYNC.importFFI,
  importModuleLoader: async () =>
    createRequire(require.resolve('quickjs-emscripten'))(
      '@jitl/quickjs-wasmfile-release-sync/emscripten-module',
    ) as Awaited<ReturnType<QuickJSSyncVariant['importModuleLoader']>>,
};

let quickJS: Promise<QuickJSWASMModule> | undefined;
const faulted = new WeakSet<QuickJSWASMModule>();

/** The shared QuickJS module, loaded on first use (and again after a fault). */
export async function loadQuickJS(): Promise<QuickJSWASMModule> {
  for (;;) {
    const pending = (quickJS ??= newQuickJSWASMModuleFromVariant(VARIANT).catch((err: unknown) => {
      quickJS = undefined;
      throw err;
    }));
    const module = await pending;
    if (!faulted.has(module)) return module;
    if (quickJS === pending) quickJS = undefined;
  }
}

type Stop = 'timeout' | 'aborted';

class SnippetFailure extends Error {}

async function runSnippet(
  code: string,
  inputs: Record<string, unknown>,
  context: Readonly<Record<string, unknown>>,
  limits: CodeLimits,
  signal: AbortSignal,
): Promise<unknown> {
  if (signal.aborted) throw new NodeError('Code execution aborted');
  const contextJson = toJson(context, 'context');
  const inputsJson = toJson(inputs, 'inputs');
  const module = await loadQuickJS();
  if (signal.aborted) throw new NodeError('Code execution aborted');

  const deadline = Date.now() + limits.timeoutMs;
  let stop: Stop | undefined;
  const runtime = module.newRuntime();
  let poisoned = false;
  try {
    runtime.setMemoryLimit(limits.memoryBytes);
    runtime.setMaxStackSize(MAX_STACK_BYTES);
    runtime.setInterruptHandler(() => {
      if (signal.aborted) stop ??= 'aborted';
      else if (Date.now() > deadline) stop ??= 'timeout';
      return stop !== undefined;
    });
    const vm = runtime.newContext();
    try {
      const json = evaluate(vm, runtime, code, inputsJson, contextJson);
      return json === undefined ? null : (JSON.parse(json) as unknown);
    } catch (err) {
      poisoned = isWasmFault(err);
      throw err;
    } finally {
      if (!poisoned) poisoned = !disposed(vm);
    }
  } catch (err) {
    if (stop === 'timeout') throw new NodeError(`Code execution timed out after ${limits.timeoutMs} ms`);
    if (stop === 'aborted') throw new NodeError('Code execution aborted');
    if (err instanceof SnippetFailure) throw new NodeError(err.message);
    if (poisoned) {
      // The host stack overflowed (or a trap fired) inside WebAssembly: the module's memory may be
      // mid-update, so it is dropped rather than reused and the next execution loads a fresh one.
      faulted.add(module);
      if ((err as Error).name === 'RangeError') throw new NodeError('Code exceeded the maximum call stack size');
    }
    throw new NodeError('Code execution failed');
  } finally {
    if (poisoned || !disposed(runtime)) faulted.add(module);
  }
}

/**
 * Freeing what a hostile snippet left behind can trip an assertion inside QuickJS (an abort whose
 * text names vendor source files): the module is then dropped like after any other fault, and the
 * snippet's result, already taken, stands.
 */
function disposed(handle: { dispose(): void }): boolean {
  try {
    handle.dispose();
    return true;
  } catch {
    return false;
  }
}

function isWasmFault(err: unknown): boolean {
  const name = err instanceof Error ? err.name : undefined;
  return name === 'RangeError' || name === 'RuntimeError';
}

/** Runs the snippet and returns its result as JSON text (`undefined` when it has no JSON form). */
function evaluate(
  vm: QuickJSContext,
  runtime: QuickJSRuntime,
  code: string,
  inputsJson: string,
  contextJson: string,
): string | undefined {
  // Taken before the snippet runs, so redefining JSON inside it cannot change how the result leaves.
  const stringify = vm.unwrapResult(vm.evalCode('JSON.stringify'));
  try {
    const source =
      `const inputs = JSON.parse(${JSON.stringify(inputsJson)});\n` +
      `const context = JSON.parse(${JSON.stringify(contextJson)});\n` +
      `(function () {\n${code}\n})();`;
    const returned = take(vm, vm.evalCode(source, 'code.js'));
    try {
      const value = settle(vm, runtime, returned);
      try {
        const json = take(vm, vm.callFunction(stringify, vm.undefined, value));
        try {
          const text: unknown = vm.dump(json);
          if (text !== undefined && typeof text !== 'string') throw new SnippetFailure('Result is not serialisable');
          return text;
        } finally {
          json.dispose();
        }
      } finally {
        if (value !== returned) value.dispose();
      }
    } finally {
      returned.dispose();
    }
  } finally {
    stringify.dispose();
  }
}

/** An async snippet: its jobs run now (there are no timers or I/O, so nothing settles later). */
function settle(vm: QuickJSContext, runtime: QuickJSRuntime, handle: QuickJSHandle): QuickJSHandle {
  const initial = vm.getPromiseState(handle);
  if (initial.type === 'fulfilled' && initial.notAPromise) return handle;
  disposeState(initial);

  const jobs = runtime.executePendingJobs();
  try {
    if (jobs.error) throw new SnippetFailure(errorText(vm, jobs.error));
  } finally {
    jobs.dispose();
  }
  const state = vm.getPromiseState(handle);
  if (state.type === 'fulfilled') return state.value;
  if (state.type === 'rejected') {
    try {
      throw new SnippetFailure(errorText(vm, state.error));
    } finally {
      state.error.dispose();
    }
  }
  throw new SnippetFailure('Code returned a promise that never settles');
}

function disposeState(state: ReturnType<QuickJSContext['getPromiseState']>): void {
  if (state.type === 'fulfilled' && !state.notAPromise) state.value.dispose();
  if (state.type === 'rejected') state.error.dispose();
}

function take(vm: QuickJSContext, result: ReturnType<QuickJSContext['evalCode']>): QuickJSHandle {
  if (result.error) {
    try {
      throw new SnippetFailure(errorText(vm, result.error));
    } finally {
      result.error.dispose();
    }
  }
  return result.value;
}

/** `Name: message` for errors, the text for a thrown string, JSON for anything else; never a stack. */
function errorText(vm: QuickJSContext, handle: QuickJSHandle): string {
  let dumped: unknown;
  try {
    dumped = vm.dump(handle);
  } catch {
    return 'Error: the code threw a value that cannot be read';
  }
  if (dumped !== null && typeof dumped === 'object' && 'message' in dumped) {
    const { name, message } = dumped as { name?: unknown; message?: unknown };
    const label = typeof name === 'string' && name !== '' ? name : 'Error';
    if (label === 'InternalError' && message === 'out of memory') return 'Code exceeded the memory limit';
    return message === undefined || message === '' ? label : `${label}: ${String(message)}`;
  }
  if (typeof dumped === 'string') return dumped;
  return stableStringify(dumped);
}

function toJson(value: unknown, what: string): string {
  try {
    return JSON.stringify(value) ?? 'null';
  } catch {
    throw new NodeError(`Code ${what} cannot be passed as JSON`);
  }
}

function readInputs(rows: CodeInput[], context: Readonly<Record<string, unknown>>): Record<string, unknown> {
  // A Map, then `fromEntries`: a `__proto__` key stays an ordinary property.
  const inputs = new Map<string, unknown>();
  for (const row of rows) {
    const key = row.key.trim();
    const value = row.value;
    if (inputs.has(key)) throw new NodeError(`Duplicate input key: ${key}`);
    inputs.set(key, typeof value === 'string' ? parseWhenJson(renderTemplate(value, context)) : (value ?? null));
  }
  return Object.fromEntries(inputs);
}

function readOutputs(rows: CodeOutput[], inputs: Record<string, unknown>): Map<string, string> {
  const outputs = new Map<string, string>();
  for (const row of rows) {
    const key = row.key.trim();
    const value = row.value;
    if (outputs.has(key)) throw new NodeError(`Duplicate output key: ${key}`);
    if (Object.prototype.hasOwnProperty.call(inputs, key)) {
      throw new NodeError(`Output key collides with an input key: ${key}`);
    }
    outputs.set(key, typeof value === 'string' ? value.trim() : '');
  }
  return outputs;
}

function mapResult(result: unknown, outputs: Map<string, string>): unknown {
  if (outputs.size === 0) {
    return result !== null && typeof result === 'object' && !Array.isArray(result) ? result : { result };
  }
  return Object.fromEntries([...outputs].map(([key, path]) => [key, valueAt(result, path)]));
}

/** `a.b[0].c`, `items.0.id`, `[1]`; empty = the whole value; anything missing = null. */
export function valueAt(root: unknown, path: string): unknown {
  if (path === '') return root;
  let current = root;
  for (const [, name, index] of path.matchAll(/([^.[\]]+)|\[\s*(\d+)\s*\]/g)) {
    const segment = (index ?? name).trim();
    if (Array.isArray(current) && /^\d+$/.test(segment)) {
      current = current[Number(segment)];
    } else if (current !== null && typeof current === 'object' && !Array.isArray(current)) {
      current = Object.prototype.hasOwnProperty.call(current, segment)
        ? (current as Record<string, unknown>)[segment]
        : undefined;
    } else {
      return null;
    }
    if (current === undefined) return null;
  }
  return current;
}

function parseWhenJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
