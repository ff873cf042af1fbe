import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { OutboundHttp } from '../egress/outbound-http';
import { SNAPSHOT_KEYS } from './snapshot';
import { hydrateParams } from '../secrets/hydration';
import { SecretsService } from '../secrets/secrets.service';
import { initialContext, storeNodeOutputs } from './execution-context';
import { isMalformed, parseGraph } from './graph';
import { NodeLimitError, NodeLimits, outputSize } from './node-limits';
import { isActionNode, NodeRegistry } from './node-registry';
import { GraphEdge, GraphNode, NodeContext, NodeError, NodeExecutor, NodeResult, RunInfo } from './node-types';
import type { PureNodeKind } from './nodes/pure-nodes';
import { Checkpoint, ExecutableRun, NodeRunRecord, NodeRunStart, RunJournal } from './run-journal';
import { PureNodeRunner } from './threads/node-thread-pool';
import { PROGRESS_BYTES, PROGRESS_STARTED } from './threads/progress';
import {
  executeSegment,
  NodeTask,
  runOutputExceeded,
  SegmentReply,
  SegmentStep,
  SegmentTask,
  ThreadNodeResult,
} from './threads/thread-tasks';
import { Traversal, TraversalState } from './traversal';

/**
 * The node-run records of one execution's in-memory nodes, written together with the next write
 * that needs them (a node with outside effects, a pause, hand-back or the terminal write) instead
 * of one write per node. Times come from `stamp`, strictly increasing within the run: a node
 * run's `updated_at` is the version live streams compare, and several nodes finish within one
 * millisecond.
 */
