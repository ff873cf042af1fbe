import { AppError, ErrorCode } from '../common/errors/app-error';
import { parseGraph } from '../engine/graph';
import type { GraphNode } from '../engine/node-types';

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
  unknownReason(node: GraphNode): string | null;
}

/**
 * The save-time check DSentr never did: `data` is an object with `nodes` and `edges` arrays, node
 * ids are unique, edges point at existing nodes (the graph parser's problems, src/engine/graph.ts)
 * and, given the node registry, every node's type (and `actionType`) is one this server provides.
 * Throws 400 naming the offending ids.
 */
export function assertValidGraph(
  data: unknown,
  nodeTypes?: NodeTypeCheck,
): asserts data is { nodes: unknown[]; edges: unknown[] } & Record<string, unknown> {
  const parse = parseGraph(data);
  if (parse.problems.some((p) => p.code === 'not_an_object')) {
    throw new AppError(ErrorCode.InvalidRequest, 'Invalid request: data must be an object with nodes and edges arrays');
  }
  if (parse.problems.some((p) => p.code === 'not_arrays')) {
    throw new AppError(ErrorCode.InvalidRequest, 'Invalid request: data.nodes and data.edges must be arrays');
  }
  const problems: GraphProblems = {
    invalid_nodes: [],
    duplicate_node_ids: [],
    invalid_edges: [],
    dangling_edges: [],
    unknown_nodes: [],
  };
  for (const problem of parse.problems) {
    if (problem.code === 'invalid_node') problems.invalid_nodes.push(problem.index);
    else if (problem.code === 'duplicate_node_id') {
      if (!problems.duplicate_node_ids.includes(problem.id)) problems.duplicate_node_ids.push(problem.id);
    } else if (problem.code === 'invalid_edge') problems.invalid_edges.push(problem.name);
    else if (problem.code === 'dangling_edge') {
      problems.dangling_edges.push(`${problem.name}: ${problem.source} → ${problem.target}`);
    }
  }
  if (nodeTypes) {
    for (const node of parse.graph.nodes) {
      const reason = nodeTypes.unknownReason(node);
      if (reason) problems.unknown_nodes.push(`${node.id}: ${reason}`);
    }
  }
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
