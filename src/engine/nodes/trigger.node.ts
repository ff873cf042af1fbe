import { contextKey } from '../execution-context';
import type { GraphNode, NodeContext, NodeExecutor, NodeResult } from '../node-types';
import { flexibleParse, renderTemplate } from '../templating';

/**
 * Trigger node (docs/contract.md §5.4, fixed per deviation 5 in docs/deviations.md).
 *
 * Inputs: `data.inputs: [{ key, value }]`. Each string `value` is templated against the context and
 * then parsed flexibly (JSON → that value, `"x"`/`'x'` → x, else the text); any non-string value
 * (including a missing one) becomes `null`. Entries whose `key` is not a non-empty string are skipped;
 * a later entry with the same key wins.
 *
 * Output — the trigger payload stays addressable under the trigger's label (`{{Hook.order.id}}`):
 * the payload is whatever the context holds under this node's context key when the node runs (put
 * there by `initialContext`).
 * - no payload (key absent)          → the inputs object;
 * - payload is a JSON object         → `{ ...payload, ...inputs }` (inputs win on key clashes);
 * - payload is anything else (array, scalar, null)
 *                                    → the payload itself when there are no inputs,
 *                                      else `{ payload, ...inputs }` (an input named `payload` wins).
 * The reference instead overwrote the payload with the inputs (its §5.3 [Q]).
 */
export class TriggerNode implements NodeExecutor {
  readonly instant = true;

  async execute(node: GraphNode, ctx: NodeContext): Promise<NodeResult> {
    const inputs = buildInputs(node.data?.inputs, ctx.context);
    const key = contextKey(node);
    if (!Object.prototype.hasOwnProperty.call(ctx.context, key)) return { outputs: inputs };

    const payload = ctx.context[key];
    if (isPlainObject(payload)) return { outputs: merge(payload, inputs) };
    if (Object.keys(inputs).length === 0) return { outputs: payload };
    return { outputs: merge({ payload }, inputs) };
  }
}

function buildInputs(raw: unknown, context: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!Array.isArray(raw)) return out;
  for (const entry of raw) {
    if (!isPlainObject(entry)) continue;
    const { key, value } = entry;
    if (typeof key !== 'string' || key.trim() === '') continue;
    setOwn(out, key, typeof value === 'string' ? flexibleParse(renderTemplate(value, context)) : null);
  }
  return out;
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) setOwn(out, k, v);
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
