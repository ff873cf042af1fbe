import * as http from 'node:http';
import { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * A real HTTP server on 127.0.0.1 for workflows to call. Every request is recorded; `/hold/<key>`
 * requests wait until `release(key)` (or the client goes away), so tests can catch a node
 * mid-flight without sleeping; `/flag/<key>` reports a switch the test flips; `/status/<code>`
 * answers that status; `/slow/<ms>/…` echoes after `ms` (a call that takes time, for load tests);
 * `/lone-surrogate` answers JSON holding lone surrogates; `/echo-request` answers the URL and headers;
 * everything else echoes. `maxInFlight` counts held and slow requests at once.
 */
export class TargetServer {
  readonly seen: SeenRequest[] = [];
  private server!: http.Server;
  private held = new Map<string, http.ServerResponse[]>();
  private inFlight = 0;
  maxInFlight = 0;
  /** The most requests held at once, per `/hold/<key>`. */
  readonly maxHeld = new Map<string, number>();
  /** `/flag/<key>` answers `{"on": true}` once the key is in here. */
  readonly flags = new Set<string>();
  url = '';

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => this.handle(req, res, body));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
    const path = (req.url ?? '/').split('?')[0];
    this.seen.push({ method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body });
    const hold = /^\/hold\/([^/]+)/.exec(path);
    if (hold) {
      this.inFlight += 1;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      const list = this.held.get(hold[1]) ?? [];
      list.push(res);
      this.held.set(hold[1], list);
      this.maxHeld.set(hold[1], Math.max(this.maxHeld.get(hold[1]) ?? 0, this.heldCount(hold[1])));
      res.on('close', () => (this.inFlight -= 1));
      return;
    }
    const flag = /^\/flag\/([^/]+)/.exec(path);
    if (flag) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ on: this.flags.has(flag[1]) }));
      return;
    }
    if (path === '/echo-request') {
      // What a debugging endpoint answers: the request line and headers as received.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ url: req.url, headers: req.headers }));
      return;
    }
    if (path === '/lone-surrogate') {
      // Valid JSON that is not valid text: a lone surrogate in a value and in a key.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"text":"a\\ud800b","\\udc00key":1}');
      return;
    }
    const slow = /^\/slow\/(\d+)\//.exec(path);
    if (slow) {
      this.inFlight += 1;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      res.on('close', () => (this.inFlight -= 1));
      const timer = setTimeout(() => this.echo(req, res, path, body), Number(slow[1]));
      res.on('close', () => clearTimeout(timer));
      return;
    }
    this.echo(req, res, path, body);
  }

  private echo(req: http.IncomingMessage, res: http.ServerResponse, path: string, body: string): void {
    if (res.destroyed) return;
    const status = /^\/status\/(\d{3})/.exec(path);
    res.writeHead(status ? Number(status[1]) : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: true, path, method: req.method, body: body ? safeJson(body) : null }));
  }

  /** Answers every held request for `key` (and future ones keep waiting). */
  release(key: string): number {
    const list = this.held.get(key) ?? [];
    this.held.delete(key);
    for (const res of list) {
      if (!res.writableEnded) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ released: key }));
      }
    }
    return list.length;
  }

  heldCount(key: string): number {
    return (this.held.get(key) ?? []).filter((r) => !r.writableEnded && !r.destroyed).length;
  }

  count(pathPrefix: string): number {
    return this.seen.filter((r) => r.path.startsWith(pathPrefix)).length;
  }

  async stop(): Promise<void> {
    for (const key of [...this.held.keys()]) this.release(key);
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
