import { AppError, ErrorCode } from '../common/errors/app-error';

export interface GraphProblems {
  /** Node entries that are not objects with a non-empty string `id` (by index). */
  invalid_nodes: number[];
  duplicate_node_ids: string[];
  /** Edges that are not objects with string `source` and `target`, by id or index. */
  invalid_edges: string[];
  /** Edges whose source or target names no node: `<edge id>: <source> → <target>`. */
  dangling_edges: string[];
  /** Nodes whose type or actionType this server does not provide: `<node id>: <reason>`. */
  unknown_nodes: string[];
}

/** What the save-time check asks of the node registry (src/engine/node-registry.ts). */
export interface NodeTypeCheck {
  /** Why a node cannot run here (unknown type or actionType), or null when it can. */
  unknownReason(node: { type?: unknown; data?: unknown }): string | null;
}

const edgeName = (edge: unknown, index: number) => {
  const id = (edge as { id?: unknown } | null)?.id;
  return typeof id === 'string' && id ? id : `#${index}`;
};

/**
 * The save-time check DSentr never did: `data` is an object with `nodes` and `edges` arrays, node
 * ids are unique, edges point at existing nodes and, given the node registry, every node's type
 * (and `actionType`) is one this server provides. Throws 400 naming the offending ids.
 */
export function assertValidGraph(
  data: unknown,
  nodeTypes?: NodeTypeCheck,
): asserts data is { nodes: unknown[]; edges: unknown[] } & Record<string, unknown> {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new AppError(ErrorCode.InvalidRequest, 'Invalid request: data must be an object with nodes and edges arrays');
  }
  const { nodes, edges } = data as { nodes?: unknown; edges?: unknown };
  if (!Array.isArray(nodes) || !Array.isArray(edges)) {
    throw new AppError(ErrorCode.InvalidRequest, 'Invalid request: data.nodes and data.edges must be arrays');
  }
  const problems: GraphProblems = {
    invalid_nodes: [],
    duplicate_node_ids: [],
    invalid_edges: [],
    dangling_edges: [],
    unknown_nodes: [],
  };
  const ids = new Set<string>();
  nodes.forEach((node, index) => {
    const id = (node as { id?: unknown } | null)?.id;
    if (node === null || typeof node !== 'object' || typeof id !== 'string' || id.trim() === '') {
      problems.invalid_nodes.push(index);
      return;
    }
    if (ids.has(id)) {
      if (!problems.duplicate_node_ids.includes(id)) problems.duplicate_node_ids.push(id);
    } else {
      ids.add(id);
    }
    const reason = nodeTypes?.unknownReason(node as { type?: unknown; data?: unknown });
    if (reason) problems.unknown_nodes.push(`${id}: ${reason}`);
  });
  edges.forEach((edge, index) => {
    const { source, target } = (edge ?? {}) as { source?: unknown; target?: unknown };
    if (edge === null || typeof edge !== 'object' || typeof source !== 'string' || typeof target !== 'string') {
      problems.invalid_edges.push(edgeName(edge, index));
    } else if (!ids.has(source) || !ids.has(target)) {
      problems.dangling_edges.push(`${edgeName(edge, index)}: ${source} → ${target}`);
    }
  });
  const parts = [
    problems.invalid_nodes.length && `nodes without a string id at index ${problems.invalid_nodes.join(', ')}`,
    problems.duplicate_node_ids.length && `duplicate node ids ${problems.duplicate_node_ids.join(', ')}`,
    problems.invalid_edges.length && `edges without string source/target: ${problems.invalid_edges.join(', ')}`,
    problems.dangling_edges.length && `edges pointing at missing nodes: ${problems.dangling_edges.join('; ')}`,
    problems.unknown_nodes.length && `nodes this server cannot run: ${problems.unknown_nodes.join('; ')}`,
  ].filter(Boolean);
  if (parts.length) {
    throw new AppError(ErrorCode.InvalidRequest, `Invalid workflow graph: ${parts.join('; ')}`, { problems });
  }
}
