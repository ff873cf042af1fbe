import { Injectable } from '@nestjs/common';
import {
  DataSource,
  EntityManager,
  EntityTarget,
  ObjectLiteral,
  QueryDeepPartialEntity,
  SelectQueryBuilder,
} from 'typeorm';

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
