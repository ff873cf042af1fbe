import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataSourceOptions } from 'typeorm';
import { DatabaseConfig } from '../config/app-config';
import { ENTITIES } from './entities';
import { POSTGRES_MIGRATIONS } from './migrations/postgres';
import { SQLITE_MIGRATIONS } from './migrations/sqlite';

/** SQLite's own (synchronous) wait for a lock held by another connection, per attempt. */
export const SQLITE_LOCK_WAIT_MS = 10;

/** The one place that turns configuration into TypeORM options; used by the app, the CLI and tests. */
export function dataSourceOptions(
  config: DatabaseConfig,
  overrides: Partial<DataSourceOptions> = {},
): DataSourceOptions {
  if (config.type === 'postgres') {
    return {
      type: 'postgres',
      url: config.url,
      entities: ENTITIES,
      migrations: POSTGRES_MIGRATIONS,
      migrationsRun: config.migrationsRun,
      migrationsTransactionMode: 'each',
      synchronize: false,
      extra: { max: config.poolSize },
      ...overrides,
    } as DataSourceOptions;
  }
  if (config.path !== ':memory:') fs.mkdirSync(path.dirname(config.path), { recursive: true });
  return {
    type: 'better-sqlite3',
    database: config.path,
    entities: ENTITIES,
    migrations: SQLITE_MIGRATIONS,
    migrationsRun: config.migrationsRun,
    migrationsTransactionMode: 'each',
    synchronize: false,
    // SQLite's busy wait blocks the event loop (better-sqlite3 is synchronous): kept short, and
    // the Db waits out the rest on timers (DB_BUSY_TIMEOUT_MS).
    timeout: SQLITE_LOCK_WAIT_MS,
    // WAL lets readers proceed while the single writer commits; NORMAL is durable across app crashes.
    prepareDatabase: (db: { pragma(source: string): unknown }) => {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
    },
    ...overrides,
  } as DataSourceOptions;
}
