import request from 'supertest';
import { createTestApp, TestApp } from './utils/app';
import { signupAndLogin, signupBody } from './factories/user.factory';

/**
 * What the DSentr client expects of the session routes beyond their documented shapes: the fields
 * `/me` folds into its store, how login failures steer it, logout after the session is gone, and the
 * membership entries it picks the current workspace from.
 */
describe('client expectations of /api/auth/me, login, logout and /api/workspaces', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('GET /api/auth/me: user with company_name and oauth_provider, memberships, requires_onboarding false', async () => {
    const b = await signupAndLogin(t.url, { company_name: 'Analytical Engines' });
    const me = await b.agent.get('/api/auth/me').expect(200);
    expect(me.body).toEqual({
      success: true,
      user: expect.objectContaining({
        id: b.user.id,
        company_name: 'Analytical Engines',
        // A password account: the client keeps its change-password form enabled.
        oauth_provider: 'email',
        role: 'user',
      }),
      memberships: [expect.objectContaining({ role: 'owner' })],
      requires_onboarding: false,
    });
    // The login answer has the same shape, so the store is filled the same way either way.
    expect(Object.keys(b.body).sort()).toEqual(Object.keys(me.body).sort());
    expect(b.body.user).toEqual(me.body.user);
  });

  it('GET /api/workspaces: entries carry every workspace field the client reads', async () => {
    const b = await signupAndLogin(t.url);
    const res = await b.agent.get('/api/workspaces').expect(200);
    expect(res.body.workspaces).toEqual([
      {
        workspace: {
          id: expect.any(String),
          name: "Ada's Workspace",
          plan: 'solo',
          owner_id: b.user.id,
          created_by: b.user.id,
          created_at: expect.stringMatching(/Z$/),
          updated_at: expect.stringMatching(/Z$/),
          deleted_at: null,
        },
        role: 'owner',
      },
    ]);
  });

  it('POST /api/auth/login never answers the bare 403 that makes the client retry for a new CSRF token', async () => {
    const b = await signupAndLogin(t.url);
    // A stale CSRF header (the cookie was rotated meanwhile) does not matter to login.
    const body = signupBody();
    await request(t.url).post('/api/auth/signup').send(body).expect(201);
    const login = await b.agent
      .post('/api/auth/login')
      .set('x-csrf-token', 'stale-token-from-an-old-tab')
      .send({ email: body.email, password: body.password, remember: false })
      .expect(200);
    expect(login.body.success).toBe(true);
  });

  it('POST /api/auth/logout after the session is gone (account deletion) still answers 200 and clears the cookie', async () => {
    const b = await signupAndLogin(t.url);
    await b.agent.post('/api/auth/logout').set('x-csrf-token', b.csrf).expect(200);
    await b.agent.get('/api/auth/me').expect(401);
    // The client logs out again after deleting the account: the session no longer exists.
    const again = await request(t.url)
      .post('/api/auth/logout')
      .set('Cookie', `dsentr_session=${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}; csrf_token=${b.csrf}`)
      .set('x-csrf-token', b.csrf)
      .expect(200);
    expect(again.body).toEqual({ success: true, message: 'Logged out' });
    expect(([] as string[]).concat(again.headers['set-cookie'] ?? []).join(';')).toMatch(/dsentr_session=;/);
  });
});

describe('client expectations with REQUIRE_EMAIL_VERIFICATION=true', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ REQUIRE_EMAIL_VERIFICATION: 'true' });
  });
  afterAll(() => t.close());

  it('an unverified login is 403 with code unverified_email and a body, so the client goes to /check-email', async () => {
    const body = signupBody();
    await request(t.url).post('/api/auth/signup').send(body).expect(201);
    const res = await request(t.url)
      .post('/api/auth/login')
      .send({ email: body.email, password: body.password })
      .expect(403);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body).toMatchObject({ success: false, code: 'unverified_email', message: expect.any(String) });
  });
});
