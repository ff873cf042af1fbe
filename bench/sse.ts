/**
 * SSE benchmark (issue 7): N concurrent clients on one run stream of a server running in its own
 * process, the clients spread over BENCH_SSE_CLIENT_PROCESSES processes (bench/sse-clients.ts).
 * Reports connections held, event latency from the state change (the version in the event id)
 * to each client (p50/p99), CPU used by server and clients while the events go out, and server
 * memory per idle connection (RSS and heap after a full GC). Then BENCH_SSE_CYCLES
 * connect/disconnect cycles against the same stream: heap after GC and live handles must come
 * back (no listener or subscription left behind).
 *
 *   npm run bench:sse                                  # 10,000 clients, 10,000 cycles
 *   BENCH_SSE_CLIENTS=2000 BENCH_SSE_CYCLES=100 npm run bench:sse
 *   BENCH_SSE_PROFILE=/tmp npm run bench:sse           # CPU profile of the event phase
 *   BENCH_SSE_HEAP_SNAPSHOT=/tmp npm run bench:sse     # heap snapshots before the clients and when idle
 *   BENCH_SSE_PERF=/tmp/perf.data BENCH_SSE_NODE_ARGS=--perf-basic-prof npm run bench:sse
 *
 * Everything runs on 127.0.0.1 and stops by itself. Results: bench/results/sse-<timestamp>.json.
 */
