import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { UndiciOutboundHttp } from './undici-outbound-http';
import { OutboundError, OutboundRequest } from './outbound-http';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

async function rejection(promise: Promise<unknown>): Promise<OutboundError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OutboundError);
  return err as OutboundError;
}

describe('UndiciOutboundHttp', () => {
  let hangArrived: () => void = () => undefined;
  let trickling: ServerResponse | undefined;
  const routes: Record<string, Handler> = {
    '/echo': (req, body, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('X-Custom', 'Yes');
      res.setHeader('Set-Cookie', ['a=1', 'b=2']);
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body }));
    },
    '/relative': (_req, _body, res) => res.writeHead(302, { Location: 'echo?from=relative' }).end(),
    '/chain/1': (_req, _body, res) => res.writeHead(301, { Location: '/chain/2' }).end(),
    '/chain/2': (_req, _body, res) => res.writeHead(307, { Location: '/chain/3' }).end('moved'),
    '/chain/3': (_req, _body, res) => res.writeHead(308, { Location: '/echo?from=chain' }).end(),
    '/loop': (_req, _body, res) => res.writeHead(302, { Location: '/loop' }).end(),
    '/see-other': (_req, _body, res) => res.writeHead(303, { Location: '/echo' }).end(),
    '/temporary': (_req, _body, res) => res.writeHead(307, { Location: '/echo' }).end(),
    '/found': (_req, _body, res) => res.writeHead(302, { Location: '/echo' }).end(),
    '/hang': () => hangArrived(),
    '/slow-body': (_req, _body, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('partial');
    },
    // A redirect whose body never ends: the hop is left behind draining it.
    '/trickling-redirect': (_req, _body, res) => {
      trickling = res;
      res.writeHead(302, { Location: '/echo' });
      res.write('moving');
    },
    '/big': (_req, _body, res) => res.end('x'.repeat(2048)),
    '/big-chunked': (_req, _body, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      for (let i = 0; i < 8; i++) res.write('y'.repeat(256));
      res.end();
    },
    '/exact': (_req, _body, res) => res.end('z'.repeat(1024)),
    '/gzip': (_req, _body, res) =>
      res
        .writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' })
        .end(gzipSync('{"zipped":true}')),
    '/br': (_req, _body, res) =>
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Encoding': 'br' }).end(brotliCompressSync('brotli')),
    '/deflate': (_req, _body, res) => res.writeHead(200, { 'Content-Encoding': 'deflate' }).end(deflateSync('wrapped')),
    '/deflate-raw': (_req, _body, res) =>
      res.writeHead(200, { 'Content-Encoding': 'deflate' }).end(deflateRawSync('raw')),
    '/twice': (_req, _body, res) =>
      res.writeHead(200, { 'Content-Encoding': 'gzip, br' }).end(brotliCompressSync(gzipSync('twice'))),
    '/corrupt': (_req, _body, res) => res.writeHead(200, { 'Content-Encoding': 'gzip' }).end('not gzip at all'),
    '/unknown-coding': (_req, _body, res) => res.writeHead(200, { 'Content-Encoding': 'x-custom' }).end('as is'),
    // 1 KB on the wire, a megabyte once inflated.
    '/bomb': (_req, _body, res) =>
      res.writeHead(200, { 'Content-Encoding': 'gzip' }).end(gzipSync(Buffer.alloc(1 << 20, 'a'))),
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const handler = routes[new URL(req.url ?? '/', 'http://x').pathname];
      if (handler) handler(req, Buffer.concat(chunks).toString('utf8'), res);
      else res.writeHead(404).end('not found');
    });
  });
  let base: string;
  let closedPort: number;
  const sut = new UndiciOutboundHttp({ maxResponseBytes: 1024 });

  const send = (over: Partial<OutboundRequest> & { path?: string }) => {
    const { path, ...rest } = over;
    return sut.request({ method: 'GET', url: `${base}${path ?? '/echo'}`, timeoutMs: 5000, ...rest });
  };
  const echoed = (body: Buffer) =>
    JSON.parse(body.toString('utf8')) as {
      method: string;
      url: string;
      headers: Record<string, string>;
      body: string;
    };

  beforeAll(async () => {
    base = `http://127.0.0.1:${await listen(server)}`;
    const probe = createServer();
    closedPort = await listen(probe);
    await new Promise((resolve) => probe.close(resolve));
  });

  afterAll(async () => {
    await sut.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends a GET and returns status, lower-cased headers, body and final URL', async () => {
    const res = await send({ headers: { 'X-Trace': 'abc' } });
    expect(res.status).toBe(200);
    expect(res.url).toBe(`${base}/echo`);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['x-custom']).toBe('Yes');
    expect(res.headers['set-cookie']).toBe('a=1, b=2');
    const seen = echoed(res.body);
    expect(seen.method).toBe('GET');
    expect(seen.headers['x-trace']).toBe('abc');
  });

  it('sends a POST body as a string or a Buffer', async () => {
    const res = await send({ method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'hello' });
    expect(echoed(res.body)).toMatchObject({
      method: 'POST',
      body: 'hello',
      headers: { 'content-type': 'text/plain' },
    });
    const put = await send({ method: 'PUT', body: Buffer.from('bytes') });
    expect(echoed(put.body)).toMatchObject({ method: 'PUT', body: 'bytes' });
  });

  it('returns a non-2xx status as a response', async () => {
    const res = await send({ path: '/missing' });
    expect(res.status).toBe(404);
    expect(res.body.toString()).toBe('not found');
  });

  it('follows a relative redirect', async () => {
    const res = await send({ path: '/relative' });
    expect(res.status).toBe(200);
    expect(res.url).toBe(`${base}/echo?from=relative`);
    expect(echoed(res.body).url).toBe('/echo?from=relative');
  });

  it('follows a chain of 301/307/308 and keeps the method and body on 307/308', async () => {
    const res = await send({ path: '/chain/1' });
    expect(echoed(res.body).url).toBe('/echo?from=chain');
    const post = await send({ path: '/temporary', method: 'POST', body: 'kept' });
    expect(echoed(post.body)).toMatchObject({ method: 'POST', body: 'kept' });
  });

  it('switches to GET without a body on 303, and on 302 for a POST', async () => {
    for (const path of ['/see-other', '/found']) {
      const res = await send({ path, method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'dropped' });
      const seen = echoed(res.body);
      expect(seen).toMatchObject({ method: 'GET', body: '' });
      expect(seen.headers['content-type']).toBeUndefined();
    }
    const put = await send({ path: '/see-other', method: 'PUT', body: 'dropped' });
    expect(echoed(put.body).method).toBe('GET');
  });

  it('returns the 3xx itself when followRedirects is false', async () => {
    const res = await send({ path: '/relative', followRedirects: false });
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('echo?from=relative');
  });

  it('stops draining the bodies of redirects it left behind once the request ends', async () => {
    const res = await send({ path: '/trickling-redirect' });
    expect(echoed(res.body).url).toBe('/echo');
    // Without it the hop's connection stays held, past the request's deadline, until undici's idle timeout.
    const hop = trickling!;
    const deadline = Date.now() + 5_000;
    while (!hop.destroyed && !hop.writableEnded && !hop.socket?.destroyed) {
      if (Date.now() > deadline) throw new Error("the redirect's body was still being read");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  });

  it('fails a redirect loop after maxRedirects hops', async () => {
    const err = await rejection(send({ path: '/loop' }));
    expect(err.kind).toBe('redirects');
    const short = new UndiciOutboundHttp({ maxResponseBytes: 1024, maxRedirects: 2 });
    const hops: string[] = [];
    class Recording extends UndiciOutboundHttp {
      protected override async checkUrl(url: URL): Promise<void> {
        hops.push(url.pathname);
      }
    }
    await expect(short.request({ method: 'GET', url: `${base}/chain/1`, timeoutMs: 5000 })).rejects.toMatchObject({
      kind: 'redirects',
    });
    const recording = new Recording({ maxResponseBytes: 1024, maxRedirects: 3 });
    await recording.request({ method: 'GET', url: `${base}/chain/1`, timeoutMs: 5000 });
    expect(hops).toEqual(['/chain/1', '/chain/2', '/chain/3', '/echo']);
  });

  it('lets checkUrl stop a hop before it is contacted', async () => {
    class Blocking extends UndiciOutboundHttp {
      protected override async checkUrl(url: URL): Promise<void> {
        if (url.pathname === '/echo') throw new OutboundError('blocked', 'blocked');
      }
    }
    const blocking = new Blocking({ maxResponseBytes: 1024 });
    const err = await rejection(blocking.request({ method: 'GET', url: `${base}/relative`, timeoutMs: 5000 }));
    expect(err.kind).toBe('blocked');
  });

  it('drops every header the node set but Accept, User-Agent and the body ones when a redirect changes origin', async () => {
    const other = createServer((req, res) => res.end(JSON.stringify(req.headers)));
    const otherPort = await listen(other);
    routes['/elsewhere'] = (_req, _body, res) =>
      res.writeHead(307, { Location: `http://127.0.0.1:${otherPort}/x` }).end();
    routes['/same-origin'] = (_req, _body, res) => res.writeHead(307, { Location: '/echo-headers' }).end();
    routes['/echo-headers'] = (req, _body, res) => res.end(JSON.stringify(req.headers));
    const sent = {
      Authorization: 'Bearer s3cret',
      'X-Api-Key': 'k3y',
      'X-Auth-Token': 't0ken',
      Cookie: 'sid=1',
      Accept: 'application/json',
      'User-Agent': 'runloom-test',
      'Content-Type': 'application/json',
    };
    try {
      const res = await send({ path: '/elsewhere', method: 'POST', body: '{"a":1}', headers: sent });
      const headers = JSON.parse(res.body.toString()) as Record<string, string>;
      for (const name of ['authorization', 'x-api-key', 'x-auth-token', 'cookie'])
        expect(headers[name]).toBeUndefined();
      expect(headers).toMatchObject({
        accept: 'application/json',
        'user-agent': 'runloom-test',
        'content-type': 'application/json',
      });
      // Within one origin nothing is dropped.
      const same = JSON.parse((await send({ path: '/same-origin', headers: sent })).body.toString()) as Record<
        string,
        string
      >;
      expect(same).toMatchObject({ authorization: 'Bearer s3cret', 'x-api-key': 'k3y', 'x-auth-token': 't0ken' });
    } finally {
      other.closeAllConnections();
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it('times out a server that never answers', async () => {
    // The server never answers: only the timeout ends the request.
    const err = await rejection(send({ path: '/hang', timeoutMs: 150 }));
    expect(err.kind).toBe('timeout');
    expect(err.message).toBe('Request timed out after 150 ms');
  });

  it('counts the body read against the timeout', async () => {
    const err = await rejection(send({ path: '/slow-body', timeoutMs: 150 }));
    expect(err.kind).toBe('timeout');
  });

  it('aborts through the caller signal', async () => {
    const controller = new AbortController();
    const arrived = new Promise<void>((resolve) => (hangArrived = resolve));
    const pending = send({ path: '/hang', signal: controller.signal });
    await arrived;
    controller.abort();
    const err = await rejection(pending);
    expect(err).toMatchObject({ kind: 'aborted', message: 'Request aborted' });

    const err2 = await rejection(send({ signal: AbortSignal.abort() }));
    expect(err2.kind).toBe('aborted');
  });

  it('asks for compressed answers and reads them decompressed, as fetch did; the size limit counts what they inflate to', async () => {
    const seen = echoed((await send({})).body);
    expect(seen.headers).toMatchObject({
      accept: '*/*',
      'accept-encoding': 'gzip, deflate, br',
      'user-agent': 'Runloom',
    });
    expect(JSON.parse((await send({ path: '/gzip' })).body.toString())).toEqual({ zipped: true });
    expect((await send({ path: '/br' })).body.toString()).toBe('brotli');
    expect((await send({ path: '/deflate' })).body.toString()).toBe('wrapped');
    expect((await send({ path: '/deflate-raw' })).body.toString()).toBe('raw');
    expect((await send({ path: '/twice' })).body.toString()).toBe('twice');
    expect((await send({ path: '/unknown-coding' })).body.toString()).toBe('as is');
    const corrupt = await rejection(send({ path: '/corrupt' }));
    expect(corrupt).toMatchObject({ kind: 'network', message: 'Response body could not be decompressed' });
    const bomb = await rejection(send({ path: '/bomb' }));
    expect(bomb.kind).toBe('too_large');
    // A text body is typed as text unless the caller typed it.
    expect(echoed((await send({ method: 'POST', body: 'x' })).body).headers['content-type']).toBe(
      'text/plain;charset=UTF-8',
    );
  });

  it('cuts off a body larger than maxResponseBytes', async () => {
    for (const path of ['/big', '/big-chunked']) {
      const err = await rejection(send({ path }));
      expect(err.kind).toBe('too_large');
    }
    const exact = await send({ path: '/exact' });
    expect(exact.body.length).toBe(1024);
  });

  it('reports a refused connection with its code and without request details', async () => {
    const err = await rejection(
      sut.request({
        method: 'POST',
        url: `http://127.0.0.1:${closedPort}/x?key=s3cret`,
        headers: { Authorization: 'Bearer s3cret' },
        body: 's3cret',
        timeoutMs: 5000,
      }),
    );
    expect(err.kind).toBe('network');
    expect(err.message).toContain('ECONNREFUSED');
    expect(err.message).not.toContain('s3cret');
  });

  it('rejects schemes other than http and https', async () => {
    for (const url of ['ftp://127.0.0.1/x', 'file:///etc/passwd', 'data:text/plain,hi']) {
      const err = await rejection(sut.request({ method: 'GET', url, timeoutMs: 1000 }));
      expect(err).toMatchObject({ kind: 'network', message: 'Unsupported URL scheme' });
    }
    routes['/to-file'] = (_req, _body, res) => res.writeHead(302, { Location: 'file:///etc/passwd' }).end();
    const err = await rejection(send({ path: '/to-file' }));
    expect(err.message).toBe('Unsupported URL scheme');
  });
});
