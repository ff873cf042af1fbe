import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import * as path from 'node:path';
import { BroadcastChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { AppConfig } from '../../config/app-config';
import { NodeLimitError } from '../node-limits';
import { clockSlot, CLOCK_SLOT_SPAN, PROGRESS_BEGUN, PROGRESS_BEGUN_AT, PROGRESS_BYTES } from './progress';
import { executeTask, type NodeTask, type SegmentReply, type NodeReply, type ThreadTask } from './thread-tasks';
import { THREAD_OUTPUT_CHANNEL } from './thread-output';
import type { ThreadSettings } from './thread-priority';

/** What a task answers, or the limit that stopped it (its thread was terminated). */
export type ThreadOutcome<T> = { ok: true; value: T } | { ok: false; error: string };

/** Runs pure nodes somewhere; the engine asks one of these. */
export abstract class PureNodeRunner {
  /**
   * Executes `task` within `budgetMs` of wall time (counted from when it starts, not while it
   * waits for a thread). Rejects with an AbortError when `signal` aborts (cancel, shutdown).
   */
  abstract run(
    task: NodeTask,
    budgetMs: number,
    signal: AbortSignal,
    tenant: string,
  ): Promise<ThreadOutcome<NodeReply>>;
  abstract run(
    task: ThreadTask,
    budgetMs: number,
    signal: AbortSignal,
    tenant: string,
  ): Promise<ThreadOutcome<NodeReply | SegmentReply>>;
}

/** In the calling thread, without limits: for the engine's own tests. */
export class InlinePureNodeRunner extends PureNodeRunner {
  async run(task: ThreadTask): Promise<ThreadOutcome<NodeReply & SegmentReply>> {
    return { ok: true, value: (await executeTask(task)) as NodeReply & SegmentReply };
  }
}

/**
 * Short tasks handed to one thread ahead of time: the thread starts the next one without waiting
 * for the main thread (busy serving requests) to take the last answer.
 */
const SHORT_TASKS_PER_THREAD = 16;

/**
 * Threads of one kind of work, with our own admission in front: tasks wait in a round-robin over
 * tenants (one workspace's backlog cannot queue ahead of another's nodes), and a task's budget
 * starts only once its thread begins it.
 */
class Lane {
  private pool: Piscina<ThreadTask, NodeReply | SegmentReply> | null = null;
  private busy = 0;
  /** Waiting tasks by tenant; Map order is the round-robin order. */
  private readonly waiting = new Map<string, (() => void)[]>();

  constructor(
    private readonly options: {
      threads: number;
      tasksPerThread: number;
      memoryMb: number;
      nice: number;
      warm: boolean;
    },
    /** A thread that died with no task of its own (e.g. while starting): logged, never thrown. */
    private readonly onIdleError: (error: Error) => void,
  ) {}

  private get capacity(): number {
    return this.options.threads * this.options.tasksPerThread;
  }

  threads(): Piscina<ThreadTask, NodeReply | SegmentReply> {
    // Compiled: the sibling .js file. Under ts-node or jest: the .ts source, compiled in the thread.
    const compiled = __filename.endsWith('.js');
    this.pool ??= new Piscina({
      filename: path.join(__dirname, compiled ? 'node-thread.js' : 'node-thread.ts'),
      execArgv: compiled ? [] : ['--require', 'ts-node/register/transpile-only'],
      minThreads: this.options.warm ? this.options.threads : 0,
      maxThreads: this.options.threads,
      idleTimeout: 60_000,
      concurrentTasksPerWorker: this.options.tasksPerThread,
      resourceLimits: { maxOldGenerationSizeMb: this.options.memoryMb },
      recordTiming: false,
      workerData: { nice: this.options.nice } satisfies ThreadSettings,
    });
    // Without a listener piscina's 'error' event would be an uncaught exception: the whole process.
    if (!this.pool.listenerCount('error')) this.pool.on('error', this.onIdleError);
    return this.pool;
  }

  async warm(): Promise<void> {
    const pool = this.threads();
    const idle: NodeTask = {
      type: 'node',
      kind: 'trigger',
      node: { id: 'warm-up', type: 'trigger', data: {} },
      context: {},
      run: { runId: 'warm-up', workflowId: 'warm-up', ownerId: 'warm-up', workspaceId: null },
      now: Date.now(),
      limits: { code: { timeoutMs: 1, memoryBytes: 1 }, outputBytes: 1024 },
    };
    await Promise.all(Array.from({ length: this.options.threads }, () => pool.run(idle)));
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    await pool?.destroy();
  }

  acquire(tenant: string, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    if (!this.waiting.size && this.busy < this.capacity) {
      this.busy += 1;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const queue = this.waiting.get(tenant) ?? [];
      const aborted = () => {
        const at = queue.indexOf(start);
        if (at === -1) return;
        queue.splice(at, 1);
        if (!queue.length && this.waiting.get(tenant) === queue) this.waiting.delete(tenant);
        reject(signal.reason as Error);
      };
      const start = () => {
        signal.removeEventListener('abort', aborted);
        resolve();
      };
      queue.push(start);
      this.waiting.set(tenant, queue);
      signal.addEventListener('abort', aborted, { once: true });
      this.dispatch();
    });
  }

  release(): void {
    this.busy -= 1;
    this.dispatch();
  }

  /** Starts waiting tasks while there is room: each tenant in turn, a tenant served goes to the back. */
  private dispatch(): void {
    while (this.busy < this.capacity && this.waiting.size) {
      const [tenant, queue] = this.waiting.entries().next().value!;
      const next = queue.shift()!;
      this.waiting.delete(tenant);
      if (queue.length) this.waiting.set(tenant, queue);
      this.busy += 1;
      next();
    }
  }
}

