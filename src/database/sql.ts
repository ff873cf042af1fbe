import type { Database as SqliteDatabase, Statement as SqliteStatement } from 'better-sqlite3';
import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';

/**
 * A statement for the hot paths (webhook trigger, claim, node runs): SQL written once with `?`
 * placeholders, prepared once per connection, run without TypeORM's query builder (which was half
 * of the API process's CPU per triggered run, bench/run.ts). Everything else keeps the repository
 * API of TypeORM.
 */
export class Sql {
  /** The PostgreSQL text (`$1`, `$2`…) and its prepared-statement name. */
  readonly postgres: string;
  readonly name: string;

  /** `postgres` is given (with `?` placeholders too) where the dialects need different SQL. */
  constructor(
    readonly sqlite: string,
    postgres = sqlite,
  ) {
    let n = 0;
    this.postgres = postgres.replace(/\?/g, () => `$${++n}`);
    this.name = `rl_${createHash('sha1').update(this.postgres).digest('hex').slice(0, 16)}`;
  }
}

const squash = (text: string) => text.replace(/\s+/g, ' ').trim();

export const sql = (text: string, postgres?: string): Sql => new Sql(squash(text), squash(postgres ?? text));

/** What one executed statement gives back: its rows (with RETURNING or a SELECT) and the rows it changed. */
export interface SqlResult<R> {
  rows: R[];
  changes: number;
}

/** Runs `Sql` statements: on the pool (PostgreSQL) or on the one SQLite connection, synchronously. */
export interface SqlRunner {
  query<R = Record<string, unknown>>(statement: Sql, params?: unknown[]): Promise<SqlResult<R>>;
}

export class SqliteRunner implements SqlRunner {
  private readonly statements = new Map<Sql, SqliteStatement>();

  constructor(private readonly db: SqliteDatabase) {}

  /** Synchronous under the hood: better-sqlite3 answers in the same tick. */
  querySync<R>(statement: Sql, params: unknown[] = []): SqlResult<R> {
    let prepared = this.statements.get(statement);
    if (!prepared) {
      prepared = this.db.prepare(statement.sqlite);
      this.statements.set(statement, prepared);
    }
    if (prepared.reader) {
      const rows = prepared.all(...params) as R[];
      return { rows, changes: rows.length };
    }
    return { rows: [], changes: prepared.run(...params).changes };
  }

  query<R>(statement: Sql, params: unknown[] = []): Promise<SqlResult<R>> {
    try {
      return Promise.resolve(this.querySync<R>(statement, params));
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }
}

export class PostgresRunner implements SqlRunner {
  constructor(private readonly client: Pool | PoolClient) {}

  async query<R>(statement: Sql, params: unknown[] = []): Promise<SqlResult<R>> {
    const result = await this.client.query({ name: statement.name, text: statement.postgres, values: params });
    return { rows: result.rows as R[], changes: result.rowCount ?? 0 };
  }
}

/**
 * PostgreSQL cannot store NUL: not in text (22021), not as `\u0000` in jsonb (22P05); nor a lone
 * surrogate, which JSON.stringify writes as `\ud800` and jsonb refuses. What goes through this codec
 * (runs, node runs, webhook payloads) mostly comes from elsewhere (a response body, an error
 * message), so each is kept as U+FFFD rather than failing the run; API bodies with lone surrogates
 * are refused with a 400 before they get here. In plain text the UTF-8 encoder already turns a lone
 * surrogate into U+FFFD. SQLite stores both as they are.
 */
const LONE_SURROGATE_ESCAPE = /\\u[dD][89a-fA-F][0-9a-fA-F]{2}/;

const storable = (text: string) => text.replace(/\0/g, '\uFFFD').toWellFormed();

function forPostgres(prepared: string, value: unknown, json: boolean): string {
  if (!json) return prepared.includes('\0') ? prepared.replace(/\0/g, '\uFFFD') : prepared;
  if (!prepared.includes('\\u0000') && !LONE_SURROGATE_ESCAPE.test(prepared)) return prepared;
  // Serialised again with every string value and key made storable.
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'string') return storable(v);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const entries = Object.entries(v as Record<string, unknown>);
    return entries.every(([key]) => storable(key) === key)
      ? v
      : Object.fromEntries(entries.map(([key, item]) => [storable(key), item]));
  });
}

