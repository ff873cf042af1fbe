import request from 'supertest';
import { createHash } from 'node:crypto';
import { SessionRepository } from '../src/database/repositories/session.repository';
import { UserRepository } from '../src/database/repositories/user.repository';
import { createTestApp, TestApp } from './utils/app';
import { bearerToken, signupAndLogin, signupBody } from './factories/user.factory';

const envelope = (message: string | RegExp, code: string | null = expect.any(String)) => ({
  success: false,
  status: 'error',
  message: typeof message === 'string' ? message : expect.stringMatching(message),
  code,
});

describe('auth (docs/contract.md §1)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  describe('signup', () => {
    it('creates the account and a solo workspace it owns', async () => {
      const body = signupBody({ email: 'Mixed.Case@Example.COM', company_name: 'Engines Ltd' });
      const res = await request(t.url).post('/api/auth/signup').send(body).expect(201);
      expect(res.body).toEqual({ success: true, message: expect.any(String) });
      const login = await request(t.url)
        .post('/api/auth/login')
        .send({ email: 'mixed.case@example.com', password: body.password })
        .expect(200);
      expect(login.body.user.email).toBe('mixed.case@example.com');
      expect(login.body.memberships).toEqual([
        {
          workspace: {
            id: expect.any(String),
            name: 'Engines Ltd',
            plan: 'solo',
            owner_id: login.body.user.id,
            created_by: login.body.user.id,
            created_at: expect.stringMatching(/Z$/),
            updated_at: expect.stringMatching(/Z$/),
            deleted_at: null,
          },
          role: 'owner',
        },
      ]);
    });

    it('rejects a duplicate email with 409, whatever its case', async () => {
      const body = signupBody();
      await request(t.url).post('/api/auth/signup').send(body).expect(201);
      const res = await request(t.url)
        .post('/api/auth/signup')
        .send({ ...body, email: body.email.toUpperCase() })
        .expect(409);
      expect(res.body).toEqual(envelope('An account with this email already exists', 'email_taken'));
    });

    it('lets exactly one of several concurrent signups for one email win', async () => {
      const body = signupBody();
      const results = await Promise.all(
        Array.from({ length: 4 }, () => request(t.url).post('/api/auth/signup').send(body)),
      );
      expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409]);
    });

    it.each([
      ['password', { password: 'short' }, /password must be at least 8 characters/],
      ['email', { email: 'not-an-email' }, /email must be a valid email address/],
      ['first_name', { first_name: undefined }, /first_name/],
      ['accepted_terms_version', { accepted_terms_version: undefined }, /accepted_terms_version/],
    ])('names a bad %s with 400 invalid_request', async (_field, override, message) => {
      const res = await request(t.url)
        .post('/api/auth/signup')
        .send({ ...signupBody(), ...override })
        .expect(400);
      expect(res.body).toEqual(envelope(message, 'invalid_request'));
    });

    it('does not let a signup body plant server-owned settings', async () => {
      const body = signupBody({ settings: { theme: 'dark', secrets: { x: 1 }, billing: { pending_checkout: 'y' } } });
      await request(t.url).post('/api/auth/signup').send(body).expect(201);
      const user = await t.app.get(UserRepository).findByEmail(body.email);
      expect(user!.settings).toEqual({ theme: 'dark' });
      expect(user!.passwordHash).toMatch(/^scrypt\$10\$8\$1\$/);
    });
  });

  describe('login and the cookie session, as the DSentr client does it', () => {
    it('signup → csrf-token → login → me works with cookies', async () => {
      const agent = request.agent(t.url);
      const csrfRes = await agent.get('/api/auth/csrf-token').expect(200);
      expect(csrfRes.headers['content-type']).toMatch(/^text\/plain/);
      const csrf = csrfRes.text;
      expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const csrfCookie = ([] as string[])
        .concat(csrfRes.headers['set-cookie'])
        .find((c) => c.startsWith('csrf_token='))!;
      expect(csrfCookie).toContain(`csrf_token=${csrf}`);
      expect(csrfCookie).toMatch(/HttpOnly/);
      expect(csrfCookie).toMatch(/SameSite=Strict/);

      const body = signupBody();
      await agent.post('/api/auth/signup').set('x-csrf-token', csrf).send(body).expect(201);
      const login = await agent
        .post('/api/auth/login')
        .set('x-csrf-token', csrf)
        .send({ email: body.email, password: body.password, remember: false })
        .expect(200);
      expect(login.body).toEqual({
        success: true,
        user: {
          id: expect.any(String),
          email: body.email,
          first_name: 'Ada',
          last_name: 'Lovelace',
          role: 'user',
          plan: 'solo',
          company_name: null,
          onboarded_at: expect.any(String),
          created_at: expect.any(String),
          is_verified: true,
          oauth_provider: 'email',
        },
        memberships: [expect.objectContaining({ role: 'owner' })],
        requires_onboarding: false,
      });
      const session = ([] as string[])
        .concat(login.headers['set-cookie'])
        .find((c) => c.startsWith('dsentr_session='))!;
      expect(session).toMatch(/^dsentr_session=[0-9a-f-]{36};/);
      expect(session).toMatch(/HttpOnly/);
      expect(session).toMatch(/SameSite=Lax/);
      expect(session).toMatch(/Path=\//);
      const expires = new Date(/Expires=([^;]+)/.exec(session)![1]).getTime();
      expect(expires - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
      expect(expires - Date.now()).toBeLessThan(7.1 * 86_400_000);

      const me = await agent.get('/api/auth/me').expect(200);
      expect(me.body).toEqual({
        success: true,
        user: login.body.user,
        memberships: login.body.memberships,
        requires_onboarding: false,
      });
    });

    it('keeps a remembered session for 30 days', async () => {
      const body = signupBody();
      await request(t.url).post('/api/auth/signup').send(body).expect(201);
      const login = await request(t.url)
        .post('/api/auth/login')
        .send({ email: body.email, password: body.password, remember: true })
        .expect(200);
      const session = ([] as string[])
        .concat(login.headers['set-cookie'])
        .find((c) => c.startsWith('dsentr_session='))!;
      const expires = new Date(/Expires=([^;]+)/.exec(session)![1]).getTime();
      expect(expires - Date.now()).toBeGreaterThan(29.9 * 86_400_000);
    });

    it('answers the same 401 for a wrong password and an unknown email', async () => {
      const body = signupBody();
      await request(t.url).post('/api/auth/signup').send(body).expect(201);
      const wrong = await request(t.url)
        .post('/api/auth/login')
        .send({ email: body.email, password: 'nope-nope-nope' })
        .expect(401);
      const unknown = await request(t.url)
        .post('/api/auth/login')
        .send({ email: 'ghost@example.com', password: 'whatever1' })
        .expect(401);
      expect(wrong.body).toEqual(envelope('Invalid email or password', 'invalid_credentials'));
      expect(unknown.body).toEqual(wrong.body);
    });

    it('logout ends the session server-side and clears the cookie', async () => {
      const { token } = await bearerToken(t.url);
      await request(t.url).get('/api/auth/me').set('Cookie', `dsentr_session=${token}`).expect(200);
      // A cookie session is ended like any cookie write: with the CSRF token, so another site cannot.
      const forged = await request(t.url).post('/api/auth/logout').set('Cookie', `dsentr_session=${token}`).expect(403);
      expect(forged.body).toEqual(envelope('Missing or invalid CSRF token', 'csrf_failed'));
      await request(t.url).get('/api/auth/me').set('Cookie', `dsentr_session=${token}`).expect(200);
      const res = await request(t.url)
        .post('/api/auth/logout')
        .set('Cookie', `dsentr_session=${token}; csrf_token=c5f1`)
        .set('x-csrf-token', 'c5f1')
        .expect(200);
      expect(res.body).toEqual({ success: true, message: 'Logged out' });
      expect(([] as string[]).concat(res.headers['set-cookie']).join()).toMatch(/dsentr_session=;/);
      // A client that kept the old cookie is refused: the session is gone, not just the cookie.
      const me = await request(t.url).get('/api/auth/me').set('Cookie', `dsentr_session=${token}`).expect(401);
      expect(me.body.message).toBe('Session expired');
    });
  });

  describe('session failures (docs/contract.md §1.1)', () => {
    it('no credentials → 401 Session is required', async () => {
      const res = await request(t.url).get('/api/auth/me').expect(401);
      expect(res.body).toEqual(envelope('Session is required', 'unauthorized'));
    });

    it.each([
      ['a non-bearer Authorization header', { Authorization: 'Basic abc' }],
      ['a bearer token that is not a UUID', { Authorization: 'Bearer not-a-uuid' }],
      ['a session cookie that is not a UUID', { Cookie: 'dsentr_session=garbage' }],
    ])('%s → 401 Invalid session token', async (_name, headers) => {
      const res = await request(t.url).get('/api/auth/me').set(headers).expect(401);
      expect(res.body).toEqual(envelope('Invalid session token', 'unauthorized'));
    });

    it('an unknown session → 401 Session expired', async () => {
      const res = await request(t.url)
        .get('/api/auth/me')
        .set('Cookie', 'dsentr_session=6f1c1b9e-3f7a-4d33-9c55-1b0e2f0a9a10')
        .expect(401);
      expect(res.body).toEqual(envelope('Session expired', 'unauthorized'));
    });

    it('an expired session → 401 Session expired, and the row is deleted', async () => {
      const { userId } = await bearerToken(t.url);
      const token = '0b7d3c1e-8f2a-4b6c-9d0e-1f2a3b4c5d6e';
      const hash = createHash('sha256').update(token).digest('hex');
      const sessions = t.app.get(SessionRepository);
      await sessions.create(hash, userId, { plan: 'solo' }, new Date(Date.now() - 1000));
      const res = await request(t.url).get('/api/auth/me').set('Authorization', `Bearer ${token}`).expect(401);
      expect(res.body.message).toBe('Session expired');
      expect(await sessions.findWithUser(hash)).toBeNull();
    });

    it('the Authorization header wins over the cookie, scheme case-insensitive', async () => {
      const { token, userId } = await bearerToken(t.url);
      const res = await request(t.url)
        .get('/api/auth/me')
        .set('Authorization', `bearer ${token}`)
        .set('Cookie', 'dsentr_session=garbage')
        .expect(200);
      expect(res.body.user.id).toBe(userId);
    });
  });

  describe('CSRF double submit (docs/contract.md §1.2)', () => {
    it('a cookie-authenticated unsafe request needs x-csrf-token equal to the cookie', async () => {
      const b = await signupAndLogin(t.url);
      const missing = await b.agent.post('/api/auth/api-keys').send({ name: 'k' }).expect(403);
      expect(missing.body).toEqual(envelope('Missing or invalid CSRF token', 'csrf_failed'));
      await b.agent.post('/api/auth/api-keys').set('x-csrf-token', 'wrong').send({ name: 'k' }).expect(403);
      await b.agent.post('/api/auth/api-keys').set('x-csrf-token', b.csrf).send({ name: 'k' }).expect(201);
    });

    it('GET needs no token; bearer callers are exempt', async () => {
      const b = await signupAndLogin(t.url);
      await b.agent.get('/api/auth/me').expect(200);
      const { token } = await bearerToken(t.url);
      await request(t.url)
        .post('/api/auth/api-keys')
        .set('Authorization', `Bearer ${token}`)
        .send({ name: 'k' })
        .expect(201);
    });

    it('401 wins over 403', async () => {
      const res = await request(t.url).post('/api/auth/api-keys').send({ name: 'k' }).expect(401);
      expect(res.body.message).toBe('Session is required');
    });
  });

  describe('personal API keys', () => {
    it('are shown once, listed without the secret, usable as bearer and revocable', async () => {
      const { token } = await bearerToken(t.url);
      const auth = { Authorization: `Bearer ${token}` };
      const created = await request(t.url).post('/api/auth/api-keys').set(auth).send({ name: 'deploys' }).expect(201);
      expect(created.body).toEqual({
        success: true,
        token: expect.stringMatching(/^rl_[A-Za-z0-9_-]{43}$/),
        api_key: {
          id: expect.any(String),
          name: 'deploys',
          prefix: created.body.token.slice(0, 11),
          created_at: expect.any(String),
          last_used_at: null,
          expires_at: null,
        },
      });
      const key = created.body.token as string;

      const me = await request(t.url).get('/api/auth/me').set('Authorization', `Bearer ${key}`).expect(200);
      expect(me.body.user.email).toBeDefined();
      // A key cannot mint keys: they would outlive its revocation.
      const minted = await request(t.url)
        .post('/api/auth/api-keys')
        .set('Authorization', `Bearer ${key}`)
        .send({ name: 'second' })
        .expect(403);
      expect(minted.body).toEqual(envelope('API keys cannot create API keys; sign in to create one', 'forbidden'));
      await request(t.url).post('/api/auth/api-keys').set(auth).send({ name: 'second' }).expect(201);

      const list = await request(t.url).get('/api/auth/api-keys').set(auth).expect(200);
      expect(list.body.api_keys.map((k: { name: string }) => k.name).sort()).toEqual(['deploys', 'second']);
      expect(JSON.stringify(list.body)).not.toContain(key);
      const used = list.body.api_keys.find((k: { name: string }) => k.name === 'deploys');
      expect(used.last_used_at).not.toBeNull();

      await request(t.url).delete(`/api/auth/api-keys/${created.body.api_key.id}`).set(auth).expect(200);
      const revoked = await request(t.url).get('/api/auth/me').set('Authorization', `Bearer ${key}`).expect(401);
      expect(revoked.body).toEqual(envelope('Invalid API key', 'unauthorized'));
      await request(t.url).delete(`/api/auth/api-keys/${created.body.api_key.id}`).set(auth).expect(404);
    });

    it("cannot revoke someone else's key", async () => {
      const a = await bearerToken(t.url);
      const b = await bearerToken(t.url);
      const created = await request(t.url)
        .post('/api/auth/api-keys')
        .set('Authorization', `Bearer ${a.token}`)
        .send({ name: 'a' })
        .expect(201);
      await request(t.url)
        .delete(`/api/auth/api-keys/${created.body.api_key.id}`)
        .set('Authorization', `Bearer ${b.token}`)
        .expect(404);
      await request(t.url).get('/api/auth/me').set('Authorization', `Bearer ${created.body.token}`).expect(200);
    });

    it('rejects an expiry in the past and honours one in the future', async () => {
      const { token } = await bearerToken(t.url);
      const auth = { Authorization: `Bearer ${token}` };
      const past = await request(t.url)
        .post('/api/auth/api-keys')
        .set(auth)
        .send({ name: 'x', expires_at: '2001-01-01T00:00:00Z' })
        .expect(400);
      expect(past.body.message).toMatch(/expires_at/);
      const bad = await request(t.url)
        .post('/api/auth/api-keys')
        .set(auth)
        .send({ name: 'x', expires_at: 'soon' })
        .expect(400);
      expect(bad.body.message).toMatch(/expires_at/);
      const future = new Date(Date.now() + 86_400_000).toISOString();
      const ok = await request(t.url)
        .post('/api/auth/api-keys')
        .set(auth)
        .send({ name: 'x', expires_at: future })
        .expect(201);
      expect(ok.body.api_key.expires_at).toBe(future.replace('.000Z', 'Z').replace(/(\.\d*?)0+Z$/, '$1Z'));
    });
  });
});

describe('auth with REQUIRE_EMAIL_VERIFICATION=true', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ REQUIRE_EMAIL_VERIFICATION: 'true' });
  });
  afterAll(() => t.close());

  it('refuses login of an unverified account with 403 unverified_email', async () => {
    const body = signupBody();
    await request(t.url).post('/api/auth/signup').send(body).expect(201);
    const res = await request(t.url)
      .post('/api/auth/login')
      .send({ email: body.email, password: body.password })
      .expect(403);
    expect(res.body).toEqual(envelope(/verify/i, 'unverified_email'));
    // The password is checked first: a wrong one still gets the generic 401.
    await request(t.url).post('/api/auth/login').send({ email: body.email, password: 'wrong-password' }).expect(401);
  });
});
