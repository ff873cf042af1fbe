import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager, QueryDeepPartialEntity } from 'typeorm';

/**
 * Writes and transactions. TypeORM shares one connection for SQLite, so two interleaved async
 * transactions would nest as savepoints and a stray write could be rolled back with someone
 * else's transaction: on SQLite every write path is serialised here (SQLite has one writer
 * anyway). PostgreSQL uses the pool as usual. Do not nest calls: the SQLite lock is not reentrant.
 */
@Injectable()
export class Db {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(readonly dataSource: DataSource) {}

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
