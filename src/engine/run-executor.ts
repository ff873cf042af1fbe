import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { OutboundHttp } from '../egress/outbound-http';
import { SNAPSHOT_KEYS } from '../runs/snapshot';
import { hydrateParams } from '../secrets/hydration';
import { SecretsService } from '../secrets/secrets.service';
import { initialContext, withNodeOutputs } from './execution-context';
import { NodeLimitError, NodeLimits, outputSize } from './node-limits';
import { isActionNode, NodeRegistry } from './node-registry';
import { GraphEdge, GraphNode, NodeContext, NodeError, NodeExecutor, NodeResult, RunInfo } from './node-types';
import type { PureNodeKind } from './nodes/pure-nodes';
import { Checkpoint, ExecutableRun, NodeRunRecord, NodeRunStart, RunJournal } from './run-journal';
import { PureNodeRunner } from './threads/node-thread-pool';

/**
 * The node-run records of one execution's in-memory nodes, written together with the next write
 * that needs them (a node with outside effects, a pause, hand-back or the terminal write) instead
 * of one write per node. Times come from `stamp`, strictly increasing within the run: a node
 * run's `updated_at` is the version live streams compare, and several nodes finish within one
 * millisecond.
 */
class NodeRunWrites {
  private buffered: NodeRunRecord[] = [];

  constructor(
    private readonly clock: Clock,
    private last: number,
    private readonly journal: RunJournal,
  ) {}

  stamp(): Date {
    this.last = Math.max(this.clock.now().getTime(), this.last + 1);
    return new Date(this.last);
  }

  record(record: NodeRunRecord): void {
    this.buffered.push(record);
  }

  /** The records not written yet, for a write that takes them along. */
  take(): NodeRunRecord[] {
    const records = this.buffered;
    this.buffered = [];
    return records;
  }

  /** Writes what is buffered, then runs `next`. */
  async after<T>(next: () => Promise<T>): Promise<T> {
    const records = this.take();
    if (records.length) await this.journal.nodesFinished(records);
    return next();
  }
}

/** Why an execution was stopped from outside. */
export type StopReason = 'canceled' | 'lease_lost' | 'deadline' | 'shutdown';

/** What the worker hands the executor for one execution of a claimed run. */
export interface ExecutionLease {
  signal: AbortSignal;
  /** Set when `signal` aborted: what the executor should do about it. */
  stopReason(): StopReason | null;
}

export type ExecutionOutcome = 'succeeded' | 'failed' | 'canceled' | 'paused' | 'released' | 'lost';

interface Graph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** Parses a snapshot for execution; null when it cannot run. */
export function parseGraph(snapshot: Record<string, unknown>): Graph | null {
  const { nodes, edges } = snapshot as { nodes?: unknown; edges?: unknown };
  if (!Array.isArray(nodes) || !Array.isArray(edges)) return null;
  const parsedNodes: GraphNode[] = [];
  for (const n of nodes) {
    if (!n || typeof n !== 'object' || typeof n.id !== 'string' || typeof n.type !== 'string') return null;
    const data =
      n.data && typeof n.data === 'object' && !Array.isArray(n.data) ? (n.data as Record<string, unknown>) : {};
    parsedNodes.push({ id: n.id, type: n.type, data });
  }
  const parsedEdges: GraphEdge[] = [];
  for (const e of edges) {
    if (!e || typeof e !== 'object' || typeof e.source !== 'string' || typeof e.target !== 'string') return null;
    parsedEdges.push({
      id: typeof e.id === 'string' ? e.id : undefined,
      source: e.source,
      target: e.target,
      sourceHandle: typeof e.sourceHandle === 'string' ? e.sourceHandle : null,
    });
  }
  return { nodes: parsedNodes, edges: parsedEdges };
}

/** One execution's state: what the traversal carries from node to node. */
interface Execution {
  run: ExecutableRun;
  lease: ExecutionLease;
  journal: RunJournal;
  store: Map<string, string>;
  known: string[];
  info: RunInfo;
  behind: NodeRunWrites;
  /** Output bytes of the nodes run by this execution (the per-run output limit). */
  outputBytes: number;
}

type NodeAttempt = { kind: 'ok'; result: NodeResult } | { kind: 'failed'; error: string } | { kind: 'stopped' };

/**
 * Executes one claimed run (DESIGN §4): depth-first traversal, one node run per node (succeeded
 * node runs are checkpoints a crashed run resumes from), secrets hydrated in memory only, delays
 * persisted as a pause, failures to dead letters. Pure nodes run in the engine's threads; nodes
 * that call out run here, their glue bounded by the same limits. Everything it records goes
 * through the run's journal, whose terminal writes apply only while the lease is held (so a
 * canceled run stays canceled).
 */
