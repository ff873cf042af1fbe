/**
 * The one reader of a workflow graph (docs/contract.md §2.1 `data`, shape in
 * src/workflows/workflow-graph.dto.ts). A graph is untrusted JSON wherever it comes from (a save, a
 * stored row, a run snapshot): everything else reads it through `parseGraph` and gets typed,
 * read-only nodes and edges plus the problems found, instead of reading `nodes`/`edges` by hand.
 *
 * The rules, the same for every reader (deviation 36 in docs/deviations.md):
 * - a node is an object with a non-blank string `id` (numbers are not ids); other entries are
 *   reported and left out;
 * - `type` is the string as stored, '' when it is not a string (the registry then reports it);
 * - `data` is the stored object, `{}` when it is not one;
 * - the first node with an id wins lookups; later ones are kept in `nodes` (writers must see them)
 *   and reported as duplicates;
 * - an edge is an object with string `source` and `target`; an edge naming a node that does not
 *   exist is kept (a traversal drops it) and reported;
 * - a trigger's kind is its `data.triggerType`, trimmed, in any case;
 * - nothing throws: an entry that cannot be read is invalid.
 */
import type { GraphEdge, GraphNode } from './node-types';

export interface GraphPosition {
  readonly x: number;
  readonly y: number;
}

/** A node that passed the parser. */
export interface ParsedNode extends GraphNode {
  readonly id: string;
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
  /** `data` exactly as stored, object or not (the change log shows what the editor saved). */
  readonly storedData: unknown;
  readonly position: GraphPosition | null;
  /** Where it sits in the stored `nodes` array (change-log paths are by index). */
  readonly index: number;
}

export interface ParsedEdge extends GraphEdge {
  readonly id?: string;
  readonly source: string;
  readonly target: string;
  readonly sourceHandle: string | null;
  readonly index: number;
}

export type GraphProblem =
  | { readonly code: 'not_an_object' }
  /** `nodes` or `edges` is missing or not an array (the other one is still read). */
  | { readonly code: 'not_arrays' }
  | { readonly code: 'invalid_node'; readonly index: number }
  | { readonly code: 'duplicate_node_id'; readonly id: string; readonly index: number }
  /** `name` is the edge's id, or `#<index>` without one. */
  | { readonly code: 'invalid_edge'; readonly index: number; readonly name: string }
  | {
      readonly code: 'dangling_edge';
      readonly index: number;
      readonly name: string;
      readonly source: string;
      readonly target: string;
    };

export interface Graph {
  /** Valid nodes in stored order, duplicates included. */
  readonly nodes: readonly ParsedNode[];
  /** Valid edges in stored order, dangling ones included. */
  readonly edges: readonly ParsedEdge[];
  /** The first node of each id. */
  readonly byId: ReadonlyMap<string, ParsedNode>;
  node(id: string): ParsedNode | undefined;
  /** The edges out of a node, in stored order. */
  outgoing(id: string): readonly ParsedEdge[];
  /** Trigger nodes (type exactly `trigger`) in graph order; with `kind`, those whose trigger kind it is. */
  triggers(kind?: string): readonly ParsedNode[];
}

export interface GraphParse {
  readonly graph: Graph;
  readonly problems: readonly GraphProblem[];
}

/** Problems after which a graph cannot be run as stored (duplicates and dangling edges can). */
export function isMalformed(problem: GraphProblem): boolean {
  return problem.code !== 'duplicate_node_id' && problem.code !== 'dangling_edge';
}

/** The kind of a trigger node: `data.triggerType` trimmed and lower-cased, '' when absent. */
export function triggerKind(node: Pick<ParsedNode, 'data'>): string {
  const kind = node.data.triggerType;
  return typeof kind === 'string' ? kind.trim().toLowerCase() : '';
}

/** How a node is named to people and in the context: its trimmed `data.label`, else its id. */
export function nodeLabel(node: Pick<ParsedNode, 'id' | 'data'>): string {
  const label = node.data.label;
  return (typeof label === 'string' && label.trim()) || node.id;
}

const NO_EDGES: readonly ParsedEdge[] = Object.freeze([]);

// Stored graphs are shared deeply frozen (src/database/json-text-cache.ts): a hot path that reads the
// same object again (the webhook trigger) reuses its parse. Only frozen input is remembered, since a
// mutable one could change under the cached answer.
const parsed = new WeakMap<object, GraphParse>();

