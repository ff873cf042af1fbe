/**
 * The "hostile neighbour" scenario (issue 17): while one workspace runs untrusted work (a 1 MB digit
 * string into a numeric condition, a code node spinning on a built-in, a 5,000-node graph), measure
 * what everyone else sees: GET /healthz latency, a second workspace's queue→start, and whether any of
 * its outside calls was made twice. Bounded: the hostile load lasts `durationS`, every probe has a
 * timeout, and the neighbour's runs get `drainMs` to finish.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { api, signUpAndLogIn } from './http';

export interface HostileResult {
  /** GET /healthz, one at a time every 20 ms during the load; a timed-out probe counts as its timeout. */
  healthzP50: number;
  healthzP99: number;
  healthzMax: number;
  healthzProbes: number;
  neighbourRuns: number;
  neighbourSucceeded: number;
  neighbourQueueToStartP50: number;
  neighbourQueueToStartP99: number;
  /** Outside calls of the neighbour's runs made more than once. */
  duplicates: number;
  hostileRuns: number;
}

export interface HostileTarget {
  base: string;
  runTimes(workflowId: string): Promise<{ status: string; created: number; claimed: number | null }[]>;
}

const PROBE_TIMEOUT_MS = 10_000;

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** A local HTTP target that counts calls per path (the neighbour's "outside world"). */
async function counter(): Promise<{ url: string; calls: Map<string, number>; close(): Promise<void> }> {
  const calls = new Map<string, number>();
  const server = http.createServer((req, res) => {
    calls.set(req.url ?? '', (calls.get(req.url ?? '') ?? 0) + 1);
    res.setHeader('content-type', 'application/json');
    res.end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

async function timed(url: string, init?: RequestInit): Promise<number> {
  const started = performance.now();
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    await res.arrayBuffer();
  } catch {
    return PROBE_TIMEOUT_MS;
  }
  return performance.now() - started;
}

async function workspaceUser(base: string) {
  const token = await signUpAndLogIn(base, `bench-${randomBytes(4).toString('hex')}@example.com`);
  const ws = (await api(base, 'POST', '/api/workspaces/plan', { plan_tier: 'workspace' }, token)).body.workspace.id;
  await api(base, 'PUT', '/api/options/user-settings', { workspace_id: ws, runaway_protection_enabled: false }, token);
  return { token, ws: ws as string };
}

const node = (id: string, type: string, data: Record<string, unknown>, x = 0) => ({
  id,
  type,
  position: { x, y: 0 },
  data,
});
const edge = (source: string, target: string, i: number) => ({ id: `e${i}`, source, target, type: 'nodeEdge' });
const hook = node('hook', 'trigger', { label: 'Hook', triggerType: 'Webhook', inputs: [] });

export async function hostileNeighbour(d: HostileTarget, durationS: number, drainMs: number): Promise<HostileResult> {
  const { base } = d;
  const target = await counter();
  try {
    const hostile = await workspaceUser(base);
    const neighbour = await workspaceUser(base);
    const create = async (who: { token: string; ws: string }, name: string, data: unknown) => {
      const wf = (await api(base, 'POST', '/api/workflows', { name, data, workspace_id: who.ws }, who.token)).body
        .workflow;
      await api(base, 'POST', `/api/workflows/${wf.id}/concurrency`, { limit: 64 }, who.token);
      const url = (await api(base, 'GET', `/api/workflows/${wf.id}/webhook-url`, undefined, who.token)).body.url;
      return { id: wf.id as string, hook: `${base}${url as string}` };
    };
    const numeric = await create(hostile, 'Numeric', {
      nodes: [hook, node('cond', 'condition', { label: 'Cond', expression: '{{Hook.amount}} > 100' }, 200)],
      edges: [edge('hook', 'cond', 1)],
    });
    const spin = await create(hostile, 'Spin', {
      nodes: [
        hook,
        node('spin', 'actionCode', {
          label: 'Spin',
          actionType: 'code',
          params: { code: 'const a = []; for (let i = 0; i < 2e5; i++) a.push("xxxxxxxx"); for (;;) a.join(",");' },
        }),
      ],
      edges: [edge('hook', 'spin', 1)],
    });
    const size = 5000;
    const big = await create(hostile, 'Big', {
      nodes: [
        hook,
        ...Array.from({ length: size - 1 }, (_, i) =>
          node(`f${i}`, 'formatter', {
            label: `F${i}`,
            config: { operation: 'string.uppercase', input: '{{Hook.kind}}', output_key: 'k' },
          }),
        ),
      ],
      edges: Array.from({ length: size - 1 }, (_, i) => edge(i ? `f${i - 1}` : 'hook', `f${i}`, i)),
    });
    const calm = await create(neighbour, 'Calm', {
      nodes: [
        hook,
        node('call', 'actionHttp', {
          label: 'Call',
          actionType: 'http',
          params: { method: 'GET', url: `${target.url}/order/{{Hook.id}}` },
        }),
      ],
      edges: [edge('hook', 'call', 1)],
    });

    const until = Date.now() + durationS * 1000;
    const post = (url: string, body: string) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
      })
        .then((r) => r.arrayBuffer())
        .catch(() => undefined);
    const digits = JSON.stringify({ amount: `${'1'.repeat(1 << 20)}x`, kind: 'hostile' });
    let hostileRuns = 0;
    const hostileLoad = (async () => {
      while (Date.now() < until) {
        hostileRuns += 3;
        await Promise.all([
          post(numeric.hook, digits),
          post(spin.hook, '{}'),
          post(big.hook, JSON.stringify({ kind: 'big' })),
        ]);
        await new Promise((r) => setTimeout(r, 1000));
      }
    })();
    const latencies: number[] = [];
    const probes = (async () => {
      while (Date.now() < until) {
        latencies.push(await timed(`${base}/healthz`));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    let sent = 0;
    const neighbourLoad = (async () => {
      while (Date.now() < until) {
        sent += 1;
        void post(calm.hook, JSON.stringify({ id: `n${sent}` }));
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await Promise.all([hostileLoad, probes, neighbourLoad]);

    let rows = await d.runTimes(calm.id);
    const deadline = Date.now() + drainMs;
    const terminal = (r: { status: string }) => ['succeeded', 'failed', 'canceled'].includes(r.status);
    while (rows.filter(terminal).length < rows.length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      rows = await d.runTimes(calm.id);
    }
    const waits = rows
      .filter((r) => r.claimed !== null)
      .map((r) => r.claimed! - r.created)
      .sort((a, b) => a - b);
    // Runs never claimed count as waiting until now.
    for (const r of rows) if (r.claimed === null) waits.push(Date.now() - r.created);
    waits.sort((a, b) => a - b);
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      healthzP50: Math.round(percentile(sorted, 50) * 10) / 10,
      healthzP99: Math.round(percentile(sorted, 99) * 10) / 10,
      healthzMax: Math.round(sorted[sorted.length - 1] ?? NaN),
      healthzProbes: latencies.length,
      neighbourRuns: rows.length,
      neighbourSucceeded: rows.filter((r) => r.status === 'succeeded').length,
      neighbourQueueToStartP50: percentile(waits, 50),
      neighbourQueueToStartP99: percentile(waits, 99),
      duplicates: [...target.calls.values()].filter((n) => n > 1).length,
      hostileRuns,
    };
  } finally {
    await target.close();
  }
}
