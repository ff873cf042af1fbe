import { Controller, Get } from '@nestjs/common';
import * as net from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import request from 'supertest';
import { Public } from '../src/common/auth/decorators';
import { Clock } from '../src/common/clock';
import { createTestApp, TestApp } from './utils/app';
import { FakeClock } from './utils/clock';
import { bearerToken, signupBody } from './factories/user.factory';
import { actor, createWorkflow, graph, trigger, upgrade } from './factories/workflow.factory';

/** Test-only route that fails the way a bug would, to see what a 500 looks like. */
@Controller('test-only')
class BrokenController {
  @Public()
  @Get('boom')
  boom(): never {
    throw new Error('database password is hunter2 at /srv/app.ts:12');
  }
}

const errorShape = (status: number, code: string) => ({
  success: false,
  status: 'error',
  message: expect.any(String),
  code,
});

describe('error envelope for framework rejections (docs/contract.md §1.5)', () => {
  let t: TestApp;
  let auth: { Authorization: string };
  beforeAll(async () => {
    t = await createTestApp({ BODY_LIMIT: '1kb' }, { controllers: [BrokenController] });
    auth = { Authorization: `Bearer ${(await bearerToken(t.url)).token}` };
  });
  afterAll(() => t.close());

  it('malformed JSON → 400 invalid_json, without echoing the body', async () => {
    const res = await request(t.url)
      .post('/api/auth/signup')
      .set('Content-Type', 'application/json')
      .send('{"email": "x@y.z", oops}')
      .expect(400);
    expect(res.body).toEqual(errorShape(400, 'invalid_json'));
    expect(res.body.message).not.toContain('oops');
  });

  it('JSON nested 128 levels or deeper → 400 invalid_json (it used to overflow the validators’ stack: 500)', async () => {
    for (const body of [`${'{"a":'.repeat(150)}1${'}'.repeat(150)}`, `${'['.repeat(300)}${']'.repeat(300)}`]) {
      const res = await request(t.url)
        .post('/api/workflows')
        .set(auth)
        .set('Content-Type', 'application/json')
        .send(body);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        ...errorShape(400, 'invalid_json'),
        message: 'Request body is nested deeper than 127 levels',
      });
    }
    const ok = `${'['.repeat(127)}${']'.repeat(127)}`;
    expect(
      (await request(t.url).post('/api/workflows').set(auth).set('Content-Type', 'application/json').send(ok)).status,
    ).toBe(422);
  });

  it('an empty body with a JSON content type → 400', async () => {
    const res = await request(t.url).post('/api/auth/signup').set('Content-Type', 'application/json').expect(400);
    expect(res.body).toEqual(errorShape(400, 'invalid_request'));
    expect(res.body.message).toBe('Request body is required');
  });

  it('well-formed JSON of the wrong shape → 422', async () => {
    const res = await request(t.url).post('/api/auth/signup').send([signupBody()]).expect(422);
    expect(res.body).toEqual(errorShape(422, 'invalid_request'));
  });

  it('a non-JSON content type → 415', async () => {
    const res = await request(t.url)
      .post('/api/auth/signup')
      .set('Content-Type', 'text/plain')
      .send('email=x')
      .expect(415);
    expect(res.body).toEqual(errorShape(415, 'unsupported_media_type'));
    await request(t.url).post('/api/auth/signup').type('form').send({ email: 'x' }).expect(415);
  });

  it('no content type on a route that needs a body → 415', async () => {
    const res = await request(t.url).post('/api/workspaces').set(auth).expect(415);
    expect(res.body.code).toBe('unsupported_media_type');
  });

  it('a body over BODY_LIMIT → 413', async () => {
    const res = await request(t.url)
      .post('/api/auth/signup')
      .send({ ...signupBody(), company_name: 'x'.repeat(4096) })
      .expect(413);
    expect(res.body).toEqual(errorShape(413, 'payload_too_large'));
  });

  it('a body with a byte order mark, or sent compressed (gzip, deflate, br), is read like any other', async () => {
    const body = JSON.stringify({ email: 'nobody@example.com', password: 'wrong-password-1' });
    // fetch, not supertest: supertest sends a Buffer with a JSON content type as JSON of the Buffer.
    const login = async (payload: Buffer, encoding?: string) => {
      const res = await fetch(`${t.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...(encoding ? { 'Content-Encoding': encoding } : {}) },
        body: payload,
      });
      return { status: res.status, body: (await res.json()) as unknown };
    };
    // 401: the credentials were read (and are wrong), not refused as unreadable.
    expect((await login(Buffer.from(`\uFEFF${body}`))).status).toBe(401);
    expect((await login(gzipSync(body), 'gzip')).status).toBe(401);
    expect((await login(deflateSync(body), 'deflate')).status).toBe(401);
    expect((await login(brotliCompressSync(body), 'br')).status).toBe(401);
    expect(await login(Buffer.from(body), 'compress')).toEqual({
      status: 415,
      body: errorShape(415, 'unsupported_media_type'),
    });
    // The limit applies to what the body inflates to.
    expect(await login(gzipSync(JSON.stringify({ email: 'x'.repeat(100_000) })), 'gzip')).toEqual({
      status: 413,
      body: errorShape(413, 'payload_too_large'),
    });
  });

  it('a URL the router cannot read → 400 in the envelope, with the usual headers', async () => {
    const res = await request(t.url).get('/api/workflows/%E0%A4%A').expect(400);
    expect(res.body).toEqual(errorShape(400, 'invalid_request'));
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    const long = await request(t.url).get(`/api/workflows/${'a'.repeat(1_500)}`);
    expect(long.status).toBeGreaterThanOrEqual(400);
    expect(long.status).toBeLessThan(500);
    expect(long.body).toMatchObject({ success: false, status: 'error' });
  });

  it('headers past 16 KB → 431 in the envelope, and the connection says it closes', async () => {
    const answer = await new Promise<string>((resolve) => {
      const socket = net.connect(Number(new URL(t.url).port), '127.0.0.1');
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      socket.on('close', () => resolve(text));
      socket.write(`GET /api/auth/me HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    });
    const [head, body] = answer.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 431 /);
    expect(head).toMatch(/\r\nConnection: close\r\n/i);
    expect(JSON.parse(body)).toEqual(errorShape(431, 'invalid_request'));
  });

  it('a field of the wrong type names the field', async () => {
    const res = await request(t.url)
      .post('/api/auth/login')
      .send({ email: 'a@b.c', password: 'x', remember: 'yes' })
      .expect(400);
    expect(res.body.message).toMatch(/remember/);
  });

  it('a malformed UUID in a path → 400 naming the parameter', async () => {
    const res = await request(t.url).get('/api/workspaces/not-a-uuid/members').set(auth).expect(400);
    expect(res.body).toEqual({ ...errorShape(400, 'invalid_request'), message: 'Invalid id: expected a UUID' });
    const key = await request(t.url).delete('/api/auth/api-keys/123').set(auth).expect(400);
    expect(key.body.message).toBe('Invalid keyId: expected a UUID');
  });

  it('an unknown route → 404 in the envelope', async () => {
    const res = await request(t.url).get('/api/nope').expect(404);
    expect(res.body).toEqual({ success: false, status: 'error', message: 'Not found', code: 'not_found' });
    await request(t.url).delete('/nothing/here').expect(404);
  });

  it('an unexpected error → 500 with an error id, no stack and no cause in the body; the id is logged', async () => {
    const res = await request(t.url).get('/test-only/boom').expect(500);
    expect(res.body).toEqual({
      success: false,
      status: 'error',
      code: 'internal_error',
      message: expect.stringMatching(/^Internal server error \(error id [0-9a-f-]{36}\)$/),
      error_id: expect.any(String),
    });
    expect(JSON.stringify(res.body)).not.toMatch(/hunter2|app\.ts|at /);
    expect(t.logs.some((line) => line.includes(res.body.error_id))).toBe(true);
  });

  it('every response carries a request id, echoed when the client sends a sane one', async () => {
    const generated = await request(t.url).get('/healthz').expect(200);
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const echoed = await request(t.url).get('/healthz').set('x-request-id', 'trace-123').expect(200);
    expect(echoed.headers['x-request-id']).toBe('trace-123');
    const ignored = await request(t.url).get('/healthz').set('x-request-id', 'bad id with spaces').expect(200);
    expect(ignored.headers['x-request-id']).not.toBe('bad id with spaces');
  });
});

