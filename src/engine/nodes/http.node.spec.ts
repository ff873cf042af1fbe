import { createServer, IncomingHttpHeaders } from 'node:http';
import { AddressInfo } from 'node:net';
import { UndiciOutboundHttp } from '../../egress/undici-outbound-http';
import { OutboundRequest, OutboundResponse } from '../../egress/outbound-http';
import { NodeError, type NodeContext } from '../node-types';
import { HttpNode } from './http.node';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

class CountingHttp extends UndiciOutboundHttp {
  readonly requests: OutboundRequest[] = [];
  override request(req: OutboundRequest): Promise<OutboundResponse> {
    this.requests.push(req);
    return super.request(req);
  }
}

const context = {
  Hook: { id: 42, name: 'Ada Lovelace', email: 'ada@example.com', tags: ['x', 'y'] },
  Login: { token: 'tok-123' },
};

describe('HttpNode (docs/contract.md §5.6 http)', () => {
  const seen: Seen[] = [];
  let slowArrived: () => void = () => undefined;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      if (path === '/slow') return slowArrived();
      if (path === '/fail') return res.writeHead(500, { 'Content-Type': 'text/plain' }).end('boom');
      if (path === '/text') return res.writeHead(200, { 'Content-Type': 'text/plain' }).end('{"not":"parsed"}');
      if (path === '/bad-json') return res.writeHead(200, { 'Content-Type': 'application/json' }).end('{oops');
      if (path === '/moved') return res.writeHead(302, { Location: '/json' }).end();
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'X-Reply': 'yes' });
      res.end(JSON.stringify({ ok: true, path }));
    });
  });
  let base: string;
  let closedPort: number;
  const http = new CountingHttp({ maxResponseBytes: 1024 * 1024 });

  const listen = (s: typeof server) =>
    new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));

  beforeAll(async () => {
    base = `http://127.0.0.1:${await listen(server)}`;
    const probe = createServer();
    closedPort = await listen(probe);
    await new Promise((resolve) => probe.close(resolve));
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => {
    seen.length = 0;
    http.requests.length = 0;
  });

  function nodeContext(signal = new AbortController().signal): NodeContext {
    return {
      context,
      run: { runId: 'run-1', workflowId: 'wf-1', ownerId: 'user-1', workspaceId: null },
      signal,
      http,
      now: () => new Date(),
    };
  }

  const run = (params: Record<string, unknown>, extra: Record<string, unknown> = {}, signal?: AbortSignal) =>
    new HttpNode().execute(
      { id: 'http-1', type: 'action', data: { actionType: 'http', params, ...extra } },
      nodeContext(signal),
    );

  const failure = async (promise: Promise<unknown>): Promise<NodeError> => {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NodeError);
    return err as NodeError;
  };

  it('requires a URL', async () => {
    for (const url of [undefined, '', '   ', '{{Hook.missing}}']) {
      expect((await failure(run({ url }))).message).toBe('URL is required');
    }
  });

  it('refuses params of the wrong type before calling, naming the field and never its value', async () => {
    const secret = 's3cret-value';
    const cases: [Record<string, unknown>, string][] = [
      [{ url: 42 }, 'url'],
      [{ method: 5 }, 'method'],
      [{ headers: `X-Api-Key: ${secret}` }, 'headers'],
      [{ headers: [{ key: 'X-Api-Key', value: { secret } }] }, 'headers.0.value'],
      [{ queryParams: [{ key: 7, value: secret }] }, 'queryParams.0.key'],
      [{ formBody: [secret] }, 'formBody.0'],
      [{ body: 42 }, 'body'],
      [{ authType: ['basic'] }, 'authType'],
      [{ password: 12345, username: secret }, 'password'],
      [{ token: { value: secret } }, 'token'],
      [{ followRedirects: 'sometimes' }, 'followRedirects'],
    ];
    for (const [params, field] of cases) {
      const err = await failure(run({ url: `${base}/a?k=${secret}`, authType: 'bearer', ...params }));
      expect([field, err.message]).toEqual([field, `Invalid node parameters: ${field}`]);
    }
    expect((await failure(run({ url: null }))).message).toBe('URL is required');
    await expect(
      new HttpNode().execute({ id: 'h', type: 'action', data: { params: 'GET /' } }, nodeContext()),
    ).rejects.toThrow('Invalid node parameters: params must be an object');
    expect(seen).toHaveLength(0);
  });

  it('accepts what the web client sends: text numbers and flags, cleared fields, rows without a key, UI fields', async () => {
    await run(
      {
        url: `${base}/a`,
        method: 'POST',
        bodyType: 'form',
        headers: [
          { key: 'X-Count', value: 3, id: 'row-1' },
          { key: 'X-Flag', value: true },
          { value: 'no key' },
          { key: '', value: '' },
          { key: 'X-Null', value: null },
        ],
        queryParams: '',
        formBody: [{ key: 'n', value: 1.5 }, {}],
        body: null,
        authType: null,
        followRedirects: '',
        uiCollapsed: true,
        ui: { tab: 'headers' },
      },
      { timeout: '5000', retries: '1' },
    );
    expect(seen[0].url).toBe('/a');
    expect(seen[0].headers['x-count']).toBe('3');
    expect(seen[0].headers['x-flag']).toBe('true');
    expect(seen[0].headers['x-null']).toBe('');
    expect(seen[0].body).toBe('n=1.5');
    expect(http.requests[0]).toMatchObject({ timeoutMs: 5000, followRedirects: true });

    await run({ url: `${base}/moved`, followRedirects: 'FALSE', headers: null, formBody: null });
    await run({ url: `${base}/moved`, followRedirects: 'true' });
    expect(http.requests.slice(1).map((r) => r.followRedirects)).toEqual([false, true]);
  });

  it('templates the URL, header values and query params, and returns status, headers and parsed JSON', async () => {
    const result = await run({
      url: `${base}/users/{{Hook.id}}?x=1`,
      headers: [
        { key: 'X-Name', value: '{{Hook.name}}' },
        { key: 'Bad Header', value: 'skipped' },
        { key: 'X-Newline', value: 'a\r\nInjected: 1' },
      ],
      queryParams: [
        { key: 'email', value: '{{Hook.email}}' },
        { key: 'q&a', value: 'x y/z' },
      ],
    });
    expect(result.outputs).toEqual({
      status: 200,
      headers: expect.objectContaining({ 'content-type': 'application/json; charset=utf-8', 'x-reply': 'yes' }),
      body: { ok: true, path: '/users/42' },
    });
    expect(seen[0].method).toBe('GET');
    expect(seen[0].url).toBe('/users/42?x=1&email=ada%40example.com&q%26a=x%20y%2Fz');
    expect(seen[0].headers['x-name']).toBe('Ada Lovelace');
    expect(seen[0].headers['x-newline']).toBeUndefined();
    expect(seen[0].headers.injected).toBeUndefined();
    expect(http.requests[0]).toMatchObject({
      timeoutMs: 30000,
      followRedirects: true,
      origin: { workflowId: 'wf-1', runId: 'run-1', nodeId: 'http-1', ownerId: 'user-1' },
    });
  });

  it('uses the exact upper-case method, else GET, and ignores the body for GET/DELETE/HEAD', async () => {
    await run({ url: `${base}/a`, method: 'patch', bodyType: 'raw', body: 'ignored' });
    await run({ url: `${base}/a`, method: 'DELETE', bodyType: 'raw', body: 'ignored' });
    await run({ url: `${base}/a`, method: 'PATCH', bodyType: 'raw', body: 'sent' });
    expect(seen.map((s) => [s.method, s.body])).toEqual([
      ['GET', ''],
      ['DELETE', ''],
      ['PATCH', 'sent'],
    ]);
  });

  it('sends a JSON body with application/json when it parses, else as raw text', async () => {
    await run({
      url: `${base}/a`,
      method: 'POST',
      bodyType: 'json',
      body: '{"id": {{Hook.id}}, "tags": {{Hook.tags}}}',
    });
    expect(JSON.parse(seen[0].body)).toEqual({ id: 42, tags: ['x', 'y'] });
    expect(seen[0].headers['content-type']).toBe('application/json');

    await run({ url: `${base}/a`, method: 'POST', bodyType: 'json', body: 'hello {{Hook.name}}' });
    expect(seen[1].body).toBe('hello Ada Lovelace');
    expect(seen[1].headers['content-type']).not.toBe('application/json');

    await run({ url: `${base}/a`, method: 'POST', bodyType: 'json', body: '' });
    expect(seen[2].body).toBe('');
    expect(http.requests[2].body).toBeUndefined();

    await run({
      url: `${base}/a`,
      method: 'PUT',
      bodyType: 'json',
      body: '{"a":1}',
      headers: [{ key: 'content-type', value: 'application/vnd.api+json' }],
    });
    expect(seen[3].headers['content-type']).toBe('application/vnd.api+json');
  });

  it('url-encodes a form body', async () => {
    await run({
      url: `${base}/a`,
      method: 'POST',
      bodyType: 'form',
      formBody: [
        { key: 'name', value: '{{Hook.name}}' },
        { key: 'email', value: '{{Hook.email}}' },
      ],
    });
    expect(seen[0].headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(seen[0].body))).toEqual({
      name: 'Ada Lovelace',
      email: 'ada@example.com',
    });
  });

  it('sends a raw body templated', async () => {
    await run({ url: `${base}/a`, method: 'POST', body: 'id={{Hook.id}}' });
    expect(seen[0].body).toBe('id=42');
  });

  it('adds basic auth (literal) and bearer auth (templated) headers', async () => {
    await run({ url: `${base}/a`, authType: 'basic', username: 'ada', password: 'p{{w}}' });
    expect(seen[0].headers.authorization).toBe(`Basic ${Buffer.from('ada:p{{w}}').toString('base64')}`);

    await run({
      url: `${base}/a`,
      authType: 'bearer',
      token: '{{Login.token}}',
      headers: [{ key: 'Authorization', value: 'overridden' }],
    });
    expect(seen[1].headers.authorization).toBe('Bearer tok-123');

    await run({ url: `${base}/a`, authType: 'none', token: 'unused' });
    expect(seen[2].headers.authorization).toBeUndefined();
  });

  it('treats any HTTP status as success and keeps non-JSON bodies as text', async () => {
    await expect(run({ url: `${base}/fail` })).resolves.toMatchObject({ outputs: { status: 500, body: 'boom' } });
    await expect(run({ url: `${base}/text` })).resolves.toMatchObject({ outputs: { body: '{"not":"parsed"}' } });
    await expect(run({ url: `${base}/bad-json` })).resolves.toMatchObject({ outputs: { body: '{oops' } });
  });

  it('follows redirects unless followRedirects is false', async () => {
    await expect(run({ url: `${base}/moved` })).resolves.toMatchObject({
      outputs: { status: 200, body: { path: '/json' } },
    });
    await expect(run({ url: `${base}/moved`, followRedirects: false })).resolves.toMatchObject({
      outputs: { status: 302 },
    });
  });

  it('retries transport errors: retries + 1 attempts in total, then the transport message', async () => {
    const url = `http://127.0.0.1:${closedPort}/x?apiKey=s3cret`;
    const err = await failure(run({ url, authType: 'bearer', token: 's3cret' }, { retries: 2 }));
    expect(http.requests).toHaveLength(3);
    expect(err.message).toContain('ECONNREFUSED');
    expect(err.message).not.toContain('s3cret');

    http.requests.length = 0;
    await failure(run({ url }));
    expect(http.requests).toHaveLength(1);
  });

  it('uses the node timeout (ms)', async () => {
    const arrived = new Promise<void>((resolve) => (slowArrived = resolve));
    const err = await failure(run({ url: `${base}/slow` }, { timeout: 100 }));
    await arrived;
    expect(err.message).toBe('Request timed out after 100 ms');
    expect(http.requests[0].timeoutMs).toBe(100);
  });

  it('stops promptly when the run is canceled during a slow response', async () => {
    const controller = new AbortController();
    const arrived = new Promise<void>((resolve) => (slowArrived = resolve));
    // The server never answers: only the abort ends the call (a timeout would say so, and retry).
    const pending = failure(run({ url: `${base}/slow` }, { retries: 3 }, controller.signal));
    await arrived;
    controller.abort();
    const err = await pending;
    expect(err.message).toBe('Request aborted');
    expect(http.requests).toHaveLength(1);
  });

  it('ends the retry sleep early when canceled', async () => {
    const controller = new AbortController();
    const url = `http://127.0.0.1:${closedPort}/x`;
    const originalRequest = http.request.bind(http);
    const spy = jest.spyOn(http, 'request').mockImplementation(async (req) => {
      const pending = originalRequest(req);
      // Cancel right after the first failure, while the node is sleeping before attempt 2.
      void pending.catch(() => setImmediate(() => controller.abort()));
      return pending;
    });
    // The retry sleep's timer never fires on its own: only the abort can end it.
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    try {
      const err = await failure(run({ url }, { retries: 5 }, controller.signal));
      expect(err.message).toBe('Request aborted');
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      jest.useRealTimers();
      spy.mockRestore();
    }
  });
});
