import request from 'supertest';
import { createTestApp, TestApp } from './utils/app';

describe('CORS for a web client on its own origin', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ FRONTEND_ORIGIN: 'http://localhost:5173' });
  });
  afterAll(() => t.close());

  it('answers the preflight with credentials and the x-csrf-token header allowed', async () => {
    const res = await request(t.url)
      .options('/api/auth/login')
      .set('Origin', 'http://localhost:5173')
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'content-type,x-csrf-token')
      .expect(204);
    expect(res.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    expect(res.headers['access-control-allow-headers']).toMatch(/x-csrf-token/);
    expect(res.headers['access-control-allow-methods']).toMatch(/DELETE/);
  });

  it('does not grant other origins', async () => {
    const res = await request(t.url).get('/healthz').set('Origin', 'https://evil.example').expect(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});
