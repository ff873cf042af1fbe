import { OutboundError, type OutboundHttp } from '../../egress/outbound-http';
import { storeNodeOutputs } from '../execution-context';
import { NodeLimitError, outputSize } from '../node-limits';
import {
  NodeError,
  type GraphEdge,
  type GraphNode,
  type NodeContext,
  type NodeResult,
  type RunInfo,
} from '../node-types';
import { PURE_NODES, type PureNodeKind, type PureNodeLimits } from '../nodes/pure-nodes';
import { parseGraph } from '../graph';
import { Traversal } from '../traversal';
import { clockSlot, PROGRESS_BEGUN, PROGRESS_BEGUN_AT, PROGRESS_STARTED } from './progress';

/** What every task carries (structured-clone safe). */
interface TaskBase {
  run: RunInfo;
  /** The engine clock at dispatch (ms since epoch): tests move time on the main thread. */
  now: number;
  context: Record<string, unknown>;
  limits: PureNodeLimits & { outputBytes: number };
  /** Shared with the main thread (src/engine/threads/progress.ts). */
  progress?: SharedArrayBuffer;
}

/** One pure node (a code snippet: it may run for seconds, so it goes alone). */
export interface NodeTask extends TaskBase {
  type: 'node';
  kind: PureNodeKind;
  /** With hydrated params: secrets cross to the thread in memory only. */
  node: GraphNode;
}

/**
 * A stretch of in-memory nodes walked in the thread: from the top of `stack`, as long as the next
 * node is one of `nodes` (the ones the executor lets the thread run), for about `sliceMs`.
 */
export interface SegmentTask extends TaskBase {
  type: 'segment';
  /** The nodes the thread may run, with their kind; params hydrated. */
  nodes: { kind: PureNodeKind; node: GraphNode }[];
  /** Edges out of those nodes. */
  edges: GraphEdge[];
  stack: string[];
  visited: string[];
  /** The run's output limit, and what of it is left. */
  runOutputBytes: number;
  runOutputBytesLeft: number;
  sliceMs: number;
  /** Stop after this many nodes (the replay after a timeout). */
  maxSteps?: number;
}

export type ThreadTask = NodeTask | SegmentTask;

/** A node result as it crosses threads: the pause as ms since epoch (a Date would arrive from another realm). */
export type ThreadNodeResult = Omit<NodeResult, 'pauseUntil'> & { pauseUntil?: number };

export type NodeReply =
  | { ok: true; result: ThreadNodeResult; bytes: number }
  /** `error` is safe to show (a node error); anything else is sanitised, its text only in `detail`. */
  | { ok: false; error: string; detail?: string };

export type SegmentStep = NodeReply & { nodeId: string };

export interface SegmentReply {
  steps: SegmentStep[];
  /** The traversal stack after the last step (before the successors of a pausing delay). */
  stack: string[];
}

/** Pure nodes make no outside calls; a node that tries is a programming error, reported as such. */
const NO_OUTSIDE_CALLS: OutboundHttp = {
  request: () => Promise.reject(new OutboundError('outside calls are not available to this node type', 'blocked')),
};
const NEVER = new AbortController().signal;

async function execute(
  kind: PureNodeKind,
  node: GraphNode,
  task: TaskBase,
  received: number,
  outputBytes: number,
): Promise<NodeReply> {
  const ctx: NodeContext = {
    context: task.context,
    run: task.run,
    signal: NEVER,
    http: NO_OUTSIDE_CALLS,
    now: () => new Date(task.now + (Date.now() - received)),
  };
  try {
    const { pauseUntil, ...result } = await PURE_NODES[kind](task.limits).execute(node, ctx);
    const bytes = outputSize(result.outputs, outputBytes);
    return { ok: true, result: pauseUntil ? { ...result, pauseUntil: pauseUntil.getTime() } : result, bytes };
  } catch (error) {
    if (error instanceof NodeError) return { ok: false, error: error.message };
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { ok: false, error: 'Node execution failed', detail };
  }
}

/** Runs one pure node and measures its outputs. Stopping it is the caller's job (the thread is terminated). */
export function executeNode(task: NodeTask): Promise<NodeReply> {
  return execute(task.kind, task.node, task, Date.now(), task.limits.outputBytes);
}

/**
 * Walks a stretch of in-memory nodes with the executor's traversal, until the next node is not
 * one of the task's, a node fails or pauses, or the time slice is used. The context is this
 * task's copy: the executor replays the steps into its own.
 */
export async function executeSegment(task: SegmentTask): Promise<SegmentReply> {
  const received = Date.now();
  const kinds = new Map(task.nodes.map(({ kind, node }) => [node.id, kind]));
  // The task's nodes and edges were parsed on the main thread; its edges may lead out of the stretch.
  const traversal = new Traversal(parseGraph({ nodes: task.nodes.map((n) => n.node), edges: task.edges }).graph);
  const state = { stack: task.stack, visited: new Set(task.visited) };
  const progress = task.progress ? new Int32Array(task.progress) : null;
  const steps: SegmentStep[] = [];
  let bytesLeft = task.runOutputBytesLeft;
  for (;;) {
    if (task.maxSteps !== undefined && steps.length >= task.maxSteps) break;
    const node = Traversal.peek(state, traversal.byId);
    const kind = node && kinds.get(node.id);
    if (!node || !kind) break;
    state.stack.pop();
    state.visited.add(node.id);
    if (progress) Atomics.store(progress, PROGRESS_STARTED, steps.length + 1);
    let reply = await execute(kind, node, task, received, task.limits.outputBytes);
    if (reply.ok && reply.bytes > bytesLeft)
      reply = { ok: false, error: runOutputExceeded(task.runOutputBytes).message };
    steps.push({ ...reply, nodeId: node.id });
    if (!reply.ok) break;
    bytesLeft -= reply.bytes;
    storeNodeOutputs(task.context, node, reply.result.outputs);
    const next = traversal.successors(node, reply.result);
    // A delay with somewhere to go pauses the run: the executor takes it from here.
    if (reply.result.pauseUntil !== undefined && next.length) break;
    Traversal.push(state, next);
    if (Date.now() - received >= task.sliceMs) break;
  }
  return { steps, stack: state.stack };
}

export function runOutputExceeded(limit: number): NodeLimitError {
  return new NodeLimitError('output_too_large', `The run's node outputs would exceed ${limit} bytes`);
}

/** The thread's entry: one task of either kind. */
export function executeTask(task: ThreadTask): Promise<NodeReply | SegmentReply> {
  if (task.progress) {
    const slots = new Int32Array(task.progress);
    Atomics.store(slots, PROGRESS_BEGUN_AT, clockSlot());
    Atomics.store(slots, PROGRESS_BEGUN, 1);
  }
  return task.type === 'node' ? executeNode(task) : executeSegment(task);
}
