import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/clock';
import { EventBus } from '../common/events/event-bus';
import { NodeRunEntity } from '../database/entities/node-run.entity';
import { RunEntity } from '../database/entities/run.entity';
import { NodeRunRecord, NodeRunStart, RunRepository } from '../database/repositories/run.repository';
import { OutboundHttp } from '../egress/outbound-http';
import { SNAPSHOT_KEYS } from '../runs/snapshot';
import { hydrateParams } from '../secrets/hydration';
import { SecretsService } from '../secrets/secrets.service';
import { initialContext, withNodeOutputs } from './execution-context';
import { isActionNode, NodeRegistry } from './node-registry';
import { GraphEdge, GraphNode, NodeContext, NodeResult } from './node-types';

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
    /** Writes records on their own (then announces them). */
    private readonly write: (records: NodeRunRecord[]) => Promise<void>,
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
    if (records.length) await this.write(records);
    return next();
  }
}

/** Why an execution was stopped from outside. */
export type StopReason = 'canceled' | 'lease_lost' | 'deadline' | 'shutdown';

/** What the worker hands the executor for one execution of a claimed run. */
export interface ExecutionLease {
  workerId: string;
  signal: AbortSignal;
  /** Set when `signal` aborted: what the executor should do about it. */
  stopReason(): StopReason | null;
}

export type ExecutionOutcome = 'succeeded' | 'failed' | 'canceled' | 'paused' | 'released' | 'lost';

interface Graph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

const WRITE_ATTEMPTS = 3;

/** Parses a snapshot for execution (reference §5.1); null when it cannot run. */
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

/**
 * Executes one claimed run (reference §5.2–5.7, DESIGN §4): depth-first traversal, one node run
 * per node (succeeded node runs are checkpoints a crashed run resumes from), secrets hydrated in
 * memory only, delays persisted as a pause, failures to dead letters, terminal writes conditional
 * on still holding the lease (so a canceled run stays canceled).
 */
@Injectable()
export class RunExecutor {
  private readonly logger = new Logger(RunExecutor.name);

  constructor(
    private readonly runs: RunRepository,
    private readonly registry: NodeRegistry,
    private readonly secrets: SecretsService,
    private readonly http: OutboundHttp,
    private readonly events: EventBus,
    private readonly clock: Clock,
  ) {}

