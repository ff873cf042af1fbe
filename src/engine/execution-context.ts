/**
 * Execution-context bookkeeping (docs/contract.md §5.3, fixed per deviation 5 in docs/deviations.md).
 *
 * The context is a plain JSON object: node outputs are stored under the node's label (and its
 * lower-cased alias), the trigger payload under the start trigger's label. Every function here is
 * pure: it returns a new object and never mutates its arguments. Keys are always written as own
 * properties (a label such as `__proto__` cannot reach the prototype).
 */

interface KeyedNode {
  id: string;
  data: Record<string, unknown>;
}

interface TypedNode extends KeyedNode {
  type: string;
}

/** The key a node's outputs are stored under: trimmed data.label, or the node id when the label is empty/not a string. */
export function contextKey(node: KeyedNode): string {
  const label = node.data?.label;
  if (typeof label === 'string') {
    const trimmed = label.trim();
    if (trimmed !== '') return trimmed;
  }
  return node.id;
}

/** Returns a NEW context with `outputs` stored under contextKey(node) and, if different, also under the lower-cased key (docs/contract.md §5.3). */
export function withNodeOutputs(
  context: Record<string, unknown>,
  node: KeyedNode,
  outputs: unknown,
): Record<string, unknown> {
  return storeNodeOutputs({ ...context }, node, outputs);
}

/**
 * The same, written into `context` itself: an execution owns its context, and copying it per node
 * would make a long chain quadratic. Returns `context`.
 */
export function storeNodeOutputs(
  context: Record<string, unknown>,
  node: KeyedNode,
  outputs: unknown,
): Record<string, unknown> {
  const key = contextKey(node);
  setOwn(context, key, outputs);
  const lower = key.toLowerCase();
  if (lower !== key) setOwn(context, lower, outputs);
  return context;
}

/**
 * Initial context of an execution: `resumeContext` (when resuming) or {}; then, if `triggerContext` !== undefined,
 * it is stored under the key of the start trigger (the node `startNodeId` when it is a trigger, else the first trigger
 * node in graph order; key = contextKey(trigger); "trigger" when the graph has no trigger) unless that key already
 * exists. Only the exact key is written (no lower-cased alias, docs/contract.md §5.3).
 */
export function initialContext(args: {
  nodes: readonly TypedNode[];
  startNodeId?: string | null;
  triggerContext?: unknown;
  resumeContext?: Record<string, unknown> | null;
}): Record<string, unknown> {
  const context: Record<string, unknown> = args.resumeContext ? { ...args.resumeContext } : {};
  if (args.triggerContext === undefined) return context;

  const key = startTriggerKey(args.nodes, args.startNodeId);
  if (!Object.prototype.hasOwnProperty.call(context, key)) setOwn(context, key, args.triggerContext);
  return context;
}

function startTriggerKey(nodes: readonly TypedNode[], startNodeId: string | null | undefined): string {
  const isTrigger = (n: TypedNode) => n.type === 'trigger';
  const start = startNodeId != null ? nodes.find((n) => n.id === startNodeId && isTrigger(n)) : undefined;
  const trigger = start ?? nodes.find(isTrigger);
  return trigger ? contextKey(trigger) : 'trigger';
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
