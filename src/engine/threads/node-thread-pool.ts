import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import * as path from 'node:path';
import { BroadcastChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { AppConfig } from '../../config/app-config';
import { NodeLimitError } from '../node-limits';
import type { PureNodeReply, PureNodeTask } from './pure-node-task';
import { executePureNode } from './pure-node-task';
import { THREAD_OUTPUT_CHANNEL } from './thread-output';

/** Runs pure nodes somewhere; the engine asks one of these. */
export abstract class PureNodeRunner {
  /**
   * Executes `task` within `budgetMs` of wall time (counted from when it starts, not while it
   * waits for a thread). Rejects with an AbortError when `signal` aborts (cancel, shutdown).
   */
  abstract run(task: PureNodeTask, budgetMs: number, signal: AbortSignal, tenant: string): Promise<PureNodeReply>;
}

/** In the calling thread, without limits: for the engine's own tests. */
export class InlinePureNodeRunner extends PureNodeRunner {
  run(task: PureNodeTask): Promise<PureNodeReply> {
    return executePureNode(task);
  }
}

interface Waiter {
  start: () => void;
}

/**
 * The engine's worker threads (DESIGN §4): untrusted computation (code snippets, templates and
 * patterns over payloads) runs here, never on the event loop that serves HTTP, SSE, leases and the
 * scheduler. One task per thread; a task past its budget, or one whose run is canceled, has its
 * thread terminated and replaced (piscina does both on abort). Tasks wait for a free thread in a
 * round-robin over tenants, so one workspace's backlog cannot queue ahead of another's nodes, and
 * their budget starts only once they hold a thread.
 */
@Injectable()
export class NodeThreadPool extends PureNodeRunner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(NodeThreadPool.name);
  private pool: Piscina<PureNodeTask, PureNodeReply> | null = null;
  private output: BroadcastChannel | null = null;
  private busy = 0;
  /** Waiting tasks by tenant; Map order is the round-robin order. */
  private readonly waiting = new Map<string, Waiter[]>();

  constructor(private readonly config: AppConfig) {
    super();
  }

  get size(): number {
    return this.config.engine.threads;
  }

  async run(task: PureNodeTask, budgetMs: number, signal: AbortSignal, tenant: string): Promise<PureNodeReply> {
    await this.acquire(tenant, signal);
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), budgetMs);
    try {
      return await this.threads().run(task, { signal: AbortSignal.any([signal, timeout.signal]) });
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
      this.release();
    }
  }

  /** A worker starts its threads (and loads their modules) before it claims the first run. */
  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.roles.has('worker')) return;
    const pool = this.threads();
    const idle: PureNodeTask = {
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

  private threads(): Piscina<PureNodeTask, PureNodeReply> {
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

  private acquire(tenant: string, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    if (this.busy < this.size) {
      this.busy += 1;
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
        start: () => {
          signal.removeEventListener('abort', aborted);
          resolve();
        },
      };
      queue.push(waiter);
      this.waiting.set(tenant, queue);
      signal.addEventListener('abort', aborted, { once: true });
    });
  }

  /** Hands the thread to the next tenant in turn (then moves that tenant to the back). */
  private release(): void {
    for (const [tenant, queue] of this.waiting) {
      const next = queue.shift();
      this.waiting.delete(tenant);
      if (queue.length) this.waiting.set(tenant, queue);
      if (next) return next.start();
    }
    this.busy -= 1;
  }
}

function limit(error: NodeLimitError): PureNodeReply {
  return { ok: false, error: error.message };
}