import { ChildProcess, fork, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { api, signUpAndLogIn } from './http';
import type { ClientReport } from './sse-clients';

/** Processes the clients are spread over (the server has its own). */
const CLIENT_PROCESSES = Number(process.env.BENCH_SSE_CLIENT_PROCESSES ?? 2);
const ROOT = path.join(__dirname, '..');

export interface SseOptions {
  clients: number;
  /** Connect/disconnect cycles after the clients leave (the leak check). */
  cycles: number;
  /** Where sse-<timestamp>.json goes (default bench/results). */
  resultsDir?: string;
}

/** What `npm run bench` keeps of one SSE round (the full result is in sse-<timestamp>.json). */
export interface SseSummary {
  clients: number;
  connectionsHeld: number;
  connectSeconds: number;
  eventsMeasured: number;
  latencyP50: number;
  latencyP99: number;
  rssPerIdleConnectionKB: number;
  heapPerIdleConnectionKB: number;
  serverCpuMsPerEvent: number;
  leakedHeapKB: number;
  leakedHandles: number;
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

interface Probe {
  heapUsedKB: number;
  rssKB: number;
  resources: Record<string, number>;
}

/** Memory after a full GC and live handles in the server (bench/server-probe.ts answers). */
function probe(server: ChildProcess): Promise<Probe> {
  return new Promise((resolve) => {
    const listener = (message: { probe?: Probe }) => {
      if (!message.probe) return;
      server.off('message', listener);
      resolve({ ...message.probe, resources: { TCPSocketWrap: 0, ...message.probe.resources } });
    };
    server.on('message', listener);
    server.send('probe');
  });
}

/** CPU time (ms) a process has used so far: [user, system]. */
function cpuMs(pid: number): [number, number] {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return [Number(fields[11]) * 10, Number(fields[12]) * 10];
}

function cpuSince(pid: number, before: [number, number]): { user: number; system: number } {
  const now = cpuMs(pid);
  return { user: now[0] - before[0], system: now[1] - before[1] };
}

function ask(server: ChildProcess, message: string, answer: string): Promise<unknown> {
  return new Promise((resolve) => {
    const listener = (reply: Record<string, unknown>) => {
      if (!(answer in reply)) return;
      server.off('message', listener);
      resolve(reply[answer]);
    };
    server.on('message', listener);
    server.send(message);
  });
}

function diff(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const delta = (after[key] ?? 0) - (before[key] ?? 0);
    if (delta) out[key] = delta;
  }
  return out;
}

async function until(check: () => boolean | Promise<boolean>, what: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * One SSE round: a server of its own (SQLite), `clients` connections on one run, the events of the
 * run's end fanned out to all of them, then `cycles` connect/disconnect cycles. Writes
 * bench/results/sse-<timestamp>.json and returns the figures.
 */
export async function sseScenario({
  clients: CLIENTS,
  cycles: CYCLES,
  resultsDir = path.join(ROOT, 'bench', 'results'),
}: SseOptions): Promise<SseSummary> {
  // A server the run can hold on, so every client is connected before events flow.
  const held: http.ServerResponse[] = [];
  const hold = http.createServer((_req, res) => held.push(res));
  await new Promise<void>((r) => hold.listen(0, '127.0.0.1', r));
  const holdUrl = `http://127.0.0.1:${(hold.address() as AddressInfo).port}/hold`;

  // Below the ephemeral range (32768+), where outgoing connections may hold a port.
  const port = 20_000 + Math.floor(Math.random() * 12_000);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'runloom-bench-sse-'));
  const server: ChildProcess = spawn(
    process.execPath,
    [
      '--max-old-space-size=4096',
      '--expose-gc',
      // e.g. BENCH_SSE_NODE_ARGS=--trace-gc
      ...(process.env.BENCH_SSE_NODE_ARGS ?? '').split(' ').filter(Boolean),
      '-r',
      'ts-node/register/transpile-only',
      '-r',
      './bench/server-probe.ts',
      'src/main.ts',
    ],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        ...(process.env.BENCH_SSE_PROFILE ? { BENCH_SSE_PROFILE: process.env.BENCH_SSE_PROFILE } : {}),
        ...(process.env.BENCH_SSE_HEAP_SNAPSHOT
          ? { BENCH_SSE_HEAP_SNAPSHOT: process.env.BENCH_SSE_HEAP_SNAPSHOT }
          : {}),
        TS_NODE_TRANSPILE_ONLY: 'true',
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'error',
        RATE_LIMIT_PER_SECOND: '0',
        AUTH_RATE_LIMIT_PER_MINUTE: '0',
        PASSWORD_SCRYPT_LOG_N: '12',
        EGRESS_ALLOW_PRIVATE_NETWORKS: 'true',
        WORKER_POLL_INTERVAL_MS: '10',
        SSE_KEEPALIVE_MS: '10000',
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const base = `http://127.0.0.1:${port}`;
  const children: ChildProcess[] = [];
  try {
    await until(async () => (await fetch(`${base}/healthz`).catch(() => null))?.ok === true, 'server start', 60_000);
    const email = `bench-${Date.now()}@example.com`;
    const token = await signUpAndLogIn(base, email);
    const formatters = Array.from({ length: 5 }, (_, i) => ({
      id: `f${i}`,
      type: 'formatter',
      data: { label: `F${i}`, config: { operation: 'string.uppercase', input: 'x', output_key: 'v' } },
    }));
    const nodes = [
      { id: 't', type: 'trigger', data: { label: 'T', triggerType: 'Manual' } },
      {
        id: 'h',
        type: 'actionHttp',
        data: { label: 'Hold', actionType: 'http', params: { url: holdUrl, method: 'GET' }, timeout: 600_000 },
      },
      ...formatters,
    ];
    const ids = nodes.map((n) => n.id);
    const edges = ids.slice(1).map((id, i) => ({ id: `e${i}`, source: ids[i], target: id }));
    const wf = (await api(base, 'POST', '/api/workflows', { name: 'sse bench', data: { nodes, edges } }, token)).body
      .workflow;
    const run = (await api(base, 'POST', `/api/workflows/${wf.id}/run`, {}, token)).body.run;
    await until(() => held.length === 1, 'the run to hold', 30_000);
    const before = await probe(server);
    // BENCH_SSE_HEAP_SNAPSHOT=<dir>: heap snapshots before the clients and once they are idle (what
    // a connection holds is the difference).
    const snapshot = () =>
      process.env.BENCH_SSE_HEAP_SNAPSHOT
        ? ask(server, 'heap-snapshot', 'heapSnapshot').then((file) => console.log(`heap snapshot: ${String(file)}`))
        : Promise.resolve();
    await snapshot();

    // N clients spread over a few processes, so the load generator is not one busy event loop.
    const streamPath = `/api/workflows/${wf.id}/runs/${run.id}/events`;
    const clients = Array.from({ length: CLIENT_PROCESSES }, (_, i) => {
      const child = fork(path.join(__dirname, 'sse-clients.ts'), [], {
        execArgv: ['-r', 'ts-node/register/transpile-only'],
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true' },
      });
      const state = { child, connected: 0, finished: 0, recording: false, latencies: null as number[] | null };
      child.on('message', (report: ClientReport) => {
        if (report.kind === 'progress') Object.assign(state, report);
        else if (report.kind === 'recording') state.recording = true;
        else state.latencies = report.values;
      });
      const count = Math.floor(CLIENTS / CLIENT_PROCESSES) + (i < CLIENTS % CLIENT_PROCESSES ? 1 : 0);
      child.send({ start: { port, path: streamPath, token, count, parallel: 100 } });
      return state;
    });
    children.push(...clients.map((c) => c.child));
    const total = (key: 'connected' | 'finished') => clients.reduce((sum, c) => sum + c[key], 0);
    const connectStart = Date.now();
    await until(() => total('connected') === CLIENTS, `${CLIENTS} clients to connect`, 300_000);
    const connectSeconds = (Date.now() - connectStart) / 1000;
    await new Promise((r) => setTimeout(r, 2000));
    const idle = await probe(server);
    await snapshot();
    const connectionsHeld = total('connected');

    // BENCH_SSE_PROFILE=<dir>: a CPU profile of the server while the events go out.
    const profiling = process.env.BENCH_SSE_PROFILE ? await ask(server, 'profile-start', 'profiling') : null;
    for (const c of clients) c.child.send({ go: true });
    await until(() => clients.every((c) => c.recording), 'clients to record', 10_000);
    // BENCH_SSE_PERF=<file>: `perf record` of the server while the events go out (with
    // BENCH_SSE_NODE_ARGS=--perf-basic-prof for JavaScript names).
    const perf = process.env.BENCH_SSE_PERF
      ? spawn('perf', ['record', '-F', '2000', '-g', '-p', String(server.pid), '-o', process.env.BENCH_SSE_PERF], {
          stdio: 'ignore',
        })
      : null;
    if (perf) await new Promise((r) => setTimeout(r, 1000));
    const cpuBefore = [server.pid!, ...clients.map((c) => c.child.pid!)].map(cpuMs);
    const releasedAt = Date.now();
    held.forEach((res) => res.end('{}'));
    await until(() => total('finished') === CLIENTS, 'every client to see the run finish', 300_000);
    if (perf) {
      perf.kill('SIGINT');
      await new Promise((r) => perf.once('exit', r));
    }
    const eventPhase = {
      wallMs: Date.now() - releasedAt,
      serverCpuMs: cpuSince(server.pid!, cpuBefore[0]),
      clientsCpuMs: clients.map((c, i) => cpuSince(c.child.pid!, cpuBefore[i + 1])),
    };
    if (profiling) console.log(`profile: ${String(await ask(server, 'profile-stop', 'profiled'))}`);
    for (const c of clients) c.child.send({ collect: true });
    await until(() => clients.every((c) => c.latencies !== null), 'latencies', 60_000);
    const latencies = clients.flatMap((c) => c.latencies!).sort((a, b) => a - b);
    for (const c of clients) c.child.disconnect();
    await until(
      async () => (await probe(server)).resources.TCPSocketWrap <= before.resources.TCPSocketWrap,
      'server to see every client leave',
      60_000,
    );
    const afterClients = await probe(server);

    // 10,000 connect/disconnect cycles: what each stream holds (subscriptions, timers, the shared
    // run state) must be released, so heap after GC and live handles come back to where they were.
    for (let i = 0; i < CYCLES; i += 1) {
      await new Promise<void>((resolve) => {
        const req = http.get(
          { host: '127.0.0.1', port, path: streamPath, headers: { authorization: `Bearer ${token}` } },
          (res) => {
            res.once('data', () => {
              req.destroy();
              resolve();
            });
          },
        );
        req.on('error', () => resolve());
      });
    }
    await until(
      async () => (await probe(server)).resources.TCPSocketWrap <= before.resources.TCPSocketWrap,
      'server to see every cycle leave',
      60_000,
    );
    const afterCycles = await probe(server);

    const result = {
      at: new Date().toISOString(),
      machine: {
        cpus: os.cpus().length,
        memoryGiB: Math.round(os.totalmem() / 2 ** 30),
        node: process.version,
        database: 'sqlite',
      },
      clients: CLIENTS,
      clientProcesses: CLIENT_PROCESSES,
      connectionsHeld,
      connectSeconds,
      eventsMeasured: latencies.length,
      eventPhase,
      latencyMs: {
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        max: latencies[latencies.length - 1],
      },
      memoryPerIdleConnectionKB: {
        rss: Math.round(((idle.rssKB - before.rssKB) / CLIENTS) * 10) / 10,
        heapAfterGc: Math.round(((idle.heapUsedKB - before.heapUsedKB) / CLIENTS) * 10) / 10,
      },
      cycles: CYCLES,
      probes: { before, idle, afterClients, afterCycles },
      leakAfterCycles: {
        heapAfterGcKB: afterCycles.heapUsedKB - afterClients.heapUsedKB,
        handles: diff(afterClients.resources, afterCycles.resources),
      },
    };
    fs.mkdirSync(resultsDir, { recursive: true });
    const file = path.join(resultsDir, `sse-${result.at.replace(/[:.]/g, '-')}.json`);
    fs.writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
    console.log(`written ${path.relative(ROOT, file)}`);
    const events = latencies.length || 1;
    return {
      clients: CLIENTS,
      connectionsHeld,
      connectSeconds,
      eventsMeasured: latencies.length,
      latencyP50: result.latencyMs.p50,
      latencyP99: result.latencyMs.p99,
      rssPerIdleConnectionKB: result.memoryPerIdleConnectionKB.rss,
      heapPerIdleConnectionKB: result.memoryPerIdleConnectionKB.heapAfterGc,
      serverCpuMsPerEvent:
        Math.round(((eventPhase.serverCpuMs.user + eventPhase.serverCpuMs.system) / events) * 1000) / 1000,
      leakedHeapKB: result.leakAfterCycles.heapAfterGcKB,
      leakedHandles: Object.values(result.leakAfterCycles.handles).reduce((sum, n) => sum + Math.max(0, n), 0),
    };
  } finally {
    for (const c of children) if (c.connected) c.disconnect();
    if (server.connected) server.send('exit');
    await Promise.race([new Promise((r) => server.once('exit', r)), new Promise((r) => setTimeout(r, 5000))]);
    server.kill('SIGTERM');
    hold.closeAllConnections();
    hold.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  sseScenario({
    clients: Number(process.env.BENCH_SSE_CLIENTS ?? 10_000),
    cycles: Number(process.env.BENCH_SSE_CYCLES ?? 10_000),
  }).then(
    (summary) => {
      console.log(JSON.stringify(summary, null, 2));
      process.exit(0);
    },
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
