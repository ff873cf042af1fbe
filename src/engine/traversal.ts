import type { Graph } from './graph';
import type { GraphEdge, GraphNode, NodeResult } from './node-types';

/** Where a traversal stands: what is left to visit (top = last) and what was visited. */
export interface TraversalState {
  stack: string[];
  visited: Set<string>;
}

/**
 * The execution order of a graph, shared by the executor and the engine threads (which walk
 * stretches of in-memory nodes on their own): depth-first, the first outgoing edge explored first.
 */
export class Traversal {
  readonly byId: ReadonlyMap<string, GraphNode>;

  constructor(private readonly graph: Graph) {
    this.byId = graph.byId;
  }

  /** Every edge out of `id`, whatever its handle. */
  edgesFrom(id: string): readonly GraphEdge[] {
    return this.graph.outgoing(id);
  }

  /** A valid `selectedNext` alone; condition nodes follow their branch; else every edge. */
  successors(node: GraphNode, result: Pick<NodeResult, 'selectedNext' | 'branch'>): string[] {
    const outgoing = this.graph.outgoing(node.id);
    if (result.selectedNext && outgoing.some((e) => e.target === result.selectedNext)) return [result.selectedNext];
    if (node.type === 'condition') {
      const handle = result.branch ? 'cond-true' : 'cond-false';
      return outgoing.filter((e) => e.sourceHandle === handle).map((e) => e.target);
    }
    return outgoing.map((e) => e.target);
  }

  /** Pushes `next` so that its first entry is visited first. */
  static push(state: TraversalState, next: string[]): void {
    for (let i = next.length - 1; i >= 0; i -= 1) state.stack.push(next[i]);
  }

  /** The next node to visit, without taking it (visited and unknown ids are dropped). */
  static peek(state: TraversalState, byId: ReadonlyMap<string, GraphNode>): GraphNode | null {
    while (state.stack.length) {
      const node = byId.get(state.stack[state.stack.length - 1]);
      if (node && !state.visited.has(node.id)) return node;
      state.stack.pop();
    }
    return null;
  }
}