@Injectable()
export class RunExecutor {
  private readonly logger = new Logger(RunExecutor.name);
  private readonly limits: NodeLimits;

  constructor(
    private readonly registry: NodeRegistry,
    private readonly threads: PureNodeRunner,
    private readonly secrets: SecretsService,
    private readonly http: OutboundHttp,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {
    const engine = config.engine;
    this.limits = {
      timeoutMs: engine.nodeTimeoutMs,
      outputBytes: engine.nodeOutputBytes,
      runOutputBytes: engine.runOutputBytes,
    };
  }

  async execute(run: ExecutableRun, lease: ExecutionLease, journal: RunJournal): Promise<ExecutionOutcome> {
    journal.started();
    const snapshot = run.snapshot;
    const graph = parseGraph(snapshot);
    if (!graph) return this.finish(journal, lease, 'failed', 'Invalid snapshot');

    let store: Map<string, string>;
    try {
      store = await this.secrets.decryptedStore(run.userId);
    } catch {
      return this.finish(journal, lease, 'failed', 'Failed to decrypt workflow secrets');
    }

    const byId = new Map(graph.nodes.map((n) => [n.id, n]));
    const outgoing = new Map<string, GraphEdge[]>();
    for (const edge of graph.edges) {
      const list = outgoing.get(edge.source);
      if (list) list.push(edge);
      else outgoing.set(edge.source, [edge]);
    }
    const checkpoints = new Map<string, Checkpoint>();
    // Node runs exist only once a run was claimed before (attempt counts claims): a resumed,
    // requeued or handed-back run; a first execution has no checkpoints to read.
    const earlier = run.attempt > 1 ? await journal.checkpoints() : [];
    let sequence = 0;
    for (const nodeRun of earlier) {
      if (nodeRun.status === 'succeeded') checkpoints.set(nodeRun.nodeId, nodeRun);
      sequence = Math.max(sequence, nodeRun.sequence + 1);
    }

    const resumeFrom = Array.isArray(snapshot[SNAPSHOT_KEYS.resumeFromNodes])
      ? (snapshot[SNAPSHOT_KEYS.resumeFromNodes] as unknown[]).filter(
          (id): id is string => typeof id === 'string' && byId.has(id),
        )
      : [];
    const startNode =
      typeof snapshot[SNAPSHOT_KEYS.startFromNode] === 'string'
        ? (snapshot[SNAPSHOT_KEYS.startFromNode] as string)
        : null;
    const triggers = graph.nodes.filter((n) => n.type === 'trigger').map((n) => n.id);
    const startSet = resumeFrom.length
      ? resumeFrom
      : startNode && byId.has(startNode)
        ? [startNode]
        : triggers.length
          ? triggers
          : graph.nodes.slice(0, 1).map((n) => n.id);
    const resumeContext = snapshot[SNAPSHOT_KEYS.resumeContext];
    let context = initialContext({
      nodes: graph.nodes,
      startNodeId: startNode,
      triggerContext: snapshot[SNAPSHOT_KEYS.triggerContext],
      resumeContext:
        resumeContext && typeof resumeContext === 'object' ? (resumeContext as Record<string, unknown>) : null,
    });

    const allowlist = snapshot[SNAPSHOT_KEYS.egressAllowlist];
    const exec: Execution = {
      run,
      lease,
      journal,
      store,
      known: [...store.values()],
      info: {
        runId: run.id,
        workflowId: run.workflowId,
        ownerId: run.userId,
        workspaceId: run.workspaceId,
        egressAllowlist: Array.isArray(allowlist) ? allowlist.filter((e): e is string => typeof e === 'string') : [],
      },
      behind: new NodeRunWrites(
        this.clock,
        earlier.reduce((max, n) => Math.max(max, n.updatedAt.getTime()), 0),
        journal,
      ),
      outputBytes: 0,
    };
    const { behind } = exec;
    const successors = (node: GraphNode, result: NodeResult) =>
      this.successors(outgoing.get(node.id) ?? [], node, result);
    const stack = [...startSet].reverse();
    const push = (next: string[]) => {
      for (let i = next.length - 1; i >= 0; i -= 1) stack.push(next[i]);
    };
    const visited = new Set<string>();
    while (stack.length) {
      if (lease.signal.aborted) return behind.after(() => this.stopped(journal, lease));
      const node = byId.get(stack.pop()!);
      if (!node || visited.has(node.id)) continue;
      visited.add(node.id);

      const checkpoint = checkpoints.get(node.id);
      let result: NodeResult;
      if (checkpoint) {
        // Completed before a crash or hand-back: reuse, never run twice past the checkpoint.
        const outputs = checkpoint.outputs as { result?: unknown; resumeAt?: unknown } | null;
        result = { outputs, branch: node.type === 'condition' ? outputs?.result === true : undefined };
        // A delay that completed but whose pause was never written (crash in between) pauses now.
        const resumeAt = typeof outputs?.resumeAt === 'string' ? new Date(outputs.resumeAt) : null;
        if (resumeAt && resumeAt.getTime() > this.clock.now().getTime()) result.pauseUntil = resumeAt;
      } else {
        const attempt = await this.runNode(exec, node, context, sequence++);
        if (attempt.kind === 'stopped') return behind.after(() => this.stopped(journal, lease));
        if (attempt.kind === 'failed') {
          if (isActionNode(node) && node.data.stopOnError === false) {
            // Tolerated for every action type; the context is not updated.
            push(successors(node, { outputs: null }));
            continue;
          }
          return behind.after(() => this.failWithDeadLetter(journal, lease, attempt.error));
        }
        result = attempt.result;
      }
      context = withNodeOutputs(context, node, result.outputs);

      const until = result.pauseUntil;
      if (until) {
        const next = successors(node, result);
        // A delay with nowhere to go completes the run instead of looping.
        if (next.length) return behind.after(() => this.pause(exec, until, context, next));
      }
      push(successors(node, result));
    }
    if (lease.signal.aborted) return behind.after(() => this.stopped(journal, lease));
    return this.finish(journal, lease, 'succeeded', null, behind.take());
  }

  private async runNode(
    exec: Execution,
    node: GraphNode,
    context: Record<string, unknown>,
    sequence: number,
  ): Promise<NodeAttempt> {
    const { journal, behind, lease } = exec;
    const label = node.data.label;
    const name = typeof label === 'string' && label.trim() ? label.trim() : node.type;
    const executor = this.registry.resolve(node);
    const start: NodeRunStart = { nodeId: node.id, name, nodeType: node.type, inputs: node.data, sequence };
    let startedAt = behind.stamp();
    if (!executor.instant) {
      // A node with effects outside the process starts only once what came before it is recorded.
      await behind.after(() => {
        startedAt = behind.stamp();
        return journal.nodeStarted(start, startedAt);
      });
    }
    journal.nodeRunning(start);
    const finish = async (status: 'succeeded' | 'failed', outputs: unknown, error: string | null) => {
      const at = behind.stamp();
      // An in-memory node is safe to compute again after a crash: its record waits for the next
      // write (a node with effects, a pause or the terminal write) and goes with it.
      if (executor.instant) return behind.record({ node: start, status, outputs, error, startedAt, finishedAt: at });
      await journal.nodeFinished(start, status, outputs, error, at);
    };
    const hydrated: GraphNode = {
      ...node,
      data: { ...node.data, params: hydrateParams(node.data.params, exec.store) },
    };
    if (node.data.params === undefined) delete hydrated.data.params;
    try {
      const pure = this.registry.pureKind(node);
      const { result, bytes } = pure
        ? await this.inThread(exec, pure, hydrated, context)
        : await this.inProcess(exec, executor, hydrated, context);
      if (exec.outputBytes + bytes > this.limits.runOutputBytes) {
        throw new NodeLimitError(
          'output_too_large',
          `The run's node outputs would exceed ${this.limits.runOutputBytes} bytes`,
        );
      }
      exec.outputBytes += bytes;
      if (lease.signal.aborted) return { kind: 'stopped' };
      await finish('succeeded', this.secrets.redactor.redact(result.outputs, exec.known), null);
      return { kind: 'ok', result };
    } catch (error) {
      if (lease.signal.aborted) return { kind: 'stopped' };
      const raw = error instanceof Error ? error.message : String(error);
      const message = this.secrets.redactor.redactString(raw, exec.known);
      await finish('failed', null, message);
      return { kind: 'failed', error: message };
    }
  }

  /** A pure node in an engine thread: terminated past its budget, its outputs measured there. */
  private async inThread(
    exec: Execution,
    kind: PureNodeKind,
    node: GraphNode,
    context: Record<string, unknown>,
  ): Promise<{ result: NodeResult; bytes: number }> {
    const engine = this.config.engine;
    // The sandbox stops a snippet at its own limit; the thread's budget is the backstop for
    // built-ins the sandbox cannot interrupt.
    const budget =
      kind === 'code' ? Math.min(this.limits.timeoutMs, engine.codeTimeoutMs + 1000) : this.limits.timeoutMs;
    const reply = await this.threads.run(
      {
        kind,
        node,
        context,
        run: exec.info,
        now: this.clock.now().getTime(),
        limits: {
          code: { timeoutMs: engine.codeTimeoutMs, memoryBytes: engine.codeMemoryBytes },
          outputBytes: this.limits.outputBytes,
        },
      },
      budget,
      exec.lease.signal,
      exec.run.workspaceId ?? exec.run.userId,
    );
    if (reply.ok) {
      const { pauseUntil, ...result } = reply.result;
      return {
        result: pauseUntil === undefined ? result : { ...result, pauseUntil: new Date(pauseUntil) },
        bytes: reply.bytes,
      };
    }
    if (reply.detail) this.logger.debug({ runId: exec.run.id, nodeId: node.id, detail: reply.detail }, 'node failed');
    throw new NodeError(reply.error);
  }

  /** A node that calls out: here, with the node's time limit as an abort and a deadline. */
  private async inProcess(
    exec: Execution,
    executor: NodeExecutor,
    node: GraphNode,
    context: Record<string, unknown>,
  ): Promise<{ result: NodeResult; bytes: number }> {
    const timeout = new AbortController();
    const timedOut = new NodeLimitError('node_timeout', `Node exceeded its ${this.limits.timeoutMs} ms time limit`);
    let timer: NodeJS.Timeout | undefined;
    const ctx: NodeContext = {
      context,
      run: exec.info,
      signal: AbortSignal.any([exec.lease.signal, timeout.signal]),
      http: this.http,
      now: () => this.clock.now(),
    };
    try {
      const result = await Promise.race([
        executor.execute(node, ctx),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            timeout.abort();
            reject(timedOut);
          }, this.limits.timeoutMs);
        }),
      ]);
      return { result, bytes: outputSize(result.outputs, this.limits.outputBytes) };
    } catch (error) {
      throw timeout.signal.aborted && !exec.lease.signal.aborted ? timedOut : error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** A valid `selectedNext` alone; condition nodes follow their branch; else every edge. */
  private successors(outgoing: GraphEdge[], node: GraphNode, result: NodeResult): string[] {
    if (result.selectedNext && outgoing.some((e) => e.target === result.selectedNext)) return [result.selectedNext];
    if (node.type === 'condition') {
      const handle = result.branch ? 'cond-true' : 'cond-false';
      return outgoing.filter((e) => e.sourceHandle === handle).map((e) => e.target);
    }
    return outgoing.map((e) => e.target);
  }

  private async pause(
    exec: Execution,
    until: Date,
    context: Record<string, unknown>,
    next: string[],
  ): Promise<ExecutionOutcome> {
    const snapshot = {
      ...exec.run.snapshot,
      [SNAPSHOT_KEYS.resumeContext]: this.secrets.redactor.redact(context, exec.known),
      [SNAPSHOT_KEYS.resumeFromNodes]: next,
      [SNAPSHOT_KEYS.startFromNode]: next[0],
      [SNAPSHOT_KEYS.resumeAt]: until.toISOString(),
    };
    return (await exec.journal.paused(until, snapshot)) ? 'paused' : 'lost';
  }

  /** After an outside stop: cancel already wrote the row; a shutdown hands the run back; a deadline fails it. */
  private async stopped(journal: RunJournal, lease: ExecutionLease): Promise<ExecutionOutcome> {
    switch (lease.stopReason()) {
      case 'shutdown':
        return (await journal.released()) ? 'released' : 'lost';
      case 'deadline':
        return this.finish(journal, lease, 'failed', 'Worker execution deadline exceeded');
      case 'canceled':
        return 'canceled';
      default:
        return 'lost';
    }
  }

  private async finish(
    journal: RunJournal,
    lease: ExecutionLease,
    status: 'succeeded' | 'failed',
    error: string | null,
    records: NodeRunRecord[] = [],
  ): Promise<ExecutionOutcome> {
    return this.outcome(lease, await journal.finished(status, error, records), status);
  }

  private async failWithDeadLetter(
    journal: RunJournal,
    lease: ExecutionLease,
    error: string,
  ): Promise<ExecutionOutcome> {
    return this.outcome(lease, await journal.failedWithDeadLetter(error), 'failed');
  }

  /** A terminal write that did not apply means the run was canceled or taken over meanwhile. */
  private outcome(lease: ExecutionLease, written: boolean, status: 'succeeded' | 'failed'): ExecutionOutcome {
    if (!written) return lease.stopReason() === 'canceled' ? 'canceled' : 'lost';
    return status;
  }
}
