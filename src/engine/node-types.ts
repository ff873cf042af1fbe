/**
 * The contract between the executor and node types (docs/extending.md: one class per node type,
 * registered in one place). Nodes are pure with respect to persistence: they read the context,
 * may call out through `ctx.http`, and return outputs; the executor records node runs, follows
 * edges, pauses, heartbeats and cancels.
 */
import type { OutboundHttp } from '../egress/outbound-http';

/** A node as stored in the graph (React Flow shape; only these fields matter to the engine). */
export interface GraphNode {
  id: string;
  type: string;
  data: Record<string, unknown>;
}

export interface GraphEdge {
  id?: string;
  source: string;
  target: string;
  sourceHandle?: string | null;
}

export interface RunInfo {
  runId: string;
  workflowId: string;
  /** The workflow owner: secrets and plan gates are theirs. */
  ownerId: string;
  workspaceId: string | null;
  /** The workflow's allowlist as snapshotted for this run (egress policy input). */
  egressAllowlist?: string[];
}

export interface NodeContext {
  /** Outputs of earlier nodes by label, plus the trigger payload (docs/contract.md §5.3). Read-only. */
  readonly context: Readonly<Record<string, unknown>>;
  readonly run: RunInfo;
  /** Aborted when the run is canceled, the worker shuts down or the run deadline passes. */
  readonly signal: AbortSignal;
  /** The one outbound HTTP client (egress policy and SSRF guard live behind it). */
  readonly http: OutboundHttp;
  /** The values of the run's secrets, so what leaves the engine (the egress block log) can mask them. */
  readonly secrets?: readonly string[];
  /** The engine's clock (tests move time). */
  now(): Date;
}

export interface NodeResult {
  /** Stored on the node run and in the context under the node's label. */
  outputs: unknown;
  /** A successor chosen by the node (an id among its targets); otherwise edges decide. */
  selectedNext?: string;
  /** Condition nodes: which `sourceHandle` to follow (`cond-true` / `cond-false`). */
  branch?: boolean;
  /** Delay nodes: pause the run until this instant, then continue with the node's successors. */
  pauseUntil?: Date;
}

/** A failure the node reports as its error text (kept on the node run and the run). */
export class NodeError extends Error {}

export interface NodeExecutor {
  /**
   * Computes in memory without I/O or waiting: its node run is written once, when it finishes,
   * instead of `running` then finished (a state nobody could watch).
   */
  readonly instant?: boolean;
  execute(node: GraphNode, ctx: NodeContext): Promise<NodeResult>;
}

/**
 * What the node-type catalogue (`GET /api/node-types`, docs/nodes.md) says about one node type.
 * Each node file exports one beside its executor; the JSON Schema of the params is generated from
 * `params`, the same class the node validates with, so the catalogue cannot drift from the code.
 */
export interface NodeTypeInfo {
  /** The catalogue key: a logic node's executor key (`delay`) or an action's `actionType` (`http`). */
  kind: string;
  category: 'trigger' | 'logic' | 'action';
  title: string;
  /** One or two sentences for a person choosing a node. */
  description: string;
  /** The graph `type` values that select this node (for actions: `action` and the UI's `action…` types). */
  nodeTypes: string[];
  /** Actions: the `data.actionType` values (matched lower-cased) that select it; empty otherwise. */
  actionTypes: string[];
  /**
   * Where its params live: `data.params`, `data.config`, or `data` itself (the trigger's and the
   * condition's fields sit beside `label`).
   */
  paramsField: 'params' | 'config' | 'data';
  /** The class its params are validated with (class-validator decorators). */
  params: new () => object;
  /** Each output field by name, with what it holds. */
  outputs: Record<string, string>;
  /** The plan rule that gates it, in words, or null when every plan may use it. */
  planGate: string | null;
  /**
   * False for a type this server knows but cannot run yet (an integration without a provider):
   * saving it is allowed, running it fails with a clear error. Absent means true.
   */
  available?: boolean;
}
