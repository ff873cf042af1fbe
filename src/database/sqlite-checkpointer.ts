import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { once } from 'node:events';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import type { CheckpointResult, CheckpointSettings } from './sqlite-checkpoint-thread';

/** How often the thread checkpoints. */
const CHECKPOINT_EVERY_MS = 500;
/** SQLite's own default: a commit checkpoints once the log holds this many pages. */
const AUTOCHECKPOINT_PAGES = 1000;
const STOP_WAIT_MS = 5_000;

/**
 * SQLite checkpoints off the main thread. By default a commit that finds the write-ahead log past
 * 1,000 pages copies the log into the database and syncs the file, inside that commit: with large
 * writes (megabyte snapshots, thousands of node runs) that was a stall of 100 ms and more on the
 * thread that serves every request. SQLite's documentation suggests this arrangement: automatic
 * checkpoints off, a thread of its own checkpointing (PASSIVE: it never blocks the writer). Should
 * the thread fail, automatic checkpoints come back on.
 */
@Injectable()
export class SqliteCheckpointer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(SqliteCheckpointer.name);
  private thread: Worker | null = null;
  /** Checkpoints that copied the whole log (what the tests and operators look at). */
  completed = 0;
  last: CheckpointResult | null = null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const { database } = this.config;
    if (database.type !== 'sqlite' || database.path === ':memory:') return;
    // Compiled: the sibling .js file. Under ts-node or jest: the .ts source, compiled in the thread.
    const compiled = __filename.endsWith('.js');
    const thread = new Worker(path.join(__dirname, `sqlite-checkpoint-thread.${compiled ? 'js' : 'ts'}`), {
      workerData: { path: database.path, everyMs: CHECKPOINT_EVERY_MS } satisfies CheckpointSettings,
      execArgv: compiled ? [] : ['--require', 'ts-node/register/transpile-only'],
    });
    thread.unref();
    thread.on('message', (message: { type: string; result?: CheckpointResult; message?: string }) => {
      if (message.type === 'checkpoint' && message.result) {
        this.last = message.result;
        if (message.result.busy === 0 && message.result.log === message.result.checkpointed) this.completed += 1;
      } else if (message.type === 'error') {
        this.logger.warn({ err: { message: message.message } }, 'SQLite checkpoint failed; retrying');
      }
    });
    thread.on('error', (error) => {
      this.logger.error(
        { err: { message: error.message } },
        'SQLite checkpoint thread failed; commits checkpoint again',
      );
    });
    thread.on('exit', () => {
      // Not stopped by us: commits checkpoint again.
      if (this.thread !== thread) return;
      this.thread = null;
      this.autocheckpoint(AUTOCHECKPOINT_PAGES);
    });
    this.thread = thread;
    this.autocheckpoint(0);
  }

  async beforeApplicationShutdown(): Promise<void> {
    const thread = this.thread;
    if (!thread) return;
    this.thread = null;
    this.autocheckpoint(AUTOCHECKPOINT_PAGES);
    const exited = once(thread, 'exit');
    thread.postMessage('stop');
    const timer = setTimeout(() => void thread.terminate(), STOP_WAIT_MS);
    await exited.catch(() => undefined);
    clearTimeout(timer);
  }

  get running(): boolean {
    return this.thread !== null;
  }

  private autocheckpoint(pages: number): void {
    const connection = (this.dataSource.driver as unknown as { databaseConnection?: SqliteDatabase })
      .databaseConnection;
    if (connection?.open) connection.pragma(`wal_autocheckpoint = ${pages}`);
  }
}
