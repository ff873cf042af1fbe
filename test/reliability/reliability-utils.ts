import request from 'supertest';
import { TargetServer } from '../utils/target-server';
import * as http from 'node:http';
import * as net from 'node:net';

/** A port nothing listens on now (the kernel's choice), for a child process to listen on. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Starts `count` runs of a workflow through `POST /run`, 20 at a time; the ids come back in the
 * order of `n` (the argument given to `body`).
 */
export async function startRuns(
  url: string,
  auth: Record<string, string>,
  workflowId: string,
  count: number,
  body: (n: number) => Record<string, unknown> = () => ({}),
): Promise<string[]> {
  const ids: string[] = new Array<string>(count);
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const n = next++;
      const res = await request(url).post(`/api/workflows/${workflowId}/run`).set(auth).send(body(n));
      if (res.status !== 202) throw new Error(`run ${n}: ${res.status} ${JSON.stringify(res.body)}`);
      ids[n] = res.body.run.id as string;
    }
  };
  await Promise.all(Array.from({ length: 20 }, lane));
  return ids;
}

/** How many times the target saw each path (query strings dropped). */
export function callsPerPath(target: TargetServer): Map<string, number> {
  const calls = new Map<string, number>();
  for (const r of target.seen) {
    const path = r.path.split('?')[0];
    calls.set(path, (calls.get(path) ?? 0) + 1);
  }
  return calls;
}

export interface PlainRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

export interface Outcome {
  status: number | 'no-response' | 'timeout' | 'client-error';
  /** The start of the body (a stream's first bytes), or the error. */
  detail?: string;
}

const REQUEST_TIMEOUT_MS = 20_000;

/**
 * One request with node:http, whatever it holds (supertest would wait for an event stream to end):
 * an event stream that opens is answered by its status and first bytes, then closed.
 */
export function send(agent: http.Agent | undefined, port: number, r: PlainRequest): Promise<Outcome> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (o: Outcome) => {
      if (!settled) {
        settled = true;
        resolve(o);
      }
    };
    let req: http.ClientRequest;
    try {
      req = http.request({
        host: '127.0.0.1',
        port,
        method: r.method,
        path: r.path,
        agent: agent ?? false,
        headers: { ...r.headers, ...(r.body ? { 'content-length': String(r.body.length) } : {}) },
        timeout: REQUEST_TIMEOUT_MS,
      });
    } catch (error) {
      // The client refuses to produce it (an invalid character): nothing reached the server.
      finish({ status: 'client-error', detail: (error as Error).message });
      return;
    }
    req.on('response', (res) => {
      if ((res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
        // A stream that opened: the answer is its status; do not hold it.
        finish({ status: res.statusCode ?? 0 });
        res.destroy();
        return;
      }
      let text = '';
      res.on('data', (c: Buffer) => {
        if (text.length < 1_000_000) text += c.toString('utf8');
      });
      res.on('end', () => finish({ status: res.statusCode ?? 0, detail: text }));
      res.on('error', () => finish({ status: res.statusCode ?? 0 }));
    });
    req.on('timeout', () => {
      finish({ status: 'timeout' });
      req.destroy();
    });
    // The server may answer (413, 431) and close before the whole body is sent.
    req.on('error', (error) => finish({ status: 'no-response', detail: error.message }));
    req.end(r.body);
  });
}