export function parseGraph(json: unknown): GraphParse {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    return { graph: buildGraph([], []), problems: [{ code: 'not_an_object' }] };
  }
  const cached = parsed.get(json);
  if (cached) return cached;
  const { nodes, edges } =
    attempt(() => {
      const { nodes, edges } = json as { nodes?: unknown; edges?: unknown };
      return { nodes, edges };
    }) ?? {};
  const result = parseParts(nodes, edges);
  if (Object.isFrozen(json) && frozenOrAbsent(nodes) && frozenOrAbsent(edges)) parsed.set(json, result);
  return result;
}

const frozenOrAbsent = (value: unknown) => !Array.isArray(value) || Object.isFrozen(value);

function parseParts(rawNodes: unknown, rawEdges: unknown): GraphParse {
  const problems: GraphProblem[] = [];
  if (!Array.isArray(rawNodes) || !Array.isArray(rawEdges)) problems.push({ code: 'not_arrays' });
  const nodes: ParsedNode[] = [];
  const edges: ParsedEdge[] = [];
  const byId = new Map<string, ParsedNode>();
  if (Array.isArray(rawNodes)) {
    for (let index = 0; index < rawNodes.length; index += 1) {
      const node = attempt(() => toNode(rawNodes[index], index));
      if (!node) {
        problems.push({ code: 'invalid_node', index });
        continue;
      }
      if (byId.has(node.id)) problems.push({ code: 'duplicate_node_id', id: node.id, index });
      else byId.set(node.id, node);
      nodes.push(node);
    }
  }
  if (Array.isArray(rawEdges)) {
    for (let index = 0; index < rawEdges.length; index += 1) {
      const raw: unknown = rawEdges[index];
      const edge = attempt(() => toEdge(raw, index));
      const name = edgeName(raw, index);
      if (!edge) {
        problems.push({ code: 'invalid_edge', index, name });
        continue;
      }
      if (!byId.has(edge.source) || !byId.has(edge.target)) {
        problems.push({ code: 'dangling_edge', index, name, source: edge.source, target: edge.target });
      }
      edges.push(edge);
    }
  }
  return { graph: buildGraph(nodes, edges, byId), problems };
}

function edgeName(edge: unknown, index: number): string {
  const id = attempt(() => (edge as { id?: unknown } | null)?.id);
  return typeof id === 'string' && id ? id : `#${index}`;
}

/** An entry that throws when read (a getter, a proxy: never JSON, but callers pass objects) is invalid. */
function attempt<T>(read: () => T): T | null {
  try {
    return read();
  } catch {
    return null;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function toNode(raw: unknown, index: number): ParsedNode | null {
  if (!isRecord(raw)) return null;
  const { id, type, data, position } = raw;
  if (typeof id !== 'string' || id.trim() === '') return null;
  return Object.freeze({
    id,
    type: typeof type === 'string' ? type : '',
    data: isRecord(data) ? data : {},
    storedData: data,
    position: toPosition(position),
    index,
  });
}

function toPosition(value: unknown): GraphPosition | null {
  if (!isRecord(value)) return null;
  const { x, y } = value;
  return typeof x === 'number' && typeof y === 'number' && Number.isFinite(x) && Number.isFinite(y)
    ? Object.freeze({ x, y })
    : null;
}

function toEdge(raw: unknown, index: number): ParsedEdge | null {
  if (!isRecord(raw)) return null;
  const { id, source, target, sourceHandle } = raw;
  if (typeof source !== 'string' || typeof target !== 'string') return null;
  return Object.freeze({
    id: typeof id === 'string' ? id : undefined,
    source,
    target,
    sourceHandle: typeof sourceHandle === 'string' ? sourceHandle : null,
    index,
  });
}

function buildGraph(nodes: ParsedNode[], edges: ParsedEdge[], byId: Map<string, ParsedNode> = new Map()): Graph {
  const outgoing = new Map<string, ParsedEdge[]>();
  for (const edge of edges) {
    const list = outgoing.get(edge.source);
    if (list) list.push(edge);
    else outgoing.set(edge.source, [edge]);
  }
  const triggers = Object.freeze(nodes.filter((node) => node.type === 'trigger'));
  const byKind = new Map<string, readonly ParsedNode[]>();
  return Object.freeze({
    nodes: Object.freeze(nodes),
    edges: Object.freeze(edges),
    byId,
    node: (id: string) => byId.get(id),
    outgoing: (id: string) => outgoing.get(id) ?? NO_EDGES,
    triggers(kind?: string): readonly ParsedNode[] {
      if (kind === undefined) return triggers;
      let found = byKind.get(kind);
      if (!found) {
        found = Object.freeze(triggers.filter((node) => triggerKind(node) === kind));
        byKind.set(kind, found);
      }
      return found;
    },
  });
}
