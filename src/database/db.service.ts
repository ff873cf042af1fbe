import { Injectable, Logger } from '@nestjs/common';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { performance } from 'node:perf_hooks';
import type { Pool } from 'pg';
import {
  DataSource,
  EntityManager,
  EntityTarget,
  ObjectLiteral,
  QueryDeepPartialEntity,
  SelectQueryBuilder,
} from 'typeorm';
import { DatabaseBusyError } from '../common/errors/app-error';
import { isDatabaseBusy } from '../common/errors/envelope';
import { AppConfig } from '../config/app-config';
import { EntityCodec, PostgresRunner, sql, Sql, SqlResult, SqlRunner, SqliteRunner } from './sql';

/** Between attempts at a busy SQLite write lock: doubling from the first delay up to the cap. */
const BUSY_RETRY_FIRST_MS = 5;
const BUSY_RETRY_MAX_MS = 100;
/** About how long one SQLite group commit may hold the event loop (see `commitWrites`). */
const GROUP_COMMIT_BUDGET_MS = 10;

/**
 * Writes and transactions. TypeORM shares one connection for SQLite, so two interleaved async
 * transactions would nest as savepoints and a stray write could be rolled back with someone
 * else's transaction: on SQLite every write path is serialised here (SQLite has one writer
 * anyway). PostgreSQL uses the pool as usual. Do not nest calls: the SQLite lock is not reentrant.
 *
 * When another connection holds the SQLite write lock, each attempt gives up after SQLite's short
 * synchronous wait and the next one comes on a timer, so the event loop keeps serving; a write
 * still refused DB_BUSY_TIMEOUT_MS after it was asked for fails with `DatabaseBusyError` (503).
 */
@Injectable()
export class Db {
  private readonly logger = new Logger('Db');
  private tail: Promise<unknown> = Promise.resolve();
  private commitScheduled = false;
  /** SQLite writes waiting for this turn's group commit (`since`: when asked, for the busy deadline). */
  private writeBatch: {
    op: (sqlite: SqliteRunner) => unknown;
    savepoint: boolean;
    since: number;
    resolve: (value: unknown) => void;
    reject: (error: unknown) => void;
  }[] = [];
  /** Since when writes have been refused for a lock held elsewhere; null while they go through. */
  private busySince: number | null = null;
  private readonly busyTimeoutMs: number;
  private sqlite: SqliteRunner | null = null;
  private pool: PostgresRunner | null = null;
  private readonly codecs = new Map<EntityTarget<ObjectLiteral>, EntityCodec<ObjectLiteral>>();
  private readonly selects = new Map<string, Sql>();

  constructor(
    readonly dataSource: DataSource,
    config: AppConfig,
  ) {
    this.busyTimeoutMs = config.database.type === 'sqlite' ? config.database.busyTimeoutMs : 0;
  }

  /** Row mapping for raw statements, from the entity's TypeORM metadata. */
  codec<T extends ObjectLiteral>(entity: EntityTarget<T>): EntityCodec<T> {
    let codec = this.codecs.get(entity);
    if (!codec) {
      codec = new EntityCodec(this.dataSource, entity);
      this.codecs.set(entity, codec);
    }
    return codec as EntityCodec<T>;
  }

  /**
   * Entities of `entity`'s table matching `where` (SQL with `?`, a constant per call site);
   * `postgresWhere` where PostgreSQL needs other SQL (arrays: `= ANY(?)` for SQLite's `json_each`).
   */
  async select<T extends ObjectLiteral>(
    entity: EntityTarget<T>,
    where: string,
    params: unknown[],
    postgresWhere?: string,
  ): Promise<T[]> {
    const codec = this.codec(entity);
    const key = `${codec.table}|${where}`;
    let statement = this.selects.get(key);
    if (!statement) {
      const select = `SELECT ${codec.selectList} FROM ${codec.table} WHERE `;
      statement = sql(select + where, select + (postgresWhere ?? where));
      this.selects.set(key, statement);
    }
    const { rows } = await this.read(statement, params);
    return rows.map((row) => codec.fromRow(row));
  }

  /** A list parameter for `IN (SELECT value FROM json_each(?))` (SQLite) or `= ANY(?)` (PostgreSQL). */
  list(values: unknown[]): unknown {
    return this.dialect === 'postgres' ? values : JSON.stringify(values);
  }

  async selectOne<T extends ObjectLiteral>(
    entity: EntityTarget<T>,
    where: string,
    params: unknown[],
  ): Promise<T | null> {
    const [first] = await this.select(entity, where, params);
    return first ?? null;
  }