  async execute(run: RunEntity, lease: ExecutionLease): Promise<ExecutionOutcome> {
    const event = { runId: run.id, workflowId: run.workflowId, workspaceId: run.workspaceId, ownerId: run.userId };
    this.events.emit('run.started', { ...event, attempt: run.attempt });
    const snapshot = run.snapshot;
    const graph = parseGraph(snapshot);
    if (!graph) return this.finish(run, lease, 'failed', 'Invalid snapshot');

    let store: Map<string, string>;
    try {
      store = await this.secrets.decryptedStore(run.userId);
    } catch {
      return this.finish(run, lease, 'failed', 'Failed to decrypt workflow secrets');
    }
    const known = [...store.values()];

    const byId = new Map(graph.nodes.map((n) => [n.id, n]));
    const checkpoints = new Map<string, NodeRunEntity>();
    // Node runs exist only once a run was claimed before (attempt counts claims): a resumed,
    // requeued or handed-back run; a first execution has no checkpoints to read.
    const earlier = run.attempt > 1 ? await this.withRetry('load node runs', () => this.runs.nodeRuns(run.id)) : [];
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

    const stack = [...startSet].reverse();
    const visited = new Set<string>();
    const behind = new NodeRunWrites(
      this.clock,
      earlier.reduce((max, n) => Math.max(max, n.updatedAt.getTime()), 0),
      async (records) => {
        await this.withRetry('record node runs', () => this.runs.recordNodes(run.id, records, this.clock.now()));
        this.announce(run, records);
      },
    );
    while (stack.length) {
      if (lease.signal.aborted) return behind.after(() => this.stopped(run, lease));
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
        const attempt = await this.runNode(run, node, context, store, lease, sequence++, behind);
        if (attempt.kind === 'stopped') return behind.after(() => this.stopped(run, lease));
        if (attempt.kind === 'failed') {
          const message = this.secrets.redactor.redactString(attempt.error, known);
          if (isActionNode(node) && node.data.stopOnError === false) {
            // SPEC §9 item 4: tolerated for every action type; the context is not updated.
            this.pushSuccessors(stack, graph, node, { outputs: null });
            continue;
          }
          return behind.after(() => this.failWithDeadLetter(run, lease, message));
        }
        result = attempt.result;
      }
      context = withNodeOutputs(context, node, result.outputs);

      const until = result.pauseUntil;
      if (until) {
        const next = this.successors(graph, node, result);
        // SPEC §9 item 7: a delay with nowhere to go completes the run instead of looping.
        if (next.length) return behind.after(() => this.pause(run, lease, until, context, next, known));
      }
      this.pushSuccessors(stack, graph, node, result);
    }
    if (lease.signal.aborted) return behind.after(() => this.stopped(run, lease));
    return this.finish(run, lease, 'succeeded', null, behind.take());
  }

  private async runNode(
    run: RunEntity,
    node: GraphNode,
    context: Record<string, unknown>,
    store: Map<string, string>,
    lease: ExecutionLease,
    sequence: number,
    behind: NodeRunWrites,
  ): Promise<{ kind: 'ok'; result: NodeResult } | { kind: 'failed'; error: string } | { kind: 'stopped' }> {
    const event = { runId: run.id, workflowId: run.workflowId, workspaceId: run.workspaceId, ownerId: run.userId };
    const label = node.data.label;
    const name = typeof label === 'string' && label.trim() ? label.trim() : node.type;
    const executor = this.registry.resolve(node);
    const start: NodeRunStart = { nodeId: node.id, name, nodeType: node.type, inputs: node.data, sequence };
    let startedAt = behind.stamp();
    if (!executor.instant) {
      // A node with effects outside the process starts only once what came before it is recorded.
      await behind.after(() => {
        startedAt = behind.stamp();
        return this.withRetry('start node run', () => this.runs.startNode(run.id, start, startedAt));
      });
    }
    this.events.emit('node.started', { ...event, nodeId: node.id, nodeType: node.type });
    const finish = async (status: 'succeeded' | 'failed', outputs: unknown, error: string | null) => {
      const at = behind.stamp();
      // An in-memory node is safe to compute again after a crash: its record waits for the next
      // write (a node with effects, a pause or the terminal write) and goes with it.
      if (executor.instant) return behind.record({ node: start, status, outputs, error, startedAt, finishedAt: at });
      await this.withRetry('finish node run', () => this.runs.finishNode(run.id, node.id, status, outputs, error, at));
      this.events.emit('node.finished', { ...event, nodeId: node.id, status });
    };
    const known = [...store.values()];
    const allowlist = run.snapshot[SNAPSHOT_KEYS.egressAllowlist];
    const egressAllowlist = Array.isArray(allowlist) ? allowlist.filter((e): e is string => typeof e === 'string') : [];
    const hydrated: GraphNode = { ...node, data: { ...node.data, params: hydrateParams(node.data.params, store) } };
    if (node.data.params === undefined) delete hydrated.data.params;
    const ctx: NodeContext = {
      context,
      run: {
        runId: run.id,
        workflowId: run.workflowId,
        ownerId: run.userId,
        workspaceId: run.workspaceId,
        egressAllowlist,
      },
      signal: lease.signal,
      http: this.http,
      now: () => this.clock.now(),
    };
    try {
      const result = await executor.execute(hydrated, ctx);
      if (lease.signal.aborted) return { kind: 'stopped' };
      await finish('succeeded', this.secrets.redactor.redact(result.outputs, known), null);
      return { kind: 'ok', result };
    } catch (error) {
      if (lease.signal.aborted) return { kind: 'stopped' };
      const message = this.secrets.redactor.redactString(error instanceof Error ? error.message : String(error), known);
      await finish('failed', null, message);
      return { kind: 'failed', error: message };
    }
  }

  /** Reference §5.2: a valid `selectedNext` alone; condition nodes follow their branch; else every edge. */
  private successors(graph: Graph, node: GraphNode, result: NodeResult): string[] {
    const outgoing = graph.edges.filter((e) => e.source === node.id);
    if (result.selectedNext && outgoing.some((e) => e.target === result.selectedNext)) return [result.selectedNext];
    if (node.type === 'condition') {
      const handle = result.branch ? 'cond-true' : 'cond-false';
      return outgoing.filter((e) => e.sourceHandle === handle).map((e) => e.target);
    }
    return outgoing.map((e) => e.target);
  }

  /** Depth-first with the first outgoing edge explored first. */
  private pushSuccessors(stack: string[], graph: Graph, node: GraphNode, result: NodeResult): void {
    const next = this.successors(graph, node, result);
    for (let i = next.length - 1; i >= 0; i -= 1) stack.push(next[i]);
  }

  private async pause(
    run: RunEntity,
    lease: ExecutionLease,
    until: Date,
    context: Record<string, unknown>,
    next: string[],
    known: string[],
  ): Promise<ExecutionOutcome> {
    const snapshot = {
      ...run.snapshot,
      [SNAPSHOT_KEYS.resumeContext]: this.secrets.redactor.redact(context, known),
      [SNAPSHOT_KEYS.resumeFromNodes]: next,
      [SNAPSHOT_KEYS.startFromNode]: next[0],
      [SNAPSHOT_KEYS.resumeAt]: until.toISOString(),
    };
    const paused = await this.withRetry('pause run', () =>
      this.runs.pause(run.id, lease.workerId, until, snapshot, this.clock.now()),
    );
    if (!paused) return 'lost';
    this.events.emit('run.paused', {
      runId: run.id,
      workflowId: run.workflowId,
      workspaceId: run.workspaceId,
      ownerId: run.userId,
      resumeAt: until.toISOString(),
    });
    return 'paused';
  }

  /** After an outside stop: cancel already wrote the row; a shutdown hands the run back; a deadline fails it. */
  private async stopped(run: RunEntity, lease: ExecutionLease): Promise<ExecutionOutcome> {
    switch (lease.stopReason()) {
      case 'shutdown':
        return (await this.withRetry('release run', () => this.runs.release(run.id, lease.workerId, this.clock.now())))
          ? 'released'
          : 'lost';
      case 'deadline':
        return this.finish(run, lease, 'failed', 'Worker execution deadline exceeded');
      case 'canceled':
        return 'canceled';
      default:
        return 'lost';
    }
  }

  private async finish(
    run: RunEntity,
    lease: ExecutionLease,
    status: 'succeeded' | 'failed',
    error: string | null,
    records: NodeRunRecord[] = [],
  ): Promise<ExecutionOutcome> {
    const done = await this.withRetry('complete run', () =>
      this.runs.finish(run.id, lease.workerId, status, error, this.clock.now(), records),
    );
    this.announce(run, records);
    return this.finished(run, lease, done, status, error);
  }

  /** `node.finished` for node runs written together, once they are. */
  private announce(run: RunEntity, records: NodeRunRecord[]): void {
    for (const record of records) {
      this.events.emit('node.finished', {
        runId: run.id,
        workflowId: run.workflowId,
        workspaceId: run.workspaceId,
        ownerId: run.userId,
        nodeId: record.node.nodeId,
        status: record.status === 'succeeded' ? 'succeeded' : 'failed',
      });
    }
  }

  private async failWithDeadLetter(run: RunEntity, lease: ExecutionLease, error: string): Promise<ExecutionOutcome> {
    const done = await this.withRetry('insert dead letter', () =>
      this.runs.failWithDeadLetter(run, lease.workerId, error, run.snapshot, this.clock.now()),
    );
    return this.finished(run, lease, done, 'failed', error);
  }

  /** A terminal write that did not apply means the run was canceled or taken over meanwhile. */
  private finished(
    run: RunEntity,
    lease: ExecutionLease,
    written: boolean,
    status: 'succeeded' | 'failed',
    error: string | null,
  ): ExecutionOutcome {
    if (!written) return lease.stopReason() === 'canceled' ? 'canceled' : 'lost';
    const event = { runId: run.id, workflowId: run.workflowId, workspaceId: run.workspaceId, ownerId: run.userId };
    this.events.emit('run.finished', { ...event, status, error });
    return status;
  }

  /** Persistence errors are retried (3 attempts, 100 ms ×2 backoff); then they fail this run only (SPEC §9 item 1). */
  private async withRetry<T>(operation: string, write: () => Promise<T>): Promise<T> {
    let delay = 100;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await write();
      } catch (error) {
        if (attempt >= WRITE_ATTEMPTS) {
          this.logger.error(
            { operation, err: { name: (error as Error).name, message: (error as Error).message } },
            'persistence failed',
          );
          throw new Error(`Failed to ${operation}`, { cause: error });
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay *= 2;
      }
    }
  }
}