/** In-memory node runs written together at most (a longer stretch is written in chunks of it). */
const NODE_RUN_BATCH = 100;

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

  /**
   * Writes what is buffered once it is a big batch: a long stretch is recorded in chunks, each its
   * own short write, instead of one write that holds the database (and SQLite's event loop) long.
   */
  async flushIfFull(): Promise<void> {
    if (this.buffered.length >= NODE_RUN_BATCH) await this.journal.nodesFinished(this.take());
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

/** One execution's state: what the traversal carries from node to node. */
interface Execution {
  run: ExecutableRun;
  lease: ExecutionLease;
  journal: RunJournal;
  store: ReadonlyMap<string, string>;
  known: string[];
  info: RunInfo;
  behind: NodeRunWrites;
  /** Output bytes of the nodes run by this execution (the per-run output limit). */
  outputBytes: number;
  traversal: Traversal;
  state: TraversalState;
  /** Owned by this execution: node outputs are stored into it as nodes finish. */
  context: Record<string, unknown>;
  checkpoints: Map<string, Checkpoint>;
  sequence: number;
}

/** How long a thread walks in-memory nodes before it hands back what it did (the budget is per stretch). */
const SEGMENT_SLICE_MS = 50;
/** Nodes handed to a thread at most per stretch: a long chain goes in pieces, each cloned once. */
const SEGMENT_MAX_NODES = 500;
/** The longest stretch of in-memory nodes that may run on this thread (see `smallEnoughInline`). */
const INLINE_MAX_NODES = 32;

/**
 * Roughly the JSON size of `value` (strings by length, 8 per other scalar and per key), looked at
 * only until it passes `cap`: the answer is then some number above `cap`.
 */
function boundedSize(value: unknown, cap: number): number {
  let size = 0;
  const stack: unknown[] = [value];
  while (stack.length && size <= cap) {
    const next = stack.pop();
    if (typeof next === 'string') size += next.length + 2;
    else if (next !== null && typeof next === 'object') {
      for (const [key, child] of Object.entries(next)) {
        size += key.length + 4;
        stack.push(child);
      }
    } else size += 8;
  }
  return size;
}

/** A node result from a thread, with its pause as a Date again. */
function fromThread({ pauseUntil, ...result }: ThreadNodeResult): NodeResult {
  return pauseUntil === undefined ? result : { ...result, pauseUntil: new Date(pauseUntil) };
}

type NodeAttempt = { kind: 'ok'; result: NodeResult } | { kind: 'failed'; error: string } | { kind: 'stopped' };

/**
 * Executes one claimed run: depth-first traversal, one node run per node (succeeded
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

  /**
   * `secrets`: the owner's decrypted store, when the caller reads it for several runs at once (the
   * worker, once per claimed batch); read here otherwise.
   */
  async execute(
    run: ExecutableRun,
    lease: ExecutionLease,
    journal: RunJournal,
    secrets: () => Promise<ReadonlyMap<string, string>> = () =>
      this.secrets.decryptedStore({ ownerId: run.ownerId, workspaceId: run.workspaceId }),
  ): Promise<ExecutionOutcome> {
    journal.started();
    const snapshot = run.snapshot;
    const { graph, problems } = parseGraph(snapshot);
    // A node without a type (a graph stored before saves were validated) fails the run before any
    // node runs, rather than after the ones before it have called out.
    if (problems.some(isMalformed) || graph.nodes.some((node) => node.type === ''))
      return this.finish(journal, lease, 'failed', 'Invalid snapshot');

    let store: ReadonlyMap<string, string>;
    try {
      store = await secrets();
    } catch {
      return this.finish(journal, lease, 'failed', 'Failed to decrypt workflow secrets');
    }

    const traversal = new Traversal(graph);
    const byId = traversal.byId;
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
    const triggers = graph.triggers().map((n) => n.id);
    const startSet = resumeFrom.length
      ? resumeFrom
      : startNode && byId.has(startNode)
        ? [startNode]
        : triggers.length
          ? triggers
          : graph.nodes.slice(0, 1).map((n) => n.id);
    const resumeContext = snapshot[SNAPSHOT_KEYS.resumeContext];
    const context = initialContext({
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
        ownerId: run.ownerId,
        workspaceId: run.workspaceId,
        egressAllowlist: Array.isArray(allowlist) ? allowlist.filter((e): e is string => typeof e === 'string') : [],
      },
      behind: new NodeRunWrites(
        this.clock,
        earlier.reduce((max, n) => Math.max(max, n.updatedAt.getTime()), 0),
        journal,
      ),
      outputBytes: 0,
      traversal,
      state: { stack: [...startSet].reverse(), visited: new Set<string>() },
      context,
      checkpoints,
      sequence,
    };
    const { behind, state } = exec;
    for (;;) {
      if (lease.signal.aborted) return behind.after(() => this.stopped(journal, lease));
      const node = Traversal.peek(state, byId);
      if (!node) break;

      if (!checkpoints.has(node.id) && this.segmentKind(node)) {
        // A stretch of in-memory nodes: walked in a thread, replayed here.
        const stop = await this.runSegment(exec);
        if (stop) return stop;
        continue;
      }
      state.stack.pop();
      state.visited.add(node.id);

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
        const attempt = await this.runNode(exec, node);
        if (attempt.kind === 'stopped') return behind.after(() => this.stopped(journal, lease));
        if (attempt.kind === 'failed') {
          if (isActionNode(node) && node.data.stopOnError === false) {
            // Tolerated for every action type; the context is not updated.
            Traversal.push(state, traversal.successors(node, {}));
            continue;
          }
          return behind.after(() => this.failWithDeadLetter(journal, lease, attempt.error));
        }
        result = attempt.result;
      }
      const stop = await this.advance(exec, node, result);
      if (stop) return stop;
    }
    if (lease.signal.aborted) return behind.after(() => this.stopped(journal, lease));
    return this.finish(journal, lease, 'succeeded', null, behind.take());
  }

  /** Stores a finished node's outputs and moves on: to its successors, or into a pause. */
  private async advance(exec: Execution, node: GraphNode, result: NodeResult): Promise<ExecutionOutcome | null> {
    storeNodeOutputs(exec.context, node, result.outputs);
    await exec.behind.flushIfFull();
    const next = exec.traversal.successors(node, result);
    const until = result.pauseUntil;
    // A delay with nowhere to go completes the run instead of looping.
    if (until && next.length) return exec.behind.after(() => this.pause(exec, until, next));
    Traversal.push(exec.state, next);
    return null;
  }

  /** The pure kind of an in-memory node a thread may walk on its own (code snippets go one by one). */
  private segmentKind(node: GraphNode): PureNodeKind | null {
    const kind = this.registry.pureKind(node);
    return kind && kind !== 'code' ? kind : null;
  }

  /**
   * Runs the stretch of in-memory nodes from the top of the stack in a thread (one round trip
   * for the whole stretch, the context cloned once), then replays its steps here: node runs
   * recorded, outputs stored, successors followed (the thread followed the same traversal). A
   * stretch stopped by a limit is walked again up to the node that hit it, which fails with the
   * limit's error.
   */
  private async runSegment(exec: Execution): Promise<ExecutionOutcome | null> {
    const { state, traversal, lease } = exec;
    // What the thread may walk: the in-memory nodes reachable from the top through such nodes.
    const region = new Map<string, { kind: PureNodeKind; node: GraphNode }>();
    const edges: GraphEdge[] = [];
    const reachable = [Traversal.peek(state, traversal.byId)!];
    while (reachable.length && region.size < SEGMENT_MAX_NODES) {
      const node = reachable.pop()!;
      if (region.has(node.id) || exec.checkpoints.has(node.id) || state.visited.has(node.id)) continue;
      const kind = this.segmentKind(node);
      if (!kind) continue;
      region.set(node.id, { kind, node: this.hydrated(exec, node) });
      for (const edge of traversal.edgesFrom(node.id)) {
        edges.push(edge);
        const target = traversal.byId.get(edge.target);
        if (target) reachable.push(target);
      }
    }
    const stretch = (context: Record<string, unknown>, extra: Partial<SegmentTask> = {}): SegmentTask => ({
      type: 'segment',
      nodes: [...region.values()],
      edges,
      stack: [...state.stack],
      visited: [],
      context,
      run: exec.info,
      now: this.clock.now().getTime(),
      limits: this.threadLimits(),
      runOutputBytes: this.limits.runOutputBytes,
      runOutputBytesLeft: this.limits.runOutputBytes - exec.outputBytes,
      sliceMs: SEGMENT_SLICE_MS,
      ...extra,
    });
    if (this.smallEnoughInline(exec, region)) {
      // Linear-time work over a few KB: a thread hop would cost more than the work itself.
      return this.replay(exec, (await executeSegment(stretch({ ...exec.context }))).steps);
    }
    const walk = (maxSteps?: number) => {
      const progress = new SharedArrayBuffer(PROGRESS_BYTES);
      const task = stretch(exec.context, { maxSteps, progress });
      return this.threads
        .run(task, this.limits.timeoutMs, lease.signal, this.tenant(exec))
        .then((outcome) => ({ outcome, started: Atomics.load(new Int32Array(progress), PROGRESS_STARTED) }));
    };
    try {
      const { outcome, started } = await walk();
      if (outcome.ok) return await this.replay(exec, (outcome.value as SegmentReply).steps);
      // Stopped by a limit while on its `started`-th node: the ones before it are walked again
      // (pure, so the same), then that node fails with the limit's error.
      if (started > 1) {
        const again = await walk(started - 1);
        if (again.outcome.ok) {
          const stop = await this.replay(exec, (again.outcome.value as SegmentReply).steps);
          if (stop) return stop;
        }
      }
      const culprit = Traversal.peek(state, traversal.byId)!;
      return await this.replay(exec, [{ nodeId: culprit.id, ok: false, error: outcome.error }]);
    } catch (error) {
      if (lease.signal.aborted) return exec.behind.after(() => this.stopped(exec.journal, lease));
      throw error;
    }
  }

  /**
   * A stretch of at most INLINE_MAX_NODES nodes whose data and context hold at most
   * `ENGINE_INLINE_MAX_BYTES`: every pure node is linear-time in what it reads (and outputs are
   * bounded the same way), so such a stretch is microseconds of work wherever it runs.
   */
  private smallEnoughInline(exec: Execution, region: Map<string, { node: GraphNode }>): boolean {
    const budget = this.config.engine.inlineMaxBytes;
    if (budget <= 0 || region.size > INLINE_MAX_NODES) return false;
    let left = budget - boundedSize(exec.context, budget);
    for (const { node } of region.values()) {
      if (left < 0) return false;
      left -= boundedSize(node.data, left + 1);
    }
    return left >= 0;
  }

  /** Records what a thread walked, as if each node had run here. */
  private async replay(exec: Execution, steps: SegmentStep[]): Promise<ExecutionOutcome | null> {
    const { state, traversal, behind } = exec;
    for (const step of steps) {
      const node = Traversal.peek(state, traversal.byId);
      if (!node || node.id !== step.nodeId)
        throw new Error('The engine thread and the executor disagree on the next node');
      state.stack.pop();
      state.visited.add(node.id);
      const start = this.nodeStart(exec, node);
      const startedAt = behind.stamp();
      exec.journal.nodeRunning(start);
      if (!step.ok) {
        if (step.detail) this.logger.debug({ runId: exec.run.id, nodeId: node.id, detail: step.detail }, 'node failed');
        const error = this.secrets.redactor.redactString(step.error, exec.known);
        behind.record({ node: start, status: 'failed', outputs: null, error, startedAt, finishedAt: behind.stamp() });
        return behind.after(() => this.failWithDeadLetter(exec.journal, exec.lease, error));
      }
      exec.outputBytes += step.bytes;
      const result = fromThread(step.result);
      const outputs = this.secrets.redactor.redact(result.outputs, exec.known);
      behind.record({ node: start, status: 'succeeded', outputs, error: null, startedAt, finishedAt: behind.stamp() });
      const stop = await this.advance(exec, node, result);
      if (stop) return stop;
    }
    return null;
  }

  private async runNode(exec: Execution, node: GraphNode): Promise<NodeAttempt> {
    const { journal, behind, lease } = exec;
    const executor = this.registry.resolve(node);
    const start = this.nodeStart(exec, node);
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
    const hydrated = this.hydrated(exec, node);
    try {
      const pure = this.registry.pureKind(node);
      const { result, bytes } = pure
        ? await this.inThread(exec, pure, hydrated)
        : await this.inProcess(exec, executor, hydrated);
      this.countOutput(exec, bytes);
      if (lease.signal.aborted) return { kind: 'stopped' };
      await finish('succeeded', this.secrets.redactor.redact(result.outputs, exec.known), null);
      return { kind: 'ok', result };
    } catch (error) {
      if (lease.signal.aborted) return { kind: 'stopped' };
      const message = this.safeError(exec, error);
      await finish('failed', null, message);
      return { kind: 'failed', error: message };
    }
  }

  private nodeStart(exec: Execution, node: GraphNode): NodeRunStart {
    const label = node.data.label;
    const name = typeof label === 'string' && label.trim() ? label.trim() : node.type;
    return { nodeId: node.id, name, nodeType: node.type, inputs: node.data, sequence: exec.sequence++ };
  }

  /** The node with its params' secret references replaced by their values (in memory only). */
  private hydrated(exec: Execution, node: GraphNode): GraphNode {
    if (node.data.params === undefined) return node;
    return { ...node, data: { ...node.data, params: hydrateParams(node.data.params, exec.store) } };
  }

  private countOutput(exec: Execution, bytes: number): void {
    if (exec.outputBytes + bytes > this.limits.runOutputBytes) throw runOutputExceeded(this.limits.runOutputBytes);
    exec.outputBytes += bytes;
  }

  private safeError(exec: Execution, error: unknown): string {
    const raw = error instanceof Error ? error.message : String(error);
    return this.secrets.redactor.redactString(raw, exec.known);
  }

  /** A code snippet in an engine thread, alone: terminated past its budget, its outputs measured there. */
  private async inThread(
    exec: Execution,
    kind: PureNodeKind,
    node: GraphNode,
  ): Promise<{ result: NodeResult; bytes: number }> {
    // The sandbox stops a snippet at its own limit; the thread's budget is the backstop for
    // built-ins the sandbox cannot interrupt.
    const budget =
      kind === 'code'
        ? Math.min(this.limits.timeoutMs, this.config.engine.codeTimeoutMs + 1000)
        : this.limits.timeoutMs;
    const task: NodeTask = {
      type: 'node',
      kind,
      node,
      context: exec.context,
      run: exec.info,
      now: this.clock.now().getTime(),
      limits: this.threadLimits(),
    };
    const outcome = await this.threads.run(task, budget, exec.lease.signal, this.tenant(exec));
    if (!outcome.ok) throw new NodeError(outcome.error);
    const reply = outcome.value;
    if (reply.ok) return { result: fromThread(reply.result), bytes: reply.bytes };
    if (reply.detail) this.logger.debug({ runId: exec.run.id, nodeId: node.id, detail: reply.detail }, 'node failed');
    throw new NodeError(reply.error);
  }

  private threadLimits(): NodeTask['limits'] {
    const engine = this.config.engine;
    return {
      code: { timeoutMs: engine.codeTimeoutMs, memoryBytes: engine.codeMemoryBytes },
      outputBytes: this.limits.outputBytes,
    };
  }

  /** Threads are shared in turns between workspaces (personal workflows: their owner). */
  private tenant(exec: Execution): string {
    return exec.run.workspaceId ?? exec.run.ownerId;
  }

  /** A node that calls out: here, with the node's time limit as an abort and a deadline. */
  private async inProcess(
    exec: Execution,
    executor: NodeExecutor,
    node: GraphNode,
  ): Promise<{ result: NodeResult; bytes: number }> {
    const timeout = new AbortController();
    const timedOut = new NodeLimitError('node_timeout', `Node exceeded its ${this.limits.timeoutMs} ms time limit`);
    let timer: NodeJS.Timeout | undefined;
    const ctx: NodeContext = {
      context: exec.context,
      run: exec.info,
      signal: AbortSignal.any([exec.lease.signal, timeout.signal]),
      http: this.http,
      secrets: exec.known,
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

  private async pause(exec: Execution, until: Date, next: string[]): Promise<ExecutionOutcome> {
    const snapshot = {
      ...exec.run.snapshot,
      [SNAPSHOT_KEYS.resumeContext]: this.secrets.redactor.redact(exec.context, exec.known),
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