  /** A read, without the writer lock (SQLite reads share the one connection, as TypeORM's do). */
  read<R = Record<string, unknown>>(statement: Sql, params: unknown[] = []): Promise<SqlResult<R>> {
    return this.runner().query<R>(statement, params);
  }

  /** One write statement (SQLite: grouped with the other writes of this turn, see `grouped`). */
  exec<R = Record<string, unknown>>(statement: Sql, params: unknown[] = []): Promise<SqlResult<R>> {
    if (this.dialect === 'postgres') return this.runner().query<R>(statement, params);
    return this.grouped((sqlite) => sqlite.querySync<R>(statement, params), false);
  }

  /**
   * Raw statements in one transaction. SQLite: a savepoint in the grouped write transaction.
   * PostgreSQL: one pooled client from BEGIN to COMMIT.
   */
  async atomic<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T> {
    if (this.dialect === 'sqlite') return this.grouped(fn, true);
    const client = await (this.dataSource.driver as unknown as { master: Pool }).master.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(new PostgresRunner(client));
      await client.query('COMMIT');
      client.release();
      return result;
    } catch (error) {
      await client.query('ROLLBACK').then(
        () => client.release(),
        (rollbackError: Error) => client.release(rollbackError),
      );
      throw error;
    }
  }

  /**
   * SQLite group commit: the raw writes requested during one turn of the event loop (every
   * request and run step in flight) run in one transaction, in order, in the writer queue, and
   * each caller learns its result only once that transaction committed. One WAL commit per turn
   * instead of one per statement (three per webhook trigger, five per run). A failing statement
   * is backed out alone (SQLite's default ABORT); a multi-statement unit gets a savepoint.
   */
  private grouped<T>(op: (sqlite: SqliteRunner) => T | Promise<T>, savepoint: boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.writeBatch.push({
        op,
        savepoint,
        since: performance.now(),
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      this.scheduleCommit();
    });
  }

  private scheduleCommit(): void {
    if (this.commitScheduled) return;
    this.commitScheduled = true;
    setImmediate(() => {
      this.commitScheduled = false;
      void this.exclusive(() => this.commitWrites());
    });
  }

  /**
   * One group commit holds the event loop for about GROUP_COMMIT_BUDGET_MS at most: the writes it
   * has not reached by then go into the next turn's commit (in order), with requests served in between.
   */
  private async commitWrites(): Promise<void> {
    const started = performance.now();
    let batch = this.writeBatch;
    this.writeBatch = [];
    if (!batch.length) return;
    const db = this.sqliteDatabase();
    const sqlite = this.sqliteRunner();
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      // The lock first, so a busy database costs no work; the batch's oldest write sets the deadline.
      await this.whileBusy(batch[0].since, () => db.exec('BEGIN IMMEDIATE'));
      for (const write of batch) {
        if (outcomes.length && performance.now() - started >= GROUP_COMMIT_BUDGET_MS) break;
        if (write.savepoint) db.exec('SAVEPOINT unit');
        try {
          const value = await write.op(sqlite);
          if (write.savepoint) db.exec('RELEASE unit');
          outcomes.push({ ok: true, value });
        } catch (error) {
          // Some errors (I/O, disk full) end the whole transaction: then nothing here was written.
          if (!db.inTransaction) throw error;
          if (write.savepoint) db.exec('ROLLBACK TO unit; RELEASE unit');
          outcomes.push({ ok: false, value: error });
        }
      }
      db.exec('COMMIT');
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      for (const write of batch) write.reject(error);
      return;
    }
    if (outcomes.length < batch.length) {
      this.writeBatch = batch.slice(outcomes.length).concat(this.writeBatch);
      batch = batch.slice(0, outcomes.length);
      this.scheduleCommit();
    }
    batch.forEach((write, i) => (outcomes[i].ok ? write.resolve(outcomes[i].value) : write.reject(outcomes[i].value)));
  }

  private runner(): SqlRunner {
    if (this.dialect === 'sqlite') return this.sqliteRunner();
    return (this.pool ??= new PostgresRunner((this.dataSource.driver as unknown as { master: Pool }).master));
  }

  private sqliteRunner(): SqliteRunner {
    return (this.sqlite ??= new SqliteRunner(this.sqliteDatabase()));
  }

  private sqliteDatabase(): SqliteDatabase {
    return (this.dataSource.driver as unknown as { databaseConnection: SqliteDatabase }).databaseConnection;
  }

  get dialect(): 'sqlite' | 'postgres' {
    return this.dataSource.options.type === 'postgres' ? 'postgres' : 'sqlite';
  }

  get manager(): EntityManager {
    return this.dataSource.manager;
  }

  /** SQLite: run again from the start while the lock is busy (a refusal rolled back what `fn` did). */
  transaction<T>(fn: (em: EntityManager) => Promise<T>): Promise<T> {
    if (this.dialect === 'postgres') return this.dataSource.transaction(fn);
    const since = performance.now();
    return this.exclusive(() => this.whileBusy(since, () => this.dataSource.transaction(fn)));
  }

  /**
   * A single write (or a few that need no atomicity). PostgreSQL: outside any transaction, holding
   * no client. SQLite: in a transaction all the same, so that a busy lock leaves nothing half done
   * and `fn` can be run again.
   */
  write<T>(fn: (em: EntityManager) => Promise<T>): Promise<T> {
    if (this.dialect === 'postgres') return fn(this.dataSource.manager);
    return this.transaction(fn);
  }

  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }

  /**
   * Readiness: could a write take the SQLite write lock now? One attempt, so at most SQLite's short
   * wait. PostgreSQL has no database-wide write lock: true.
   */
  writable(): boolean {
    if (this.dialect === 'postgres') return true;
    const db = this.sqliteDatabase();
    // A transaction of ours is open: this connection has the lock or is about to ask for it itself.
    if (db.inTransaction) return true;
    try {
      db.exec('BEGIN IMMEDIATE');
      db.exec('ROLLBACK');
      return true;
    } catch (error) {
      if (isDatabaseBusy(error)) return false;
      throw error;
    }
  }

  /**
   * Runs `attempt` until SQLite stops refusing it for a lock held elsewhere, waiting between
   * attempts on timers; past `since` + DB_BUSY_TIMEOUT_MS it gives up with `DatabaseBusyError`.
   * An attempt must leave nothing behind when refused (a BEGIN that failed, a rolled-back transaction).
   */
  private async whileBusy<T>(since: number, attempt: () => T | Promise<T>): Promise<T> {
    const deadline = since + this.busyTimeoutMs;
    let delay = BUSY_RETRY_FIRST_MS;
    // Known busy: yield before trying, so writes queued behind a refused one do not each block
    // the loop back to back; those already past their deadline answer at once.
    if (this.busySince !== null) {
      if (performance.now() >= deadline) throw this.busyError();
      await sleep(Math.min(delay, deadline - performance.now()));
    }
    for (;;) {
      try {
        const result = await attempt();
        if (this.busySince !== null) {
          this.logger.log(
            { busyMs: Math.round(performance.now() - this.busySince) },
            'database writes go through again',
          );
          this.busySince = null;
        }
        return result;
      } catch (error) {
        if (!isDatabaseBusy(error)) throw error;
        if (this.busySince === null) {
          this.busySince = performance.now();
          this.logger.warn(
            { waitMs: this.busyTimeoutMs },
            'database busy: another connection holds the SQLite write lock; writes wait for it',
          );
        }
        const left = deadline - performance.now();
        if (left <= 0) throw this.busyError();
        await sleep(Math.min(delay, left));
        delay = Math.min(delay * 2, BUSY_RETRY_MAX_MS);
      }
    }
  }

  private busyError(): DatabaseBusyError {
    // As long again as this write waited: the holder of the lock is not letting go quickly.
    return new DatabaseBusyError(Math.max(1, Math.ceil(this.busyTimeoutMs / 1000)));
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Rows per delete when pruning: small enough that one chunk is a short write. */
export const PURGE_CHUNK = 500;

/**
 * Deletes the rows `where` selects, `chunk` at a time, each chunk its own write with a turn of
 * the event loop between them, so pruning a large backlog never holds the SQLite writer or
 * PostgreSQL row locks for long. Returns how many rows went.
 */
export async function deleteInChunks<T extends ObjectLiteral>(
  db: Db,
  entity: EntityTarget<T>,
  chunk: number,
  where: (qb: SelectQueryBuilder<T>) => SelectQueryBuilder<T>,
): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await db.write(async (em) => {
      const repo = em.getRepository(entity);
      const rows = await where(repo.createQueryBuilder('t').select('t.id', 'id'))
        .limit(chunk)
        .getRawMany<{ id: string }>();
      if (!rows.length) return 0;
      await repo.delete(rows.map((r) => r.id));
      return rows.length;
    });
    total += deleted;
    if (deleted < chunk) return total;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Unique-constraint violation on either dialect. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; driverError?: { code?: string } };
  const code = e?.driverError?.code ?? e?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/**
 * TypeORM's deep-partial types reject JSON-typed fields (`unknown`, `Record<string, unknown>`);
 * rows built from complete values are passed through this instead of scattered casts.
 */
export function asRow<T>(values: Partial<T> | Partial<T>[]): QueryDeepPartialEntity<T> & QueryDeepPartialEntity<T>[] {
  return values as QueryDeepPartialEntity<T> & QueryDeepPartialEntity<T>[];
}
