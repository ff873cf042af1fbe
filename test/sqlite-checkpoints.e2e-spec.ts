import type { Database as SqliteDatabase } from 'better-sqlite3';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { SqliteCheckpointer } from '../src/database/sqlite-checkpointer';
import { createTestApp, TestApp } from './utils/app';
import { waitFor } from './utils/wait';

const postgres = !!process.env.TEST_DATABASE_URL;

describe(`checkpoints of the write-ahead log (${postgres ? 'PostgreSQL: none to move' : 'SQLite'})`, () => {
  let t: TestApp;
  beforeAll(async () => {
    // SQLite: a database file (the tests' default is in memory, which has no write-ahead log).
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'runloom-wal-')), 'runloom.sqlite');
    t = await createTestApp({ RUNLOOM_ROLES: 'api', ...(postgres ? {} : { DATABASE_URL: `sqlite:${file}` }) });
  });
  afterAll(() => t.close());

  it(
    postgres
      ? 'PostgreSQL checkpoints on its own: no thread is started'
      : 'a thread of their own copies the log into the database: commits on the main thread never do',
    async () => {
      const checkpointer = t.app.get(SqliteCheckpointer);
      if (postgres) {
        expect(checkpointer.running).toBe(false);
        return;
      }
      expect(checkpointer.running).toBe(true);
      const connection = (t.app.get(DataSource).driver as unknown as { databaseConnection: SqliteDatabase })
        .databaseConnection;
      expect(connection.pragma('wal_autocheckpoint', { simple: true })).toBe(0);

      // 8 MB in one commit: ~2,000 pages, twice what would have made this commit checkpoint.
      connection.exec('CREATE TABLE checkpoint_probe (body TEXT)');
      const insert = connection.prepare('INSERT INTO checkpoint_probe (body) VALUES (?)');
      connection.transaction(() => {
        for (let i = 0; i < 8; i += 1) insert.run(`${i}`.repeat(1 << 20));
      })();
      const done = await waitFor(() => {
        const last = checkpointer.last;
        return last && last.log >= 2_000 && last.checkpointed === last.log ? last : undefined;
      }, 'the thread to checkpoint the whole log');
      expect(done.busy).toBe(0);
      expect(checkpointer.completed).toBeGreaterThan(0);
      connection.exec('DROP TABLE checkpoint_probe');
    },
  );
});
