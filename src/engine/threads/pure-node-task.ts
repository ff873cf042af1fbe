import { OutboundError, type OutboundHttp } from '../../egress/outbound-http';
import { NodeError, type GraphNode, type NodeContext, type NodeResult, type RunInfo } from '../node-types';
import { outputSize } from '../node-limits';
import { PURE_NODES, type PureNodeKind, type PureNodeLimits } from '../nodes/pure-nodes';

/** One pure node's execution, as sent to a thread (structured-clone safe). */
export interface PureNodeTask {
  kind: PureNodeKind;
  /** With hydrated params: secrets cross to the thread in memory only. */
  node: GraphNode;
  context: Record<string, unknown>;
  run: RunInfo;
  /** The engine clock at dispatch (ms since epoch): tests move time on the main thread. */
  now: number;
  limits: PureNodeLimits & { outputBytes: number };
}

/** A node result as it crosses threads: the pause as ms since epoch (a Date would arrive from another realm). */
export type ThreadNodeResult = Omit<NodeResult, 'pauseUntil'> & { pauseUntil?: number };

export type PureNodeReply =
  | { ok: true; result: ThreadNodeResult; bytes: number }
  /** `error` is safe to show (a node error); anything else is sanitised, its text only in `detail`. */
  | { ok: false; error: string; detail?: string };

/** Pure nodes make no outside calls; a node that tries is a programming error, reported as such. */
const NO_OUTSIDE_CALLS: OutboundHttp = {
  request: () => Promise.reject(new OutboundError('outside calls are not available to this node type', 'blocked')),
};
const NEVER = new AbortController().signal;

/**
 * Runs one pure node and measures its outputs. Used by the worker threads, and in-process by the
 * engine's own tests. Stopping it is the caller's job (the thread is terminated).
 */
export async function executePureNode(task: PureNodeTask): Promise<PureNodeReply> {
  const received = Date.now();
  const ctx: NodeContext = {
    context: task.context,
    run: task.run,
    signal: NEVER,
    http: NO_OUTSIDE_CALLS,
    now: () => new Date(task.now + (Date.now() - received)),
  };
  try {
    const { pauseUntil, ...result } = await PURE_NODES[task.kind](task.limits).execute(task.node, ctx);
    const bytes = outputSize(result.outputs, task.limits.outputBytes);
    return { ok: true, result: pauseUntil ? { ...result, pauseUntil: pauseUntil.getTime() } : result, bytes };
  } catch (error) {
    if (error instanceof NodeError) return { ok: false, error: error.message };
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { ok: false, error: 'Node execution failed', detail };
  }
}
