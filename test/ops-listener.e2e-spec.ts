import request from 'supertest';
import { scratchDatabase } from './utils/app';
import { AppProcess, startProcess } from './utils/processes';
import { waitFor } from './utils/wait';

jest.setTimeout(120_000);

/** The port a child's operations listener reports at boot (it runs with OPS_PORT=0). */
async function opsUrl(p: AppProcess): Promise<string> {
  const match = await waitFor(
    () => /Operations listener on http:\/\/localhost:(\d+)/.exec(p.output()) ?? undefined,
    'the operations listener',
  );
  return `http://127.0.0.1:${match[1]}`;
}

describe('operations listener of processes without the api role', () => {
  const processes: AppProcess[] = [];
  const drops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill('SIGKILL')));
    for (const drop of drops) await drop();
  });

  async function start(roles: string, env: Record<string, string> = {}): Promise<AppProcess> {
    const db = await scratchDatabase();
    drops.push(db.drop);
    const p = await startProcess(
      { RUNLOOM_ROLES: roles, DATABASE_URL: db.url, OPS_PORT: '0', HOST: '127.0.0.1', ...env },
      /Runloom started without HTTP/,
    );
    processes.push(p);
    return p;
  }

  it('a worker-only process answers /healthz, /readyz (with its claim loop) and /metrics on OPS_PORT', async () => {
    const worker = await start('worker', { WORKER_POLL_INTERVAL_MS: '20' });
    const url = await opsUrl(worker);
    expect((await request(url).get('/healthz').expect(200)).body).toEqual({ status: 'ok' });
    const ready = await request(url).get('/readyz').expect(200);
    expect(ready.body).toEqual({ status: 'ok', checks: { database: 'up', worker: 'up' } });
    const metrics = await request(url).get('/metrics').expect(200);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
    expect(metrics.text).toMatch(/^runloom_queue_depth \d+$/m);
    expect(metrics.text).toContain('runloom_runs_finished_total');
    // Anything else is a 4xx in the JSON envelope.
    const missing = await request(url).get('/api/workflows').expect(404);
    expect(missing.body).toMatchObject({ success: false, status: 'error', code: 'not_found' });
    const method = await request(url).post('/healthz').expect(405);
    expect(method.body).toMatchObject({ success: false, code: 'method_not_allowed' });
    // SIGTERM closes the listener with the rest of the process.
    await worker.kill('SIGTERM');
    await expect(request(url).get('/healthz')).rejects.toThrow();
  });

  it('a scheduler-only process answers too, and /metrics honours METRICS_TOKEN', async () => {
    const token = 'ops-metrics-token-0123456789';
    const scheduler = await start('scheduler', { METRICS_TOKEN: token });
    const url = await opsUrl(scheduler);
    await request(url).get('/healthz').expect(200);
    expect((await request(url).get('/readyz').expect(200)).body).toEqual({
      status: 'ok',
      checks: { database: 'up' },
      workers_alive: 0,
    });
    const refused = await request(url).get('/metrics').expect(401);
    expect(refused.body).toMatchObject({ success: false, code: 'unauthorized' });
    await request(url).get('/metrics').set('authorization', `Bearer ${token}`).expect(200);
  });
});