/**
 * Entity ⇄ row conversion from TypeORM's own metadata and driver conversions (dates, JSON,
 * booleans per dialect), so raw statements read and write exactly what the repositories do.
 */
export class EntityCodec<T extends ObjectLiteral> {
  private readonly columns: ColumnMetadata[];
  private readonly byProperty: Map<string, ColumnMetadata>;
  private readonly create: () => T;
  /** `"a", "b", …` of every column, for SELECT and RETURNING. */
  readonly selectList: string;
  readonly table: string;
  private readonly postgres: boolean;

  constructor(
    private readonly dataSource: DataSource,
    entity: EntityTarget<T>,
  ) {
    const metadata = dataSource.getMetadata(entity);
    this.columns = metadata.columns;
    this.byProperty = new Map(metadata.columns.map((c) => [c.propertyName, c]));
    this.create = () => metadata.create() as T;
    this.selectList = this.columns.map((c) => `"${c.databaseName}"`).join(', ');
    this.table = `"${metadata.tableName}"`;
    this.postgres = dataSource.options.type === 'postgres';
  }

  /** `alias."a" AS "prefix.a", …`: this entity's columns in a join, read back with `fromRow(row, prefix)`. */
  selectAs(alias: string, prefix: string, except: (keyof T & string)[] = []): string {
    return this.columns
      .filter((c) => !except.includes(c.propertyName as keyof T & string))
      .map((c) => `${alias}."${c.databaseName}" AS "${prefix}.${c.databaseName}"`)
      .join(', ');
  }

  fromRow(row: Record<string, unknown>, prefix?: string): T {
    const entity = this.create() as Record<string, unknown>;
    for (const column of this.columns) {
      const value = row[prefix ? `${prefix}.${column.databaseName}` : column.databaseName];
      entity[column.propertyName] = this.dataSource.driver.prepareHydratedValue(value, column);
    }
    return entity as T;
  }

  /** Like `selectList`, with the given columns read through an expression of their own (named as the column). */
  selectListWith(expressions: Partial<Record<keyof T & string, string>>): string {
    return this.columns
      .map((c) => {
        const expression = expressions[c.propertyName as keyof T & string];
        return expression ? `${expression} AS "${c.databaseName}"` : `"${c.databaseName}"`;
      })
      .join(', ');
  }

  /** One property's value from its database value (the inverse of `param`). */
  value<K extends keyof T & string>(property: K, stored: unknown): T[K] {
    return this.dataSource.driver.prepareHydratedValue(stored, this.column(property)) as T[K];
  }

  /** The database value of one property (a Date as SQLite text, JSON as text…). */
  param<K extends keyof T & string>(property: K, value: T[K]): unknown {
    const column = this.column(property);
    const prepared: unknown = this.dataSource.driver.preparePersistentValue(value, column);
    if (prepared === undefined) return null;
    if (!this.postgres || typeof prepared !== 'string') return prepared;
    return forPostgres(prepared, value, column.type === 'jsonb' || column.type === 'json');
  }

  /** An INSERT of `properties` (`rows` rows), built once by a repository; `values` gives each row's parameters. */
  insertSql(properties: (keyof T & string)[], suffix = '', rows = 1): Sql {
    const columns = properties.map((p) => `"${this.column(p).databaseName}"`).join(', ');
    const row = `(${properties.map(() => '?').join(', ')})`;
    return sql(`INSERT INTO ${this.table} (${columns}) VALUES ${Array(rows).fill(row).join(', ')} ${suffix}`);
  }

  /** A property's column, quoted. */
  columnName(property: keyof T & string): string {
    return `"${this.column(property).databaseName}"`;
  }

  /** One row, written only when `condition` holds (a step of a statement of several writes). */
  insertWhereSql(properties: (keyof T & string)[], condition: string): Sql {
    const columns = properties.map((p) => `"${this.column(p).databaseName}"`).join(', ');
    return sql(
      `INSERT INTO ${this.table} (${columns}) SELECT ${properties.map(() => '?').join(', ')} WHERE ${condition}`,
    );
  }

  values(entity: Partial<T>, properties: (keyof T & string)[]): unknown[] {
    return properties.map((p) => this.param(p, entity[p] as T[typeof p]));
  }

  private column(property: string): ColumnMetadata {
    const column = this.byProperty.get(property);
    if (!column) throw new Error(`No column for ${property}`);
    return column;
  }
}
