import request from 'supertest';
import { DataSource } from 'typeorm';
import { createTestApp, TestApp } from './utils/app';
import { signupAndLogin, signupBody } from './factories/user.factory';

describe('health, readiness, OpenAPI and logs', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('GET /healthz → {"status":"ok"}', async () => {
    const res = await request(t.url).get('/healthz').expect(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('GET /readyz checks the database', async () => {
    const res = await request(t.url).get('/readyz').expect(200);
    expect(res.body).toEqual({ status: 'ok', checks: { database: 'up', worker: 'up' } });
  });

  it('readiness fails with 503 in the envelope when the database is gone', async () => {
    const broken = await createTestApp();
    await broken.app.get(DataSource).destroy();
    const res = await request(broken.url).get('/readyz').expect(503);
    await request(broken.url).get('/healthz').expect(200);
    await broken.close();
    expect(res.body).toEqual({
      success: false,
      status: 'error',
      message: 'Database unavailable',
      code: 'service_unavailable',
      checks: { database: 'down', worker: 'up' },
    });
  });

  it('serves the OpenAPI document covering every route', async () => {
    const doc = (await request(t.url).get('/api/docs-json').expect(200)).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    const routes = t.routes
      .filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS')
      .map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`)
      .filter((r) => !r.includes('/api/docs'));
    expect(routes.length).toBeGreaterThan(15);
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
    );
    expect(routes.filter((r) => !documented.includes(r))).toEqual([]);
    await request(t.url).get('/api/docs').expect(200);
  });

  it('logs JSON lines with a request id and never passwords, cookies or tokens', async () => {
    const body = signupBody({ password: 'very-secret-password-123' });
    const browser = await signupAndLogin(t.url, body);
    await browser.agent.get('/api/auth/me').expect(200);
    const key = await browser.agent
      .post('/api/auth/api-keys')
      .set('x-csrf-token', browser.csrf)
      .send({ name: 'k' })
      .expect(201);
    await request(t.url)
      .get('/api/auth/me?token=query-secret')
      .set('Authorization', `Bearer ${key.body.token}`)
      .expect(200);
    const session = (await browser.agent.jar.getCookie('dsentr_session', {
      domain: '127.0.0.1',
      path: '/',
      secure: false,
      script: false,
    }))!.value;

    const requestLines = t.logs.map((l) => JSON.parse(l)).filter((l) => l.req);
    expect(requestLines.length).toBeGreaterThan(3);
    for (const line of requestLines) expect(line.req.id).toEqual(expect.any(String));
    const all = t.logs.join('\n');
    for (const secret of ['very-secret-password-123', session, browser.csrf, key.body.token, 'query-secret']) {
      expect(all).not.toContain(secret);
    }
  });
});
