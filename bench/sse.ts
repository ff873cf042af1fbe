/**
 * SSE benchmark (issue 7): N concurrent clients on one run stream of a server running in its own
 * process. Reports connections held, event latency from the server's state change to each client
 * (p50/p99), and server memory per idle connection. Then 10,000 connect/disconnect cycles against
 * the same stream, reporting server memory growth.
 *
 *   npm run bench:sse                      # 10,000 clients
 *   BENCH_SSE_CLIENTS=2000 npm run bench:sse
 *
 * Everything runs on 127.0.0.1 and stops by itself. Results: bench/results/sse-<timestamp>.json.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

const CLIENTS = Number(process.env.BENCH_SSE_CLIENTS ?? 10_000);
const CYCLES = Number(process.env.BENCH_SSE_CYCLES ?? 10_000);
const ROOT = path.join(__dirname, '..');

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function rssKb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]);
}

async function until(check: () => boolean | Promise<boolean>, what: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function json(
  base: string,
  method: string,
  p: string,
  body?: unknown,
  token?: string,
): Promise<{ res: Response; body: Record<string, { id: string }> }> {
  const res = await fetch(`${base}${p}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p} → ${res.status} ${text}`);
  return { res, body: text ? JSON.parse(text) : null };
}

async function main(): Promise<void> {
  // A server the run can hold on, so every client is connected before events flow.
  const held: http.ServerResponse[] = [];
  const hold = http.createServer((_req, res) => held.push(res));
  await new Promise<void>((r) => hold.listen(0, '127.0.0.1', r));
  const holdUrl = `http://127.0.0.1:${(hold.address() as AddressInfo).port}/hold`;

  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'runloom-bench-sse-'));
  const server: ChildProcess = spawn(
    process.execPath,
    ['--max-old-space-size=4096', '-r', 'ts-node/register/transpile-only', 'src/main.ts'],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
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
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const base = `http://127.0.0.1:${port}`;
  const sockets: http.ClientRequest[] = [];
  try {
    await until(async () => (await fetch(`${base}/healthz`).catch(() => null))?.ok === true, 'server start', 60_000);
    const email = `bench-${Date.now()}@example.com`;
    await json(base, 'POST', '/api/auth/signup', {
      first_name: 'Bench',
      last_name: 'Mark',
      email,
      password: 'bench-password-1',
      accepted_terms_version: '1',
    });
    const login = await json(base, 'POST', '/api/auth/login', { email, password: 'bench-password-1' });
    const token = /dsentr_session=([^;]+)/.exec(login.res.headers.get('set-cookie') ?? '')![1];
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
    const wf = (await json(base, 'POST', '/api/workflows', { name: 'sse bench', data: { nodes, edges } }, token)).body
      .workflow;
    const run = (await json(base, 'POST', `/api/workflows/${wf.id}/run`, {}, token)).body.run;
    await until(() => held.length === 1, 'the run to hold', 30_000);
    const rssBefore = rssKb(server.pid!);

    // N clients, each parsing the stream and recording when each node_runs state arrives.
    const latencies: number[] = [];
    let connected = 0;
    let finishedClients = 0;
    const streamPath = `/api/workflows/${wf.id}/runs/${run.id}/events`;
    const connectStart = Date.now();
    for (let i = 0; i < CLIENTS; i += 1) {
      const req = http.get(
        { host: '127.0.0.1', port, path: streamPath, headers: { authorization: `Bearer ${token}` }, agent: false },
        (res) => {
          let buffer = '';
          let first = true;
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            const now = Date.now();
            buffer += chunk;
            let end: number;
            while ((end = buffer.indexOf('\n\n')) !== -1) {
              const frame = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              if (first) {
                first = false;
                connected += 1;
                continue;
              }
              if (!frame.includes('event: node_runs')) continue;
              const data = JSON.parse(
                frame
                  .split('\n')
                  .find((l) => l.startsWith('data: '))!
                  .slice(6),
              ) as { updated_at: string; status: string }[];
              const changedAt = Math.max(...data.map((n) => Date.parse(n.updated_at)));
              latencies.push(now - changedAt);
              if (data.length === nodes.length && data.every((n) => n.status === 'succeeded')) finishedClients += 1;
            }
          });
        },
      );
      req.on('error', () => undefined);
      sockets.push(req);
      if (i % 500 === 499) await until(() => connected >= i - 1000, 'connections to settle', 120_000);
    }
    await until(() => connected === CLIENTS, `${CLIENTS} clients to connect`, 300_000);
    const connectSeconds = (Date.now() - connectStart) / 1000;
    await new Promise((r) => setTimeout(r, 2000));
    const rssIdle = rssKb(server.pid!);

    held.forEach((res) => res.end('{}'));
    await until(() => finishedClients === CLIENTS, 'every client to see the run finish', 300_000);
    latencies.sort((a, b) => a - b);
    for (const s of sockets) s.destroy();

    // 10,000 connect/disconnect cycles: memory must come back (listeners and subscriptions released).
    await new Promise((r) => setTimeout(r, 2000));
    const rssAfterClients = rssKb(server.pid!);
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
    await new Promise((r) => setTimeout(r, 2000));
    const rssAfterCycles = rssKb(server.pid!);

    const result = {
      at: new Date().toISOString(),
      machine: {
        cpus: os.cpus().length,
        memoryGiB: Math.round(os.totalmem() / 2 ** 30),
        node: process.version,
        database: 'sqlite',
      },
      clients: CLIENTS,
      connectionsHeld: connected,
      connectSeconds,
      eventsMeasured: latencies.length,
      latencyMs: {
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        max: latencies[latencies.length - 1],
      },
      memoryPerIdleConnectionKB: Math.round(((rssIdle - rssBefore) / CLIENTS) * 10) / 10,
      cycles: CYCLES,
      rssKB: {
        beforeClients: rssBefore,
        idleWithClients: rssIdle,
        afterClientsClosed: rssAfterClients,
        afterCycles: rssAfterCycles,
      },
    };
    const file = path.join(ROOT, 'bench', 'results', `sse-${result.at.replace(/[:.]/g, '-')}.json`);
    fs.writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
    console.log(JSON.stringify(result, null, 2));
    console.log(`written ${path.relative(ROOT, file)}`);
  } finally {
    for (const s of sockets) s.destroy();
    server.kill('SIGTERM');
    hold.closeAllConnections();
    hold.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
