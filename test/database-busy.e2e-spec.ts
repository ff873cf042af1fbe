import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import request from 'supertest';
import { createTestApp, TestApp } from './utils/app';
import { actor, Actor, graph, trigger, uniqueName } from './factories/workflow.factory';
import { signupBody } from './factories/user.factory';
import { waitFor } from './utils/wait';

// Another connection holding the write lock is a SQLite situation: PostgreSQL has no database-wide write lock.
const sqliteOnly = process.env.TEST_DATABASE_URL ? describe.skip : describe;
const SUITE = process.env.TEST_DATABASE_URL
  ? 'database busy (sqlite only: skipped on PostgreSQL, which has no database-wide write lock to take)'
  : 'database busy (sqlite only)';

/** A second connection to the app's database file, as the sqlite3 shell or a tool would open it. */
class Locker {
  // No busy wait of its own: it runs in the app's process and would block the app's event loop.
  private readonly db: Database.Database;

  constructor(file: string) {
    this.db = new Database(file, { timeout: 0 });
  }

  /** Takes the write lock (polling: the app may hold it for a moment). */
  async lock(): Promise<void> {
    await waitFor(() => {
      try {
        this.db.exec('BEGIN IMMEDIATE');
        return true;
      } catch (error) {
        if ((error as { code?: string }).code?.startsWith('SQLITE_BUSY')) return false;
        throw error;
      }
    }, 'the write lock');
  }

  release(): void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
  }

  close(): void {
    this.release();
    this.db.close();
  }
}

async function fileBackedApp(env: Record<string, string>): Promise<{ t: TestApp; locker: Locker; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runloom-busy-'));
  const file = path.join(dir, 'runloom.sqlite');
  const t = await createTestApp({ DATABASE_URL: `sqlite:${file}`, ...env });
  return { t, locker: new Locker(file), dir };
}

const BUSY = { success: false, status: 'error', message: expect.any(String), code: 'database_busy' };

sqliteOnly(SUITE, () => {
  describe('a write refused for the whole wait', () => {
    let t: TestApp;
    let locker: Locker;
    let dir: string;
    let owner: Actor;
    let workflowId: string;

    beforeAll(async () => {
      ({ t, locker, dir } = await fileBackedApp({ DB_BUSY_TIMEOUT_MS: '300' }));
      owner = await actor(t.url);
      const res = await request(t.url)
        .post('/api/workflows')
        .set(owner.auth)
        .send({ name: uniqueName(), data: graph([trigger()]) })
        .expect(201);
      workflowId = res.body.workflow.id;
    });
    afterAll(async () => {
      locker.close();
      await t.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('answers 503 database_busy with Retry-After on every kind of write, /readyz says busy, reads and /healthz go on; after the lock goes, the same writes succeed and nothing refused was written', async () => {
      const account = signupBody();
      const workflowName = uniqueName();
      await locker.lock();
      try {
        // Signup and workflow create: TypeORM transactions. Starting a run: the grouped raw writes.
        const signup = await request(t.url).post('/api/auth/signup').send(account);
        const created = await request(t.url)
          .post('/api/workflows')
          .set(owner.auth)
          .send({ name: workflowName, data: graph([trigger()]) });
        const started = await request(t.url).post(`/api/workflows/${workflowId}/run`).set(owner.auth).send({});
        for (const res of [signup, created, started]) {
          expect({ status: res.status, body: res.body }).toEqual({ status: 503, body: BUSY });
          expect(res.headers['retry-after']).toBe('1');
        }

        const ready = await request(t.url).get('/readyz').expect(503);
        expect(ready.body).toEqual({
          success: false,
          status: 'error',
          message: 'Database busy: writes are refused',
          code: 'service_unavailable',
          checks: { database: 'busy', worker: 'up' },
        });
        await request(t.url).get('/healthz').expect(200);
        // Reads do not need the write lock (WAL).
        await request(t.url).get(`/api/workflows/${workflowId}`).set(owner.auth).expect(200);
      } finally {
        locker.release();
      }

      // Nothing refused was written: no account, no second workflow, no run.
      await request(t.url)
        .post('/api/auth/login')
        .send({ email: account.email, password: account.password })
        .expect(401);
      const listed = await request(t.url).get('/api/workflows').set(owner.auth).expect(200);
      expect(JSON.stringify(listed.body)).not.toContain(workflowName);
      const runs = await request(t.url).get(`/api/workflows/${workflowId}/runs`).set(owner.auth).expect(200);
      expect(runs.body.runs).toEqual([]);

      await request(t.url).post('/api/auth/signup').send(account).expect(201);
      await request(t.url)
        .post('/api/workflows')
        .set(owner.auth)
        .send({ name: workflowName, data: graph([trigger()]) })
        .expect(201);
      await request(t.url).post(`/api/workflows/${workflowId}/run`).set(owner.auth).send({}).expect(202);
      const ready = await request(t.url).get('/readyz').expect(200);
      expect(ready.body).toEqual({ status: 'ok', checks: { database: 'up', worker: 'up' } });
    });
  });

  describe('a write waiting for the lock', () => {
    let t: TestApp;
    let locker: Locker;
    let dir: string;

    beforeAll(async () => {
      // A wait far longer than the test: the write can only end by the lock going away. API role
      // only, so that the write under test is the only one waiting.
      ({ t, locker, dir } = await fileBackedApp({ DB_BUSY_TIMEOUT_MS: '60000', RUNLOOM_ROLES: 'api' }));
    });
    afterAll(async () => {
      locker.close();
      await t.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('leaves the event loop serving: /healthz answers again and again while it waits, and it goes through once the lock is released', async () => {
      const account = signupBody();
      await locker.lock();
      let answered = false;
      let pending: Promise<request.Response>;
      try {
        pending = request(t.url)
          .post('/api/auth/signup')
          .send(account)
          .then((res) => {
            answered = true;
            return res;
          });
        await waitFor(
          () => t.logs.some((line) => line.includes('database busy: another connection holds the SQLite write lock')),
          'the signup to wait for the lock',
        );
        // A synchronous busy wait would hold every other request until the write was answered.
        for (let i = 0; i < 20; i++) await request(t.url).get('/healthz').expect(200);
        const ready = await request(t.url).get('/readyz').expect(503);
        expect(ready.body.checks).toEqual({ database: 'busy' });
        expect(answered).toBe(false);
      } finally {
        locker.release();
      }
      expect((await pending).status).toBe(201);
      await request(t.url)
        .post('/api/auth/login')
        .send({ email: account.email, password: account.password })
        .expect(200);
      await request(t.url).get('/readyz').expect(200);
      expect(t.logs.some((line) => line.includes('database writes go through again'))).toBe(true);
    });
  });
});
