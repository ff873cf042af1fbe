import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import * as path from 'node:path';
import { BroadcastChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { AppConfig } from '../../config/app-config';
import { NodeLimitError } from '../node-limits';
import { executeTask, type NodeTask, type SegmentReply, type NodeReply, type ThreadTask } from './thread-tasks';
import { THREAD_OUTPUT_CHANNEL } from './thread-output';

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

/** How long a thread may take to start before a task's budget runs anyway. */
const THREAD_START_GRACE_MS = 30_000;

interface Waiter {
  /** Code snippets may run for seconds; everything else is linear work over bounded input. */
  long: boolean;
  start: () => void;
}

/**
 * The engine's worker threads (DESIGN §4): untrusted computation (code snippets, templates and
 * patterns over payloads) runs here, never on the event loop that serves HTTP, SSE, leases and the
 * scheduler. One task per thread; a task past its budget, or one whose run is canceled, has its
 * thread terminated and replaced (piscina does both on abort). Admission is ours, so a task's
 * budget starts only once it holds a thread:
 * - tasks wait in a round-robin over tenants: one workspace's backlog cannot queue ahead of
 *   another's nodes;
 * - code snippets never take the last free thread (with two or more): a tenant spinning snippets
 *   cannot hold up everyone's conditions, formatters and triggers.
 */
@Injectable()
export class NodeThreadPool extends PureNodeRunner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(NodeThreadPool.name);
  private pool: Piscina<ThreadTask, NodeReply | SegmentReply> | null = null;
  private output: BroadcastChannel | null = null;
  private busy = 0;
  private busyLong = 0;
  /** Waiting tasks by tenant; Map order is the round-robin order. */
  private readonly waiting = new Map<string, Waiter[]>();

  constructor(private readonly config: AppConfig) {
    super();
  }

  get size(): number {
    return this.config.engine.threads;
  }

  private get longCapacity(): number {
    return Math.max(1, this.size - 1);
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
    const long = task.type === 'node' && task.kind === 'code';
    await this.acquire(tenant, long, signal);
    const timeout = new AbortController();
    // The budget runs from when the thread begins the task, not while a replacement thread starts.
    const slots = new Int32Array((task.progress ??= new SharedArrayBuffer(8)));
    let timer: NodeJS.Timeout | undefined;
    const began = Atomics.waitAsync(slots, 1, 0);
    const startBudget = () => {
      if (!timer) timer = setTimeout(() => timeout.abort(), budgetMs);
    };
    if (began.async) void began.value.then(startBudget);
    else startBudget();
    // A thread that never begins (it could not start) is given up on all the same.
    const backstop = setTimeout(startBudget, THREAD_START_GRACE_MS);
    try {
      return { ok: true, value: await this.threads().run(task, { signal: AbortSignal.any([signal, timeout.signal]) }) };
    } catch (error) {
      if (signal.aborted) throw error;
      if (timeout.signal.aborted) {
        return limit(new NodeLimitError('node_timeout', `Node exceeded its ${budgetMs} ms time limit`));
      }
      const code = (error as { code?: unknown }).code;
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
      clearTimeout(timer);
      clearTimeout(backstop);
      Atomics.store(slots, 1, 1);
      Atomics.notify(slots, 1);
      this.busy -= 1;
      if (long) this.busyLong -= 1;
      this.dispatch();
    }
  }

  /** A worker starts its threads (and loads their modules) before it claims the first run. */
  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.roles.has('worker')) return;
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
    await Promise.all(Array.from({ length: this.size }, () => pool.run(idle)));
  }

  async onApplicationShutdown(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    this.output?.close();
    this.output = null;
    await pool?.destroy();
  }

  private threads(): Piscina<ThreadTask, NodeReply | SegmentReply> {
    if (!this.output) {
      this.output = new BroadcastChannel(THREAD_OUTPUT_CHANNEL);
      this.output.unref();
      this.output.onmessage = (message) =>
        this.logger.debug({ output: String((message as MessageEvent).data) }, 'engine thread output');
    }
    // Compiled: the sibling .js file. Under ts-node or jest: the .ts source, compiled in the thread.
    const compiled = __filename.endsWith('.js');
    this.pool ??= new Piscina({
      filename: path.join(__dirname, compiled ? 'node-thread.js' : 'node-thread.ts'),
      execArgv: compiled ? [] : ['--require', 'ts-node/register/transpile-only'],
      minThreads: this.config.roles.has('worker') ? this.size : 0,
      maxThreads: this.size,
      idleTimeout: 60_000,
      concurrentTasksPerWorker: 1,
      resourceLimits: { maxOldGenerationSizeMb: this.config.engine.threadMemoryMb },
    });
    return this.pool;
  }

  private fits(long: boolean): boolean {
    return this.busy < this.size && (!long || this.busyLong < this.longCapacity);
  }

  private take(long: boolean): void {
    this.busy += 1;
    if (long) this.busyLong += 1;
  }

  private acquire(tenant: string, long: boolean, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    if (!this.waiting.size && this.fits(long)) {
      this.take(long);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const queue = this.waiting.get(tenant) ?? [];
      const aborted = () => {
        const at = queue.indexOf(waiter);
        if (at === -1) return;
        queue.splice(at, 1);
        if (!queue.length && this.waiting.get(tenant) === queue) this.waiting.delete(tenant);
        reject(signal.reason as Error);
      };
      const waiter: Waiter = {
        long,
        start: () => {
          signal.removeEventListener('abort', aborted);
          resolve();
        },
      };
      queue.push(waiter);
      this.waiting.set(tenant, queue);
      signal.addEventListener('abort', aborted, { once: true });
      this.dispatch();
    });
  }

  /**
   * Starts waiting tasks while threads are free: each tenant in turn offers its oldest task that
   * fits (a snippet waits while the snippets' share is taken); a tenant served goes to the back.
   */
  private dispatch(): void {
    let progress = true;
    while (progress && this.busy < this.size) {
      progress = false;
      for (const [tenant, queue] of this.waiting) {
        const at = queue.findIndex((w) => this.fits(w.long));
        if (at === -1) continue;
        const [next] = queue.splice(at, 1);
        this.waiting.delete(tenant);
        if (queue.length) this.waiting.set(tenant, queue);
        this.take(next.long);
        next.start();
        progress = true;
        break;
      }
    }
  }
}

function limit(error: NodeLimitError): { ok: false; error: string } {
  return { ok: false, error: error.message };
}