/**
 * The engine's worker threads (docs/operations.md, "Execution isolation and limits"): untrusted computation (code snippets, templates and
 * patterns over payloads) runs here, never on the event loop that serves HTTP, SSE, leases and the
 * scheduler. A task past its budget, or one whose run is canceled, has its thread terminated and
 * replaced (piscina does both on abort). Two lanes of `ENGINE_THREADS` threads each:
 * - short: stretches of conditions, formatters, triggers and delays (linear work over bounded
 *   input), several handed to a thread ahead of time; a task that never began when its thread was
 *   terminated for another's overrun runs again elsewhere;
 * - long: code snippets, which may run for seconds, one per thread, so a tenant spinning snippets
 *   never holds up anyone's conditions and formatters.
 */
@Injectable()
export class NodeThreadPool extends PureNodeRunner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(NodeThreadPool.name);
  private output: BroadcastChannel | null = null;
  private readonly short: Lane;
  private readonly long: Lane;

  constructor(private readonly config: AppConfig) {
    super();
    const { threads, threadMemoryMb: memoryMb, threadNice: nice } = config.engine;
    const warm = config.roles.has('worker');
    const idleError = (error: Error) =>
      this.logger.warn({ err: { name: error.name, message: error.message } }, 'engine thread failed outside a task');
    this.short = new Lane({ threads, tasksPerThread: SHORT_TASKS_PER_THREAD, memoryMb, nice, warm }, idleError);
    this.long = new Lane({ threads, tasksPerThread: 1, memoryMb, nice, warm }, idleError);
  }

  async run(task: NodeTask, budgetMs: number, signal: AbortSignal, tenant: string): Promise<ThreadOutcome<NodeReply>>;
  async run(
    task: ThreadTask,
    budgetMs: number,
    signal: AbortSignal,
    tenant: string,
  ): Promise<ThreadOutcome<NodeReply | SegmentReply>>;
  async run(
    task: ThreadTask,
    budgetMs: number,
    signal: AbortSignal,
    tenant: string,
  ): Promise<ThreadOutcome<NodeReply | SegmentReply>> {
    this.listen();
    const lane = task.type === 'node' && task.kind === 'code' ? this.long : this.short;
    // A thread that dies before it begins, time after time, is not another task's casualty: stop.
    for (let tries = 1; ; tries += 1) {
      await lane.acquire(tenant, signal);
      try {
        const outcome = await this.attempt(lane, task, budgetMs, signal);
        if (outcome !== 'again') return outcome;
        if (tries >= MAX_UNBEGUN_TRIES) {
          return limit(new NodeLimitError('node_crashed', 'The engine thread could not start this node'));
        }
      } finally {
        lane.release();
      }
    }
  }

  /** One try on a thread; 'again' when the thread was terminated for another task before this one began. */
  private async attempt(
    lane: Lane,
    task: ThreadTask,
    budgetMs: number,
    signal: AbortSignal,
  ): Promise<ThreadOutcome<NodeReply | SegmentReply> | 'again'> {
    const slots = new Int32Array((task.progress ??= new SharedArrayBuffer(PROGRESS_BYTES)));
    slots.fill(0); // a retry starts afresh
    // The budget runs from when the thread begins the task (it writes when), not while the task
    // waits behind another or a replacement thread starts: the timer looks and, if need be, waits on.
    const stop = new AbortController();
    let timedOut = false;
    let timer: NodeJS.Timeout;
    const check = (waitMs: number) => {
      timer = setTimeout(() => {
        const begun = Atomics.load(slots, PROGRESS_BEGUN);
        const elapsed = begun
          ? (clockSlot() - Atomics.load(slots, PROGRESS_BEGUN_AT) + CLOCK_SLOT_SPAN) % CLOCK_SLOT_SPAN
          : 0;
        if (begun && elapsed >= budgetMs) {
          timedOut = true;
          stop.abort();
        } else check(begun ? budgetMs - elapsed : budgetMs);
      }, waitMs);
    };
    check(budgetMs);
    const canceled = () => stop.abort(signal.reason);
    if (signal.aborted) canceled();
    else signal.addEventListener('abort', canceled, { once: true });
    try {
      return { ok: true, value: await lane.threads().run(task, { signal: stop.signal }) };
    } catch (error) {
      if (signal.aborted) throw error;
      if (timedOut) {
        return limit(new NodeLimitError('node_timeout', `Node exceeded its ${budgetMs} ms time limit`));
      }
      const code = (error as { code?: unknown }).code;
      // Out of memory is this task's limit even before it began (the thread could not load).
      if (Atomics.load(slots, PROGRESS_BEGUN) === 0 && code !== 'ERR_WORKER_OUT_OF_MEMORY') return 'again';
      if (code === 'ERR_WORKER_OUT_OF_MEMORY') {
        return limit(
          new NodeLimitError(
            'node_memory_exceeded',
            `Node exceeded the ${this.config.engine.threadMemoryMb} MB memory limit`,
          ),
        );
      }
      // The thread died some other way: the raw text may name files; it goes to the debug log only.
      this.logger.debug(
        { err: { name: (error as Error).name, message: (error as Error).message } },
        'engine thread failed',
      );
      return limit(new NodeLimitError('node_crashed', 'The node stopped unexpectedly'));
    } finally {
      clearTimeout(timer!);
      signal.removeEventListener('abort', canceled);
    }
  }

  /** A worker starts its threads (and loads their modules) before it claims the first run. */
  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.roles.has('worker')) return;
    this.listen();
    await Promise.all([this.short.warm(), this.long.warm()]);
  }

  async onApplicationShutdown(): Promise<void> {
    this.output?.close();
    this.output = null;
    await Promise.all([this.short.close(), this.long.close()]);
  }

  /** What the threads print arrives here and goes to the debug log. */
  private listen(): void {
    if (this.output) return;
    this.output = new BroadcastChannel(THREAD_OUTPUT_CHANNEL);
    this.output.unref();
    this.output.onmessage = (message) =>
      this.logger.debug({ output: String((message as MessageEvent).data) }, 'engine thread output');
  }
}

/** Tries of one task on threads that died before it began (each may be another task's timeout). */
const MAX_UNBEGUN_TRIES = 20;

function limit(error: NodeLimitError): { ok: false; error: string } {
  return { ok: false, error: error.message };
}
