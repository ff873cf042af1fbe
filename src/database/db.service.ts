import { Injectable } from '@nestjs/common';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import type { Pool } from 'pg';
import {
  DataSource,
  EntityManager,
  EntityTarget,
  ObjectLiteral,
  QueryDeepPartialEntity,
  SelectQueryBuilder,
} from 'typeorm';
import { EntityCodec, PostgresRunner, sql, Sql, SqlResult, SqlRunner, SqliteRunner } from './sql';

/**
 * Writes and transactions. TypeORM shares one connection for SQLite, so two interleaved async
 * transactions would nest as savepoints and a stray write could be rolled back with someone
 * else's transaction: on SQLite every write path is serialised here (SQLite has one writer
 * anyway). PostgreSQL uses the pool as usual. Do not nest calls: the SQLite lock is not reentrant.
 */
@Injectable()
export class Db {
  private tail: Promise<unknown> = Promise.resolve();
  /** SQLite writes waiting for this turn's group commit. */
  private writeBatch: {
    op: (sqlite: SqliteRunner) => unknown;
    savepoint: boolean;
    resolve: (value: unknown) => void;
    reject: (error: unknown) => void;
  }[] = [];
  private sqlite: SqliteRunner | null = null;
  private pool: PostgresRunner | null = null;
  private readonly codecs = new Map<EntityTarget<ObjectLiteral>, EntityCodec<ObjectLiteral>>();
  private readonly selects = new Map<string, Sql>();

  constructor(readonly dataSource: DataSource) {}

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
      this.writeBatch.push({ op, savepoint, resolve: resolve as (value: unknown) => void, reject });
      if (this.writeBatch.length === 1) setImmediate(() => void this.exclusive(() => this.commitWrites()));
    });
  }

  private async commitWrites(): Promise<void> {
    const batch = this.writeBatch;
    this.writeBatch = [];
    const db = this.sqliteDatabase();
    const sqlite = this.sqliteRunner();
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      db.exec('BEGIN IMMEDIATE');
      for (const write of batch) {
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

  transaction<T>(fn: (em: EntityManager) => Promise<T>): Promise<T> {
    if (this.dialect === 'postgres') return this.dataSource.transaction(fn);
    return this.exclusive(() => this.dataSource.transaction(fn));
  }

  /** A single write (or a few that need no atomicity) outside any transaction. */
  write<T>(fn: (em: EntityManager) => Promise<T>): Promise<T> {
    if (this.dialect === 'postgres') return fn(this.dataSource.manager);
    return this.exclusive(() => fn(this.dataSource.manager));
  }

  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }
}

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
