import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import request from 'supertest';
import { scratchDatabase } from '../utils/app';
import { AppProcess, startProcess } from '../utils/processes';
import { TargetServer } from '../utils/target-server';
import { waitFor } from '../utils/wait';
import { actor, createWorkflow, graph, trigger, upgrade } from '../factories/workflow.factory';
import { freePort, send } from './reliability-utils';

const dialect = process.env.TEST_DATABASE_URL ? 'PostgreSQL' : 'SQLite';
const LANES = 16;
/** A bound on the load, so a server that never stops fails the test instead of holding it. */
const MAX_ATTEMPTS = 20_000;

jest.setTimeout(240_000);

interface Attempt {
  key: string;
  status: number | string;
  sentBeforeSigterm: boolean;
}

/**
 * Graceful shutdown (issue 10 item 2): an all-in-one process under a steady stream of `POST /run`
 * gets SIGTERM. Every request it took in is answered (none is accepted without an answer: each
 * carries an idempotency key, and a request that failed must have created no run); runs it had
 * claimed are finished or handed back; after a restart every accepted run succeeds — zero lost.
 */
describe(`graceful shutdown under load (${dialect})`, () => {
  let drop: () => Promise<void>;
  let databaseUrl: string;
  let dataDir: string;
  let target: TargetServer;
  const processes: AppProcess[] = [];

  beforeAll(async () => {
    target = await new TargetServer().start();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'runloom-shutdown-'));
    if (process.env.TEST_DATABASE_URL) {
      const db = await scratchDatabase();
      databaseUrl = db.url;
      drop = db.drop;
    } else {
      databaseUrl = `sqlite:${path.join(dataDir, 'runloom.sqlite')}`;
      drop = async () => undefined;
    }
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill('SIGKILL')));
    await target.stop();
    await drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const start = async (env: Record<string, string> = {}) => {
    const port = await freePort();
    const p = await startProcess(
      {
        DATABASE_URL: databaseUrl,
        PORT: String(port),
        HOST: '127.0.0.1',
        RATE_LIMIT_PER_SECOND: '0',
        RUNAWAY_LIMIT_5MIN: '100000',
        WORKER_POLL_INTERVAL_MS: '50',
        ...env,
      },
      /Runloom listening/,
    );
    processes.push(p);
    return { p, port, url: `http://127.0.0.1:${port}` };
  };

  it('answers what it took in, hands back or finishes claimed runs, and loses nothing', async () => {
    const first = await start({ WORKER_SHUTDOWN_GRACE_SECONDS: '1' });
    const owner = await actor(first.url);
    const ws = await upgrade(first.url, owner);
    const call = {
      id: 'call',
      type: 'actionHttp',
      data: { label: 'Call', actionType: 'http', params: { url: `${target.url}/slow/300/{{In.key}}`, method: 'GET' } },
    };
    const wf = await createWorkflow(
      first.url,
      owner,
      graph([trigger('t', { label: 'In' }), call], [['t', 'call']]),
      ws,
    );
    await request(first.url)
      .post(`/api/workflows/${wf.id}/concurrency`)
      .set(owner.auth)
      .send({ limit: 64 })
      .expect(200);

    // Steady load: each lane sends runs back to back over a kept-alive connection until refused.
    const agent = new http.Agent({ keepAlive: true, maxSockets: LANES });
    const attempts: Attempt[] = [];
    let sigtermSent = false;
    let sequence = 0;
    const lane = async () => {
      for (;;) {
        const key = `k-${sequence++}`;
        const sentBeforeSigterm = !sigtermSent;
        const body = Buffer.from(JSON.stringify({ idempotency_key: key, context: { key } }));
        const res = await send(agent, first.port, {
          method: 'POST',
          path: `/api/workflows/${wf.id}/run`,
          headers: { 'content-type': 'application/json', authorization: owner.auth.Authorization },
          body,
        });
        attempts.push({
          key,
          status: res.status === 'no-response' ? (res.detail ?? 'no-response') : res.status,
          sentBeforeSigterm,
        });
        if (typeof res.status !== 'number' || attempts.length >= MAX_ATTEMPTS) return;
      }
    };
    const lanes = Promise.all(Array.from({ length: LANES }, lane));
    await waitFor(() => target.seen.length >= 100, 'runs in flight at the target', 60_000);
    sigtermSent = true;
    first.p.child.kill('SIGTERM');
    await lanes;
    expect(attempts.length).toBeLessThan(MAX_ATTEMPTS);
    // After its shutdown hooks Nest re-raises the signal: a clean stop exits by SIGTERM, not a crash code.
    expect(await first.p.exited).toBe('SIGTERM');
    agent.destroy();

    const answered = attempts.filter((a) => typeof a.status === 'number');
    const failed = attempts.filter((a) => typeof a.status !== 'number');
    expect(answered.filter((a) => (a.status as number) >= 500)).toEqual([]);
    expect(answered.filter((a) => a.status !== 202).map((a) => a.status)).toEqual([]);
    // Requests sent before the signal were all answered.
    expect(failed.filter((a) => a.sentBeforeSigterm)).toEqual([]);

    // Claimed runs were finished or handed back: none was left running under the stopped process.
    // The runs are exactly the answered ones: a refused request created nothing.
    const left = await runStatuses(databaseUrl, wf.id);
    expect(left.filter((r) => r.status === 'running')).toEqual([]);
    expect(left.length).toBe(answered.length);
    // Restarted: each refused request's key, sent again, makes a new run; every run then succeeds.
    const second = await start();
    const byKey = await Promise.all(
      failed.map(
        async (a) =>
          (
            await request(second.url)
              .post(`/api/workflows/${wf.id}/run`)
              .set(owner.auth)
              .send({ idempotency_key: a.key, context: { key: a.key } })
          ).status,
      ),
    );
    expect(byKey.filter((s) => s !== 202)).toEqual([]);
    // Each refused key now made a run of its own (had the refused request created one, the key would have found it).
    await waitFor(
      async () => {
        const list = await runStatuses(databaseUrl, wf.id);
        return list.length === answered.length + failed.length && list.every((r) => r.status === 'succeeded');
      },
      'every accepted run to succeed after the restart',
      120_000,
    );
    console.log(
      `shutdown: ${attempts.length} requests, ${answered.length} accepted (all answered 202), ` +
        `${failed.length} refused after SIGTERM, 0 lost`,
    );
  });
});

/** The workflow's runs, read straight from the database the processes share. */
async function runStatuses(databaseUrl: string, workflowId: string): Promise<{ id: string; status: string }[]> {
  if (databaseUrl.startsWith('postgres')) {
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      return (await client.query('SELECT id, status FROM workflow_runs WHERE workflow_id = $1', [workflowId])).rows;
    } finally {
      await client.end();
    }
  }
  const db = new Database(databaseUrl.slice('sqlite:'.length), { readonly: true });
  try {
    return db.prepare('SELECT id, status FROM workflow_runs WHERE workflow_id = ?').all(workflowId) as {
      id: string;
      status: string;
    }[];
  } finally {
    db.close();
  }
}
