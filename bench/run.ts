/**
 * `npm run bench` (issue 9): starts each server itself, seeds it, loads it with autocannon (50
 * connections, everything on 127.0.0.1, bounded in time) and writes bench/results/<timestamp>.json
 * plus the table in docs/benchmarks.md.
 *
 * Targets, interleaved round by round (medians of BENCH_ROUNDS, default 3):
 * - ceilings: a raw node:http handler and a bare NestJS route;
 * - Runloom all-in-one on SQLite (the embedded default) and on PostgreSQL: ingest (HMAC-signed
 *   webhook triggers), end-to-end (webhook → formatter → condition, every run checked to succeed)
 *   and read (GET /api/workflows with 20 workflows);
 * - scale-out on PostgreSQL: one API process and two worker processes, end-to-end;
 * - hostile neighbour (bench/hostile.ts), SQLite and PostgreSQL: /healthz latency, another
 *   workspace's queue→start and duplicate outside calls while one workspace runs untrusted work.
 * - live streams (bench/sse.ts): 10,000 SSE clients on one run (BENCH_SSE_CLIENTS), event latency,
 *   memory per idle connection, then 1,000 connect/disconnect cycles (BENCH_SSE_CYCLES) as a leak check.
 *
 *   npm run bench                       # everything, 10 s per scenario
 *   BENCH_DURATION_S=5 BENCH_ROUNDS=1 npm run bench
 *   BENCH_TARGETS=sqlite BENCH_SCENARIOS=read npm run bench   # subsets (raw,nest,sqlite,postgres,scaleout,sse;
 *                                                             # read,ingest,endToEnd,hostile)
 *   BENCH_SERVER_ROOT=<checkout> npm run bench   # the Runloom servers of another built checkout (a baseline)
 *   BENCH_WORKERS=1 BENCH_TARGETS=scaleout npm run bench   # scale-out with another number of workers
 *
 * Every Runloom scenario also prints its CPU cost per unit of work (bench/cpu.ts): the whole
 * deployment's CPU, PostgreSQL's backends included, per accepted request or completed run.
 */
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { ChildProcess, spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { format } from 'prettier';
import { cpuBetween, CpuReading, perUnit, readCpu } from './cpu';
import { hostileNeighbour, HostileResult } from './hostile';
import { sseScenario, SseSummary } from './sse';
import { api, signUpAndLogIn } from './http';

const ROOT = path.join(__dirname, '..');
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = 50;
const PG_ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const TARGETS = new Set(
  (process.env.BENCH_TARGETS ?? 'raw,nest,sqlite,postgres,scaleout,sse').split(',').map((t) => t.trim()),
);
/** Scenarios to run on the Runloom targets (BENCH_SCENARIOS=read,ingest,endToEnd). */
const SCENARIOS = new Set(
  (process.env.BENCH_SCENARIOS ?? 'read,ingest,endToEnd,endToEndNotified,hostile').split(',').map((s) => s.trim()),
);
/** The SSE scenario (bench/sse.ts): clients on one run, then connect/disconnect cycles (the leak check). */
const SSE_CLIENTS = Number(process.env.BENCH_SSE_CLIENTS ?? 10_000);
const SSE_CYCLES = Number(process.env.BENCH_SSE_CYCLES ?? 1_000);
/** Where the Runloom servers are started from (its dist/ must be built). */
const SERVER_ROOT = path.resolve(process.env.BENCH_SERVER_ROOT ?? ROOT);
/**
 * Only a full run (every target and scenario, this checkout's servers) is the record: it writes
 * bench/results and docs/benchmarks.md. A narrowed run or an A/B against another checkout writes its
 * results to the temporary directory and leaves the docs alone.
 */
const FULL_RUN = !process.env.BENCH_TARGETS && !process.env.BENCH_SCENARIOS && SERVER_ROOT === ROOT;
const RESULTS_DIR = FULL_RUN ? path.join(ROOT, 'bench', 'results') : path.join(os.tmpdir(), 'runloom-bench-results');
/** Workers of the scale-out deployment (its label in the tables). */
const SCALEOUT_WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
/** Longest wait for the runs accepted during an end-to-end scenario to finish. */
const DRAIN_MS = 120_000;

interface Load {
  requestsPerSec: number;
  p50: number;
  p99: number;
  accepted: number;
  non2xx: number;
  errors: number;
}
/** CPU of the whole deployment during a scenario (bench/cpu.ts), and per unit of work. */
interface Cost {
  /** Per accepted request (read, ingest) or per completed run (end to end). */
  cpuMsPerUnit: number;
  runloomCpuMs: number;
  postgresCpuMs: number;
  /** The load generator's own CPU (this process), which shares the machine's two cores. */
  loadGeneratorCpuMs: number;
}
interface EndToEnd extends Load {
  runs: number;
  succeeded: number;
  completedPerSec: number;
  queueToStartP50: number;
  queueToStartP99: number;
  /** Claim → finish of each run (the worker's own latency). */
  claimToFinishP50: number;
  claimToFinishP99: number;
  /** With a notification endpoint: the runs whose message reached it. */
  notified?: number;
}
type Scenario = 'ceiling' | 'ingest' | 'endToEnd' | 'endToEndNotified' | 'read' | 'hostile' | 'sse';
type Sample = Load | (Load & Cost) | (EndToEnd & Cost) | HostileResult | SseSummary;

// --- processes ----------------------------------------------------------------------------------

// Below the ephemeral range (32768+), where outgoing connections may hold a port.
let nextPort = 21_000 + Math.floor(Math.random() * 10_000);

function start(args: string[], env: Record<string, string>, ready: RegExp, cwd = ROOT): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      if (ready.test(out)) {
        // Keep draining output so a chatty process never blocks on a full pipe (BENCH_SERVER_LOG=<file>
        // keeps it, e.g. for the server-side response times in the request log lines).
        child.stdout!.off('data', onData);
        if (process.env.BENCH_SERVER_LOG)
          child.stdout!.pipe(fs.createWriteStream(process.env.BENCH_SERVER_LOG, { flags: 'a' }));
        else child.stdout!.resume();
        child.stderr!.resume();
        resolve(child);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`exited with ${code} before it was ready:\n${out.slice(-3000)}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

const ts = ['-r', 'ts-node/register/transpile-only'];

// --- load ---------------------------------------------------------------------------------------

function load(options: autocannon.Options): Promise<Load> {
  return new Promise((resolve, reject) => {
    autocannon({ connections: CONNECTIONS, duration: DURATION_S, ...options }, (error, result) => {
      if (error) return reject(error);
      resolve({
        requestsPerSec: Math.round(result.requests.average),
        p50: result.latency.p50,
        p99: result.latency.p99,
        accepted: result['2xx'],
        non2xx: result.non2xx,
        errors: result.errors + result.timeouts,
      });
    });
  });
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Canonical JSON of a flat object of strings and integers (what the server signs, see README). */
function canonical(value: Record<string, string | number>): string {
  return `{${Object.keys(value)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${JSON.stringify(value[k])}`)
    .join(',')}}`;
}

/** Signed webhook requests, each with a new body so no signature is a replay. */
function signedTriggers(url: string, signingKey: string): autocannon.Options {
  const key = Buffer.from(signingKey, 'base64url');
  let n = 0;
  return {
    url,
    method: 'POST',
    requests: [
      {
        setupRequest: (request) => {
          n += 1;
          const body = canonical({ kind: 'order', n, nonce: randomBytes(6).toString('hex') });
          const timestamp = Math.floor(Date.now() / 1000).toString();
          const signature = createHmac('sha256', key).update(`${timestamp}.${body}`).digest('hex');
          return {
            ...request,
            body,
            headers: {
              'content-type': 'application/json',
              'x-dsentr-timestamp': timestamp,
              'x-dsentr-signature': `v1=${signature}`,
            },
          };
        },
      },
    ],
  };
}

// --- Runloom ------------------------------------------------------------------------------------

/**
 * The run-notification endpoint of the notified end-to-end workflow: answers 204 and counts the
 * distinct runs announced per workflow (a retried message counts once).
 */
const notifications = (() => {
  const runs = new Map<string, Set<string>>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        const set = runs.get(body.data.workflow.id) ?? new Set<string>();
        set.add(body.data.run.id);
        runs.set(body.data.workflow.id, set);
      } catch {
        // Counted as not delivered.
      }
      res.writeHead(204).end();
    });
  });
  let url = '';
  return {
    get url() {
      return url;
    },
    async start() {
      if (url) return;
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/runs`;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
    delivered: (workflowId: string) => runs.get(workflowId)?.size ?? 0,
  };
})();

interface Deployment {
  name: string;
  database: 'sqlite' | 'postgres';
  base: string;
  token: string;
  ingest: { url: string; key: string; workflowId: string };
  endToEnd: { url: string; key: string; workflowId: string };
  /** The end-to-end workflow again, with a run-notification endpoint on `notifications`. */
  notified: { url: string; key: string; workflowId: string };
  runTimes(
    workflowId: string,
  ): Promise<{ status: string; created: number; claimed: number | null; finished: number | null }[]>;
  /** A reading of the CPU the deployment has used so far (its processes and its database). */
  cpu(): CpuReading;
  close(): Promise<void>;
}

/**
 * Runs a worker holds at once, and the concurrency limit of the benchmark's workflows. In one busy
 * process a run's wall time is its share of the event loop (about 200 ms with 50 connections
 * saturating the API on PostgreSQL), so at the default of 64 the worker completes at most ~300
 * runs/s and the queue grows behind an API that accepts more: queue→start p99 2 s. With 256 the
 * worker keeps up at the same throughput (docs/performance.md).
 */
const WORKER_INFLIGHT = 256;

const RUNLOOM_ENV = {
  NODE_ENV: 'production',
  HOST: '127.0.0.1',
  WEBHOOK_SECRET: randomBytes(32).toString('base64url'),
  API_SECRETS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  RATE_LIMIT_PER_SECOND: '0',
  AUTH_RATE_LIMIT_PER_MINUTE: '0',
  PASSWORD_SCRYPT_LOG_N: '12',
  WORKSPACE_MONTHLY_RUN_LIMIT: '100000000',
  // The hostile-neighbour scenario: a 5,000-node graph, a 1 MB webhook body, calls to a local target.
  WORKSPACE_NODE_LIMIT: '6000',
  BODY_LIMIT: '4mb',
  WEBHOOK_BODY_LIMIT: '2mb',
  EGRESS_ALLOW_PRIVATE_NETWORKS: 'true',
  // The default (info): one JSON line per request, as a deployment would run it.
  LOG_LEVEL: 'info',
  WORKER_MAX_INFLIGHT_RUNS: String(WORKER_INFLIGHT),
  // BENCH_SERVER_ENV="LOG_LEVEL=warn WORKER_MAX_INFLIGHT_RUNS=32": what-if runs while profiling.
  ...Object.fromEntries(
    (process.env.BENCH_SERVER_ENV ?? '')
      .split(' ')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  ),
};

async function deploy(name: string, database: 'sqlite' | 'postgres', workers: number): Promise<Deployment> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'runloom-bench-'));
  let databaseUrl = '';
  let dbName: string | undefined;
  let dropDatabase = async () => undefined;
  if (database === 'postgres') {
    dbName = `runloom_bench_${randomBytes(4).toString('hex')}`;
    const admin = new Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
    databaseUrl = PG_ADMIN_URL.replace(/\/[^/]*$/, `/${dbName}`);
    dropDatabase = async () => {
      const c = new Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await c.end();
    };
  }
  const port = nextPort++;
  const env: Record<string, string> = {
    ...RUNLOOM_ENV,
    ...(process.env.BENCH_CPU_PROFILE
      ? { BENCH_CPU_PROFILE: process.env.BENCH_CPU_PROFILE, TS_NODE_TRANSPILE_ONLY: 'true' }
      : {}),
    PORT: String(port),
    DATA_DIR: dataDir,
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  };
  const processes: ChildProcess[] = [];
  // BENCH_CPU_PROFILE=<dir>: a V8 CPU profile of each Runloom process, written when it stops; or
  // BENCH_NODE_ARGS=--perf-basic-prof with BENCH_PERF=<file> for `perf` (kernel time included).
  const nodeArgs = [
    ...(process.env.BENCH_CPU_PROFILE ? ['-r', 'ts-node/register/transpile-only', '-r', './bench/cpu-profile.ts'] : []),
    ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
  ];
  processes.push(
    await start(
      [...nodeArgs, 'dist/main.js'],
      { RUNLOOM_ROLES: workers ? 'api,scheduler' : 'api,worker,scheduler', ...env },
      /listening/,
      SERVER_ROOT,
    ),
  );
  for (let i = 0; i < workers; i += 1) {
    processes.push(
      await start(
        [...nodeArgs, 'dist/main.js'],
        { ...env, RUNLOOM_ROLES: 'worker' },
        /started without HTTP/,
        SERVER_ROOT,
      ),
    );
  }
  const base = `http://127.0.0.1:${port}`;
  const email = `bench-${randomBytes(4).toString('hex')}@example.com`;
  const token = await signUpAndLogIn(base, email);
  const ws = (await api(base, 'POST', '/api/workspaces/plan', { plan_tier: 'workspace' }, token)).body.workspace.id;
  // Thousands of runs a minute are this workspace's normal: its owner turns runaway protection off,
  // as such a user would (the default limit, 500 in five minutes, would refuse most of the load).
  await api(base, 'PUT', '/api/options/user-settings', { workspace_id: ws, runaway_protection_enabled: false }, token);
  const node = (id: string, type: string, data: Record<string, unknown>, x: number) => ({
    id,
    type,
    position: { x, y: 0 },
    data,
  });
  const hook = node('hook', 'trigger', { label: 'Hook', triggerType: 'Webhook', inputs: [] }, 0);
  for (let i = 0; i < 18; i += 1) {
    await api(
      base,
      'POST',
      '/api/workflows',
      { name: `Read ${i}`, data: { nodes: [hook], edges: [] }, workspace_id: ws },
      token,
    );
  }
  const webhook = async (workflowName: string, data: unknown) => {
    const wf = (await api(base, 'POST', '/api/workflows', { name: workflowName, data, workspace_id: ws }, token)).body
      .workflow;
    await api(base, 'POST', `/api/workflows/${wf.id}/concurrency`, { limit: WORKER_INFLIGHT }, token);
    await api(
      base,
      'POST',
      `/api/workflows/${wf.id}/webhook/config`,
      { require_hmac: true, replay_window_sec: 300 },
      token,
    );
    const key = (await api(base, 'GET', `/api/workflows/${wf.id}/webhook/config`, undefined, token)).body.signing_key;
    const url = (await api(base, 'GET', `/api/workflows/${wf.id}/webhook-url`, undefined, token)).body.url;
    return { url: `${base}${url as string}`, key: key as string, workflowId: wf.id as string };
  };
  const ingest = await webhook('Ingest', { nodes: [hook], edges: [] });
  const endToEndGraph = {
    nodes: [
      hook,
      node(
        'fmt',
        'formatter',
        { label: 'Fmt', config: { operation: 'string.uppercase', input: '{{Hook.kind}}', output_key: 'kind' } },
        200,
      ),
      node('cond', 'condition', { label: 'Cond', expression: '{{Hook.n}} >= 0' }, 400),
    ],
    edges: [
      { id: 'e1', source: 'hook', target: 'fmt', type: 'nodeEdge' },
      { id: 'e2', source: 'fmt', target: 'cond', type: 'nodeEdge' },
    ],
  };
  const endToEnd = await webhook('End to end', endToEndGraph);
  const notified = await webhook('End to end, notified', endToEndGraph);
  await api(base, 'POST', `/api/workflows/${notified.workflowId}/notifications`, { url: notifications.url }, token);

  const runTimes =
    database === 'sqlite'
      ? async (workflowId: string) => {
          const db = new Database(path.join(dataDir, 'runloom.sqlite'), { readonly: true });
          try {
            const rows = db
              .prepare(
                'SELECT status, created_at, first_claimed_at, finished_at FROM workflow_runs WHERE workflow_id = ?',
              )
              .all(workflowId) as {
              status: string;
              created_at: string;
              first_claimed_at: string | null;
              finished_at: string | null;
            }[];
            const at = (v: string | null) => (v ? Date.parse(`${v.replace(' ', 'T')}Z`) : null);
            return rows.map((r) => ({
              status: r.status,
              created: at(r.created_at)!,
              claimed: at(r.first_claimed_at),
              finished: at(r.finished_at),
            }));
          } finally {
            db.close();
          }
        }
      : async (workflowId: string) => {
          const c = new Client({ connectionString: databaseUrl });
          await c.connect();
          try {
            const { rows } = await c.query(
              'SELECT status, created_at, first_claimed_at, finished_at FROM workflow_runs WHERE workflow_id = $1',
              [workflowId],
            );
            return rows.map(
              (r: { status: string; created_at: Date; first_claimed_at: Date | null; finished_at: Date | null }) => ({
                status: r.status,
                created: r.created_at.getTime(),
                claimed: r.first_claimed_at?.getTime() ?? null,
                finished: r.finished_at?.getTime() ?? null,
              }),
            );
          } finally {
            await c.end();
          }
        };
  // `perf record` of the API process from here until the deployment is closed.
  const perf = process.env.BENCH_PERF
    ? spawn('perf', ['record', '-F', '999', '-g', '-p', String(processes[0].pid), '-o', process.env.BENCH_PERF], {
        stdio: 'ignore',
      })
    : null;
  return {
    name,
    database,
    base,
    token,
    ingest,
    endToEnd,
    notified,
    runTimes,
    cpu: () =>
      readCpu(
        processes.map((p) => p.pid!),
        dbName,
      ),
    close: async () => {
      if (perf) {
        perf.kill('SIGINT');
        await new Promise((r) => perf.once('exit', r));
      }
      for (const p of processes.reverse()) await stop(p);
      await dropDatabase();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Drives load at the end-to-end workflow (or `flow`), then waits for every accepted run and checks
 * it. `notified`: the workflow has a notification endpoint; its cost and time include every run's
 * message being delivered, and `notified` counts the runs announced.
 */
async function endToEnd(d: Deployment, flow = d.endToEnd, notified = false): Promise<EndToEnd & Cost> {
  const before = (await d.runTimes(flow.workflowId)).length;
  const startedAt = Date.now();
  const meter = costMeter(d);
  const result = await load(signedTriggers(flow.url, flow.key));
  let rows = await d.runTimes(flow.workflowId);
  const terminal = (r: { status: string }) => ['succeeded', 'failed', 'canceled'].includes(r.status);
  const deadline = Date.now() + DRAIN_MS;
  const drained = () =>
    rows.filter(terminal).length === rows.length &&
    (!notified || notifications.delivered(flow.workflowId) >= rows.length);
  while (!drained() && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    rows = await d.runTimes(flow.workflowId);
  }
  const mine = rows.filter((r) => r.created >= startedAt - 1000);
  const cost = meter.stop(mine.filter(terminal).length);
  const lastFinished = Math.max(...mine.map((r) => r.finished ?? Infinity));
  const waits = mine
    .filter((r) => r.claimed !== null)
    .map((r) => r.claimed! - r.created)
    .sort((a, b) => a - b);
  const executions = mine
    .filter((r) => r.claimed !== null && r.finished !== null)
    .map((r) => r.finished! - r.claimed!)
    .sort((a, b) => a - b);
  return {
    ...result,
    ...cost,
    claimToFinishP50: percentile(executions, 50),
    claimToFinishP99: percentile(executions, 99),
    runs: rows.length - before,
    succeeded: mine.filter((r) => r.status === 'succeeded').length,
    completedPerSec: Math.round(mine.length / ((lastFinished - startedAt) / 1000)),
    queueToStartP50: percentile(waits, 50),
    queueToStartP99: percentile(waits, 99),
    ...(notified ? { notified: notifications.delivered(flow.workflowId) } : {}),
  };
}

/** Starts counting the deployment's CPU (and the load generator's); `stop(units)` gives the cost. */
function costMeter(d: Deployment): { stop(units: number): Cost } {
  const before = d.cpu();
  const generator = process.cpuUsage();
  return {
    stop: (units) => {
      const cost = cpuBetween(before, d.cpu());
      const own = process.cpuUsage(generator);
      return {
        cpuMsPerUnit: perUnit(cost.totalMs, units),
        runloomCpuMs: cost.runloomMs,
        postgresCpuMs: cost.postgresMs,
        loadGeneratorCpuMs: Math.round((own.user + own.system) / 1000),
      };
    },
  };
}

/** A load scenario with its cost per accepted request. */
async function measured(d: Deployment, options: autocannon.Options): Promise<Load & Cost> {
  const meter = costMeter(d);
  const result = await load(options);
  return { ...result, ...meter.stop(result.accepted) };
}

// --- main ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  // BENCH_TABLE_FROM=bench/results/<file>.json: rewrite docs/benchmarks.md from earlier results.
  if (process.env.BENCH_TABLE_FROM) {
    await writeTable(JSON.parse(fs.readFileSync(process.env.BENCH_TABLE_FROM, 'utf8')), process.env.BENCH_TABLE_FROM);
    return;
  }
  const started = Date.now();
  await notifications.start();
  const samples: Record<string, Record<string, Sample[]>> = {};
  const add = (target: string, scenario: Scenario, sample: Sample) => {
    ((samples[target] ??= {})[scenario] ??= []).push(sample);
    console.log(`${target} ${scenario}: ${JSON.stringify(sample)}`);
  };
  for (let round = 1; round <= ROUNDS; round += 1) {
    console.log(`--- round ${round} of ${ROUNDS}`);
    for (const [target, script] of [
      ['raw', 'bench/ceiling-raw.ts'],
      ['nest', 'bench/ceiling-nest.ts'],
    ] as const) {
      if (!TARGETS.has(target)) continue;
      const port = nextPort++;
      const server = await start([...ts, script], { PORT: String(port), TS_NODE_TRANSPILE_ONLY: 'true' }, /ready/);
      try {
        await load({ url: `http://127.0.0.1:${port}/hello`, duration: 2 });
        add(target, 'ceiling', await load({ url: `http://127.0.0.1:${port}/hello` }));
      } finally {
        await stop(server);
      }
    }
    if (TARGETS.has('sse')) {
      add('sse', 'sse', await sseScenario({ clients: SSE_CLIENTS, cycles: SSE_CYCLES, resultsDir: RESULTS_DIR }));
    }
    for (const [target, database, workers] of [
      ['sqlite', 'sqlite', 0],
      ['postgres', 'postgres', 0],
      ['scaleout', 'postgres', SCALEOUT_WORKERS],
    ] as const) {
      if (!TARGETS.has(target)) continue;
      const d = await deploy(target, database, workers);
      try {
        if (target !== 'scaleout' && SCENARIOS.has('read')) {
          const headers = { authorization: `Bearer ${d.token}` };
          add(target, 'read', await measured(d, { url: `${d.base}/api/workflows`, headers }));
        }
        if (target !== 'scaleout' && SCENARIOS.has('ingest')) {
          add(target, 'ingest', await measured(d, signedTriggers(d.ingest.url, d.ingest.key)));
        }
        if (SCENARIOS.has('endToEnd')) add(target, 'endToEnd', await endToEnd(d));
        if (target !== 'scaleout' && SCENARIOS.has('endToEndNotified')) {
          add(target, 'endToEndNotified', await endToEnd(d, d.notified, true));
        }
        if (target !== 'scaleout' && SCENARIOS.has('hostile')) {
          add(target, 'hostile', await hostileNeighbour(d, Math.max(DURATION_S, 15), DRAIN_MS / 2));
        }
      } finally {
        await d.close();
      }
    }
  }

  // Medians per target and scenario, each field on its own.
  const medians: Record<string, Record<string, Record<string, number>>> = {};
  for (const [target, scenarios] of Object.entries(samples)) {
    for (const [scenario, list] of Object.entries(scenarios)) {
      const fields = Object.keys(list[0]) as (keyof Sample)[];
      (medians[target] ??= {})[scenario] = Object.fromEntries(fields.map((f) => [f, median(list.map((s) => s[f]))]));
    }
  }
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
  };
  const result = {
    at: new Date().toISOString(),
    seconds: Math.round((Date.now() - started) / 1000),
    machine,
    durationS: DURATION_S,
    rounds: ROUNDS,
    connections: CONNECTIONS,
    serverRoot: SERVER_ROOT,
    scaleoutWorkers: SCALEOUT_WORKERS,
    medians,
    samples,
  };
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${result.at.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  if (!FULL_RUN) {
    console.log(`written ${file} in ${result.seconds} s (a narrowed run: docs/benchmarks.md left as it is)`);
    return;
  }
  await writeTable(result, path.relative(ROOT, file));
  console.log(`written ${path.relative(ROOT, file)} and docs/benchmarks.md in ${result.seconds} s`);
}

async function writeTable(
  result: {
    at: string;
    machine: Record<string, unknown>;
    durationS: number;
    rounds: number;
    scaleoutWorkers?: number;
    medians: Record<string, Record<string, Record<string, number>>>;
  },
  file: string,
): Promise<void> {
  const m = result.medians;
  const scaleout = `1 API + ${result.scaleoutWorkers ?? 2} workers`;
  const nest = m.nest?.ceiling?.requestsPerSec;
  const raw = m.raw?.ceiling?.requestsPerSec;
  const ratio = (v: number | undefined) =>
    v === undefined
      ? ''
      : `${nest ? `${Math.round((v / nest) * 100)} % of Nest` : ''}${raw ? `, ${Math.round((v / raw) * 100)} % of raw` : ''}`;
  const rows: string[] = [];
  const row = (what: string, v: Record<string, number> | undefined, extra = '') => {
    if (!v) return;
    rows.push(`| ${what} | ${v.requestsPerSec} | ${v.p50} | ${v.p99} | ${v.non2xx + v.errors} | ${extra} |`);
  };
  row('raw node:http GET (ceiling)', m.raw?.ceiling);
  row('bare NestJS GET (ceiling)', m.nest?.ceiling, raw ? `${Math.round((nest! / raw) * 100)} % of raw` : '');
  for (const [target, label] of [
    ['sqlite', 'SQLite'],
    ['postgres', 'PostgreSQL'],
  ] as const) {
    row(`ingest, ${label}`, m[target]?.ingest, ratio(m[target]?.ingest?.requestsPerSec));
    const e = m[target]?.endToEnd;
    row(
      `end-to-end, ${label}`,
      e,
      e
        ? `${e.completedPerSec} runs/s completed; queue→start p50 ${e.queueToStartP50} / p99 ${e.queueToStartP99} ms; ${e.succeeded} of ${e.runs} runs succeeded (${e.accepted} answers received)`
        : '',
    );
    row(`read GET /api/workflows, ${label}`, m[target]?.read, ratio(m[target]?.read?.requestsPerSec));
    const n = m[target]?.endToEndNotified;
    row(
      `end-to-end with run notifications, ${label}`,
      n,
      n
        ? `${n.completedPerSec} runs/s completed and announced; ${n.notified} of ${n.runs} runs' messages delivered; ${n.succeeded} succeeded`
        : '',
    );
  }
  const s = m.scaleout?.endToEnd;
  const one = m.postgres?.endToEnd;
  row(
    `end-to-end, PostgreSQL, ${scaleout}`,
    s,
    s
      ? `${s.completedPerSec} runs/s completed (${one ? `${(s.completedPerSec / one.completedPerSec).toFixed(2)}× all-in-one` : ''}); queue→start p50 ${s.queueToStartP50} / p99 ${s.queueToStartP99} ms; ${s.succeeded} of ${s.runs} runs succeeded (${s.accepted} answers received)`
      : '',
  );
  // CPU per unit of work, whole deployment (bench/cpu.ts).
  const costRows: string[] = [];
  const costRow = (what: string, unit: string, v: Record<string, number> | undefined) => {
    if (v?.cpuMsPerUnit === undefined) return;
    const total = v.runloomCpuMs + v.postgresCpuMs;
    const share = (ms: number) => (total > 0 ? `${ms} (${Math.round((ms / total) * 100)} %)` : String(ms));
    costRows.push(
      `| ${what} | ${Number.isNaN(v.cpuMsPerUnit) ? 'n/a' : v.cpuMsPerUnit} ms per ${unit} | ${share(v.runloomCpuMs)} | ${share(v.postgresCpuMs)} | ${v.loadGeneratorCpuMs} |`,
    );
  };
  for (const [target, label] of [
    ['sqlite', 'SQLite'],
    ['postgres', 'PostgreSQL'],
  ] as const) {
    costRow(`read, ${label}`, 'request', m[target]?.read);
    costRow(`ingest, ${label}`, 'accepted webhook', m[target]?.ingest);
    costRow(`end-to-end, ${label}`, 'completed run', m[target]?.endToEnd);
    costRow(`end-to-end with run notifications, ${label}`, 'completed and announced run', m[target]?.endToEndNotified);
  }
  costRow(`end-to-end, PostgreSQL, ${scaleout}`, 'completed run', m.scaleout?.endToEnd);
  const hostileRows: string[] = [];
  for (const [target, label] of [
    ['sqlite', 'SQLite'],
    ['postgres', 'PostgreSQL'],
  ] as const) {
    const h = m[target]?.hostile;
    if (!h) continue;
    hostileRows.push(
      `| ${label} | ${h.healthzP50} / ${h.healthzP99} / ${h.healthzMax} (${h.healthzProbes} probes) | ${h.neighbourQueueToStartP50} / ${h.neighbourQueueToStartP99} | ${h.neighbourSucceeded} of ${h.neighbourRuns} | ${h.duplicates} | ${h.hostileRuns} |`,
    );
  }
  const sse = m.sse?.sse;
  const sseSection = sse
    ? `## Live streams

${sse.clients} clients on one run stream of a server of its own (SQLite), spread over two client processes on
raw sockets; the run holds on a local target until every client is connected, then finishes. Latency is
from the state change (the version in each event's id) to each client's receipt of the event.

| clients held | connected in s | events measured | latency p50 / p99 ms | per idle connection: RSS / heap after GC KB | server CPU ms per event delivered | after ${SSE_CYCLES} connect/disconnect cycles: heap / handles left |
|---|---|---|---|---|---|---|
| ${sse.connectionsHeld} of ${sse.clients} | ${sse.connectSeconds} | ${sse.eventsMeasured} | ${sse.latencyP50} / ${sse.latencyP99} | ${sse.rssPerIdleConnectionKB} / ${sse.heapPerIdleConnectionKB} | ${sse.serverCpuMsPerEvent} | ${sse.leakedHeapKB} KB / ${sse.leakedHandles} |
`
    : '';
  // The targets of issue 9 (2 cores, load generator on the same machine), checked against the medians.
  const targets: string[] = [];
  const target = (what: string, measured: string | undefined, met: boolean) =>
    targets.push(
      `| ${what} | ${measured ?? 'not measured'} | ${measured === undefined ? '' : met ? 'met' : 'not met'} |`,
    );
  for (const [key, label, ingestFloor] of [
    ['sqlite', 'SQLite', 2500],
    ['postgres', 'PostgreSQL', 2000],
  ] as const) {
    const i = m[key]?.ingest;
    const e = m[key]?.endToEnd;
    const r = m[key]?.read;
    target(
      `ingest, ${label}: ≥ ${ingestFloor}/s${key === 'sqlite' ? ', p99 ≤ 50 ms' : ''}`,
      i && `${i.requestsPerSec}/s, p99 ${i.p99} ms`,
      !!i && i.requestsPerSec >= ingestFloor && (key !== 'sqlite' || i.p99 <= 50),
    );
    target(
      `ingest, ${label}: ≥ 25 % of the bare NestJS route`,
      i && nest ? `${Math.round((i.requestsPerSec / nest) * 100)} %` : undefined,
      !!i && !!nest && i.requestsPerSec >= nest / 4,
    );
    target(
      `end-to-end, ${label}: ≥ 1,000 runs/s completed, queue→start p99 ≤ 50 ms`,
      e && `${e.completedPerSec} runs/s, p99 ${e.queueToStartP99} ms`,
      !!e && e.completedPerSec >= 1000 && e.queueToStartP99 <= 50,
    );
    target(`read, ${label}: ≥ 3,000 req/s`, r && `${r.requestsPerSec}/s`, !!r && r.requestsPerSec >= 3000);
    if (key === 'postgres') {
      const ratio = s?.cpuMsPerUnit && e?.cpuMsPerUnit ? s.cpuMsPerUnit / e.cpuMsPerUnit : undefined;
      target(
        'scale-out, PostgreSQL: CPU per completed run ≤ 1.1× one process',
        ratio === undefined || Number.isNaN(ratio)
          ? undefined
          : `${ratio.toFixed(2)}× (${s!.cpuMsPerUnit} vs ${e!.cpuMsPerUnit} ms)`,
        ratio !== undefined && ratio <= 1.1,
      );
    }
    const n = m[key]?.endToEndNotified;
    target(
      `run notifications, ${label}: end to end with an endpoint ≥ 90 % of the runs/s without, every message delivered`,
      n && e
        ? `${Math.round((n.completedPerSec / e.completedPerSec) * 100)} % (${n.completedPerSec} vs ${e.completedPerSec} runs/s), ${n.notified} of ${n.runs}`
        : undefined,
      !!n && !!e && n.completedPerSec >= 0.9 * e.completedPerSec && n.notified === n.runs,
    );
    const h = m[key]?.hostile;
    target(
      `hostile neighbour, ${label}: /healthz p99 ≤ 50 ms, neighbour queue→start p99 ≤ 250 ms, 0 duplicates`,
      h && `${h.healthzP99} ms, ${h.neighbourQueueToStartP99} ms, ${h.duplicates}`,
      !!h && h.healthzP99 <= 50 && h.neighbourQueueToStartP99 <= 250 && h.duplicates === 0,
    );
  }
  if (sse) {
    target(
      `live streams: ${sse.clients} clients on one run, state change → client p99 ≤ 200 ms`,
      `${sse.connectionsHeld} held, p99 ${sse.latencyP99} ms`,
      sse.connectionsHeld === sse.clients && sse.latencyP99 <= 200,
    );
    target(
      'live streams: ≤ 30 KB per idle connection (server RSS and heap after GC)',
      `RSS ${sse.rssPerIdleConnectionKB} KB, heap ${sse.heapPerIdleConnectionKB} KB`,
      sse.rssPerIdleConnectionKB <= 30 && sse.heapPerIdleConnectionKB <= 30,
    );
  }
  const doc = `# Benchmarks

Produced by \`npm run bench\` (bench/run.ts); the raw figures are in \`${file}\`.
Machine: ${result.machine.cpus} cores (${String(result.machine.cpuModel)}), ${String(result.machine.memoryGiB)} GiB, Node ${String(result.machine.node)};
the load generator (autocannon, ${CONNECTIONS} connections, ${result.durationS} s per scenario) runs on the same machine.
Medians of ${result.rounds} interleaved round(s), ${result.at}.

| scenario | req/s | p50 ms | p99 ms | non-2xx + errors | notes |
|---|---|---|---|---|---|
${rows.join('\n')}

Ingest and end-to-end requests are HMAC-signed webhook triggers, each with a new body (no replays).
End-to-end is webhook → formatter → condition; "completed" counts runs that reached a terminal state,
from the start of the load until the last one finished; every run must succeed. Runs can outnumber
the answers received: requests still in flight when the load stops are accepted by the server but
not counted by autocannon.

## CPU per unit of work

CPU time of the whole deployment during each scenario, read from \`/proc\` (bench/cpu.ts): every
Runloom process with its worker threads and children, and for PostgreSQL the backends of the
deployment's database with the server's background writers. Milliseconds are totals over the
scenario (for end to end, until the last run finished); the per-unit figure divides their sum by the
requests accepted or the runs completed. It depends far less on the machine's noise than req/s does,
and it is the figure that predicts scaling out: more machines add capacity only if a run costs no
more CPU when spread over processes. The load generator (autocannon, in the benchmark's own process)
shares the same two cores; its CPU is shown for scale and not counted in the cost.

| scenario | CPU per unit | Runloom ms | PostgreSQL ms | load generator ms |
|---|---|---|---|---|
${costRows.join('\n')}

${sseSection}
## Hostile neighbour

One workspace sends, every second for the scenario's length, a 1 MB digit string into a numeric
condition (unauthenticated webhook), a code node spinning on \`Array.prototype.join\` and a
5,000-node graph; meanwhile another workspace triggers a webhook → HTTP workflow 20 times a second
against a local target that counts calls per run, and \`GET /healthz\` is probed one request at a time
(10 s timeout).

| database | /healthz p50 / p99 / max ms | neighbour queue→start p50 / p99 ms | neighbour runs succeeded | duplicate calls | hostile runs sent |
|---|---|---|---|---|---|
${hostileRows.join('\n')}

## Targets

| target | measured (median) | |
|---|---|---|
${targets.join('\n')}
`;
  fs.mkdirSync(path.join(ROOT, 'docs'), { recursive: true });
  // Formatted as the rest of the tree, so `npm run lint` stays green after a benchmark.
  fs.writeFileSync(
    path.join(ROOT, 'docs', 'benchmarks.md'),
    await format(doc, { parser: 'markdown', printWidth: 120 }),
  );
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