describe('rate limiting (docs/contract.md §1.3)', () => {
  let t: TestApp;
  // Buckets refill by the app's clock: time moves only when the test says so, however slow the machine.
  const clock = new FakeClock(new Date());
  beforeAll(async () => {
    t = await createTestApp(
      {
        RATE_LIMIT_PER_SECOND: '1',
        RATE_LIMIT_BURST: '3',
        AUTH_RATE_LIMIT_PER_MINUTE: '1',
        AUTH_RATE_LIMIT_BURST: '2',
      },
      { overrides: [{ provide: Clock, useValue: clock }] },
    );
  });
  afterAll(() => t.close());

  it('answers 429 in the envelope with RateLimit headers once the burst is spent', async () => {
    const statuses: number[] = [];
    let last: request.Response | undefined;
    for (let i = 0; i < 5; i += 1) {
      last = await request(t.url).get('/api/workspaces');
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
    expect(statuses[4]).toBe(429);
    expect(last!.body).toEqual({
      success: false,
      status: 'error',
      message: 'Too many requests. Please wait a moment and try again.',
      code: 'rate_limited',
    });
    expect(last!.headers['ratelimit-limit']).toBe('3');
    expect(last!.headers['ratelimit-remaining']).toBe('0');
    expect(Number(last!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  it('refills one token per second of the clock', async () => {
    await request(t.url).get('/api/workspaces').expect(429);
    clock.advance(1_000);
    await request(t.url).get('/api/workspaces').expect(401);
    await request(t.url).get('/api/workspaces').expect(429);
  });

  it('never throttles health probes', async () => {
    for (let i = 0; i < 6; i += 1) await request(t.url).get('/healthz').expect(200);
  });
});

describe('stricter rate limit on signup and login', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Frozen time: no token comes back between the attempts, however long they take.
    t = await createTestApp(
      { AUTH_RATE_LIMIT_PER_MINUTE: '1', AUTH_RATE_LIMIT_BURST: '2' },
      { overrides: [{ provide: Clock, useValue: new FakeClock(new Date()) }] },
    );
  });
  afterAll(() => t.close());

  it('limits login attempts per IP while other routes stay open', async () => {
    const attempt = () =>
      request(t.url).post('/api/auth/login').send({ email: 'x@example.com', password: 'whatever1' });
    expect((await attempt()).status).toBe(401);
    expect((await attempt()).status).toBe(401);
    const limited = await attempt();
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('rate_limited');
    await request(t.url).get('/api/auth/me').expect(401);
  });
});

describe('the stricter limit follows the route, not its spelling', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Frozen time: no token comes back between the attempts, however long they take.
    t = await createTestApp(
      { AUTH_RATE_LIMIT_PER_MINUTE: '1', AUTH_RATE_LIMIT_BURST: '2' },
      { overrides: [{ provide: Clock, useValue: new FakeClock(new Date()) }] },
    );
  });
  afterAll(() => t.close());

  it('login and signup spelled with capitals or a trailing slash share the one bucket', async () => {
    const login = (path: string) => request(t.url).post(path).send({ email: 'x@example.com', password: 'whatever1' });
    // Each spelling reaches the login handler (routes ignore case and a trailing slash)...
    expect((await login('/api/auth/login/')).status).toBe(401);
    expect((await login('/API/AUTH/LOGIN')).status).toBe(401);
    // ...so each counted: the burst of two is spent, whichever spelling comes next.
    for (const path of ['/api/auth/login', '/Api/Auth/Login/', '/api/auth/signup/', '/API/AUTH/SIGNUP']) {
      const limited = await login(path);
      expect(limited.status).toBe(429);
      expect(limited.body.code).toBe('rate_limited');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
  });
});

