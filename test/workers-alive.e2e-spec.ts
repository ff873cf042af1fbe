import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import request from 'supertest';
import { WorkerRepository } from '../src/database/repositories/worker.repository';
import { WorkerEntity } from '../src/database/entities/worker.entity';
import { Db } from '../src/database/db.service';
import { createTestApp, TestApp } from './utils/app';
import { AppProcess, startWorker } from './utils/processes';
import { waitFor } from './utils/wait';

jest.setTimeout(120_000);

// Heartbeats every 200 ms: a worker counts as alive for 5 of them (1 s) after its last one.
const HEARTBEAT = { WORKER_HEARTBEAT_INTERVAL_MS: '200' };

/** One sample of the Prometheus text; undefined when absent. */
function sample(text: string, name: string): number | undefined {
  const line = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return line ? Number(line[1]) : undefined;
}

// Worker processes share the api's database: PostgreSQL when TEST_DATABASE_URL is set, else a SQLite file.
describe('an api-only process reports the worker processes alive', () => {
  let t: TestApp;
  let dir: string;
  let databaseUrl: string;
  const workers: AppProcess[] = [];
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runloom-workers-'));
    const sqliteFile = process.env.TEST_DATABASE_URL ? null : `sqlite:${path.join(dir, 'shared.sqlite')}`;
    t = await createTestApp({
      RUNLOOM_ROLES: 'api',
      ...HEARTBEAT,
      ...(sqliteFile ? { DATABASE_URL: sqliteFile } : {}),
    });
    databaseUrl = sqliteFile ?? t.databaseUrl;
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill('SIGKILL')));
    await t.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const readyz = async () => (await request(t.url).get('/readyz').expect(200)).body as Record<string, unknown>;
  const gauge = async () => sample((await request(t.url).get('/metrics').expect(200)).text, 'runloom_workers_alive');

  it('with no worker it stays ready and says so: workers_alive 0', async () => {
    expect(await readyz()).toEqual({ status: 'ok', checks: { database: 'up' }, workers_alive: 0 });
    expect(await gauge()).toBe(0);
  });

  it('a worker process heartbeats into the database; a graceful stop removes it at once', async () => {
    const worker = await startWorker(databaseUrl, HEARTBEAT);
    workers.push(worker);
    await waitFor(async () => (await readyz()).workers_alive === 1, 'the worker to be seen');
    await waitFor(async () => (await gauge()) === 1, 'the gauge to count the worker');
    const rows = await t.app.get(Db).manager.getRepository(WorkerEntity).find();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ pid: worker.child.pid, roles: 'worker', host: os.hostname() });
    expect(rows[0].lastSeenAt.getTime()).toBeGreaterThanOrEqual(rows[0].startedAt.getTime());

    await worker.kill('SIGTERM');
    expect(await t.app.get(Db).manager.getRepository(WorkerEntity).count()).toBe(0);
    expect((await readyz()).workers_alive).toBe(0);
  });

  it('a killed worker stops counting once its heartbeat is stale, and stale rows are pruned', async () => {
    const worker = await startWorker(databaseUrl, HEARTBEAT);
    workers.push(worker);
    await waitFor(async () => (await readyz()).workers_alive === 1, 'the worker to be seen');
    await worker.kill('SIGKILL');
    // Its row stays behind but no longer counts.
    await waitFor(async () => (await readyz()).workers_alive === 0, 'the killed worker to go stale');
    expect(await gauge()).toBe(0);
    const repo = t.app.get(Db).manager.getRepository(WorkerEntity);
    expect(await repo.count()).toBe(1);

    // The next heartbeat of any process deletes rows unseen for ten minutes.
    const [stale] = await repo.find();
    const later = new Date(stale.lastSeenAt.getTime() + 11 * 60_000);
    const fresh = { id: 'fresh', host: 'h', pid: 1, roles: 'worker', startedAt: later };
    await t.app.get(WorkerRepository).beat(fresh, later);
    expect((await repo.find()).map((r) => r.id)).toEqual(['fresh']);
  });
});
