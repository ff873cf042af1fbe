import request from 'supertest';
import { createTestApp, TestApp } from './utils/app';

describe('HTTPS-only security headers', () => {
  let t: TestApp;
  beforeAll(async () => {
    // A reverse proxy on this machine terminates TLS and says so with X-Forwarded-Proto.
    t = await createTestApp({ TRUST_PROXY: 'loopback' });
  });
  afterAll(() => t.close());

  it('over plain HTTP: no upgrade-insecure-requests and no HSTS, the rest of the policy stays', async () => {
    for (const page of ['/healthz', '/monitor', '/api/docs/']) {
      const res = await request(t.url).get(page).expect(200);
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
      expect(res.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
      expect(res.headers['strict-transport-security']).toBeUndefined();
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('over HTTPS (a trusted proxy saying so): both are sent', async () => {
    const res = await request(t.url).get('/healthz').set('x-forwarded-proto', 'https').expect(200);
    expect(res.headers['content-security-policy']).toContain('upgrade-insecure-requests');
    expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
  });
});

describe('an untrusted X-Forwarded-Proto', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('is ignored: the request stays plain HTTP', async () => {
    const res = await request(t.url).get('/healthz').set('x-forwarded-proto', 'https').expect(200);
    expect(res.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
    expect(res.headers['strict-transport-security']).toBeUndefined();
  });
});