describe('bad input that used to reach the database answers 4xx on both dialects', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ RUNLOOM_ROLES: 'api' });
  });
  afterAll(() => t.close());

  it('run bodies, paging, concurrency and text that is not valid Unicode', async () => {
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const wf = await createWorkflow(t.url, owner, graph([trigger()]), ws);
    const run = (body: unknown) =>
      request(t.url)
        .post(`/api/workflows/${wf.id}/run`)
        .set(owner.auth)
        .set('content-type', 'application/json')
        .send(typeof body === 'string' ? body : JSON.stringify(body));
    const refused = async (res: request.Test, status: number, code: string, message: RegExp) => {
      const { body } = await res.expect(status);
      expect(body).toEqual({ ...errorShape(status, code), message: expect.stringMatching(message) });
    };
    await refused(run({ priority: 'zzz' }), 400, 'invalid_request', /priority/);
    await refused(run({ priority: 1e20 }), 400, 'invalid_request', /priority/);
    await refused(run({ idempotency_key: 'k'.repeat(1 << 20) }), 400, 'invalid_request', /idempotency_key/);
    await refused(run('{"context":{"a":"\\ud800"}}'), 400, 'invalid_json', /not valid Unicode/);
    await refused(run('{"context":{"\\udc00":1}}'), 400, 'invalid_json', /not valid Unicode/);
    const runs = `/api/workflows/${wf.id}/runs`;
    await refused(
      request(t.url).get(`${runs}?page=1e20`).set(owner.auth),
      400,
      'invalid_request',
      /page must be <= 100000/,
    );
    await refused(
      request(t.url).get(`/api/workflows/${wf.id}/dead-letters?page=99999999999`).set(owner.auth),
      400,
      'invalid_request',
      /page/,
    );
    for (const limit of [2 ** 31, 1e300]) {
      await refused(
        request(t.url).post(`/api/workflows/${wf.id}/concurrency`).set(owner.auth).send({ limit }),
        400,
        'invalid_request',
        /limit must be <= 10000/,
      );
    }
    await refused(
      request(t.url)
        .post('/api/workflows')
        .set(owner.auth)
        .set('content-type', 'application/json')
        .send(`{"name":"x\\ud800","data":{"nodes":[],"edges":[]},"workspace_id":"${ws}"}`),
      400,
      'invalid_json',
      /not valid Unicode/,
    );
    // Nothing was queued by the refused runs; valid input still works.
    expect((await request(t.url).get(runs).set(owner.auth).expect(200)).body.runs).toEqual([]);
    await run({ priority: 5, idempotency_key: 'k'.repeat(255), context: { ok: '\ud83d\ude00' } }).expect(202);
    await request(t.url).get(`${runs}?page=100000&per_page=1e20`).set(owner.auth).expect(200);
    await request(t.url)
      .post(`/api/workflows/${wf.id}/concurrency`)
      .set(owner.auth)
      .send({ limit: 10_000 })
      .expect(200);
  });
});
