import { CookieAccessInfo, CookieJar } from 'cookiejar';
import request from 'supertest';
import { Db } from '../src/database/db.service';
import { RunEntity } from '../src/database/entities/run.entity';
import { UserRepository } from '../src/database/repositories/user.repository';
import { createTestApp, TestApp } from './utils/app';
import { Browser, signupAndLogin } from './factories/user.factory';
import { actor, createWorkflow, graph, trigger, upgrade } from './factories/workflow.factory';

const DAY = 86_400_000;
const NOT_FOUND = { success: false, status: 'error', message: 'Issue not found', code: 'not_found' };
const ADMINS_ONLY = { success: false, status: 'error', message: 'Access denied. Admins only.', code: 'forbidden' };

/**
 * The support inbox as the DSentr client uses it (cookie session + `x-csrf-token`): report an issue,
 * list threads with the unread badge, open one (read, then detail), reply; operators (application
 * admins) answer; the admin-only run purge; the early-access page that is not served.
 */
describe('support threads (GET/POST /api/issues…) and application admin routes', () => {
  let t: TestApp;
  let user: Browser;
  let other: Browser;
  let admin: Browser;
  beforeAll(async () => {
    // No worker: the purge test sets run states itself.
    t = await createTestApp({ RUNLOOM_ROLES: 'api', RUN_RETENTION_DAYS: '45' });
    [user, other, admin] = await Promise.all([
      signupAndLogin(t.url, { first_name: 'Grace', last_name: 'Hopper' }),
      signupAndLogin(t.url),
      signupAndLogin(t.url),
    ]);
    expect(await t.app.get(UserRepository).setRole(admin.user.email, 'admin')).toBe(true);
  });
  afterAll(() => t.close());

  const workspaceOf = (b: Browser) => (b.body.memberships as { workspace: { id: string } }[])[0].workspace.id;
  const get = (b: Browser, path: string) => b.agent.get(path);
  const post = (b: Browser, path: string, body?: unknown) => {
    const req = b.agent.post(path).set('x-csrf-token', b.csrf);
    return body === undefined ? req : req.send(body as object);
  };
  const report = async (b: Browser, description: string, workspace_id: string | null = null) =>
    (await post(b, '/api/issues', { description, workspace_id }).expect(200)).body.issue_id as string;
  /** The client's own call: `fetch` with the cookies, the CSRF header and a JSON content type, but no body. */
  const markRead = (b: Browser, id: string) => {
    const jar = (b.agent as unknown as { jar: CookieJar }).jar;
    const cookie = jar.getCookies(new CookieAccessInfo('127.0.0.1', '/', false, false)).toValueString();
    return fetch(`${t.url}/api/issues/${id}/read`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'x-csrf-token': b.csrf, cookie },
    });
  };

  describe('D2 POST /api/issues', () => {
    it('stores the report with a snapshot of plan and role, and answers the success envelope', async () => {
      const res = await post(user, '/api/issues', {
        description: '  The Slack node fails with channel_not_found  ',
        workspace_id: workspaceOf(user),
      }).expect(200);
      expect(res.body).toEqual({
        status: 'success',
        success: true,
        message: 'Issue report submitted',
        code: null,
        issue_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      });
      const detail = (await get(user, `/api/issues/${res.body.issue_id}`).expect(200)).body;
      expect(detail).toEqual({
        issue: {
          id: res.body.issue_id,
          user_id: user.user.id,
          workspace_id: workspaceOf(user),
          user_email: user.user.email,
          user_name: 'Grace Hopper',
          user_plan: 'solo',
          user_role: 'user',
          workspace_plan: 'solo',
          workspace_role: 'owner',
          description: 'The Slack node fails with channel_not_found',
          metadata: {},
          created_at: expect.stringMatching(/Z$/),
          status: 'open',
          updated_at: expect.stringMatching(/Z$/),
        },
        workspace_name: "Grace's Workspace",
        messages: [
          {
            id: expect.any(String),
            issue_id: res.body.issue_id,
            sender_id: user.user.id,
            sender_type: 'user',
            body: 'The Slack node fails with channel_not_found',
            created_at: detail.issue.created_at,
            read_by_user_at: detail.issue.created_at,
            read_by_admin_at: null,
          },
        ],
        unread_admin_messages: 0,
      });
      expect(detail).not.toHaveProperty('success');
    });

    it('accepts no workspace; refuses blank, too long, malformed and foreign input with a clear 4xx', async () => {
      const id = await report(user, 'No workspace here', null);
      expect((await get(user, `/api/issues/${id}`).expect(200)).body).toMatchObject({
        issue: { workspace_id: null, workspace_plan: null, workspace_role: null },
        workspace_name: null,
      });
      const blank = await post(user, '/api/issues', { description: '   ', workspace_id: null }).expect(400);
      expect(blank.body).toMatchObject({ success: false, message: 'Issue description is required' });
      // 2001 two-byte characters: 4002 bytes.
      const long = await post(user, '/api/issues', { description: 'é'.repeat(2001) }).expect(400);
      expect(long.body.message).toBe('Issue description is too long');
      await post(user, '/api/issues', { description: 'é'.repeat(2000) }).expect(200);
      const nul = await post(user, '/api/issues', { description: 'a\u0000b' }).expect(400);
      expect(nul.body.message).toBe('Issue description cannot contain NUL characters');
      const missing = await post(user, '/api/issues', {}).expect(400);
      expect(missing.body).toMatchObject({ code: 'invalid_request', message: expect.stringContaining('description') });
      const badWs = await post(user, '/api/issues', { description: 'x', workspace_id: 'nope' }).expect(400);
      expect(badWs.body).toMatchObject({ code: 'invalid_request', message: expect.stringContaining('workspace_id') });
      // A workspace the caller is not a member of: its name must not end up in the caller's thread.
      const foreign = await post(user, '/api/issues', { description: 'x', workspace_id: workspaceOf(other) }).expect(
        404,
      );
      expect(foreign.body.message).toBe('Workspace not found');
      // The client always sends the CSRF header; a forged request without it is refused.
      await user.agent.post('/api/issues').send({ description: 'forged' }).expect(403);
      await request(t.url).post('/api/issues').send({ description: 'anonymous' }).expect(401);
    });
  });

  describe('D1 GET /api/issues, D3 GET /api/issues/:id, D4 read, D5 reply, and the operators’ answers', () => {
    it('walks a thread: badge, operator answer, read, user reply, operator inbox', async () => {
      const b = await signupAndLogin(t.url);
      const empty = await get(b, '/api/issues').expect(200);
      expect(empty.body).toEqual({ issues: [], unread_admin_messages: 0 });

      const first = await report(b, 'First problem', workspaceOf(b));
      const second = await report(b, 'Second problem');
      const listed = (await get(b, '/api/issues').expect(200)).body;
      expect(listed.unread_admin_messages).toBe(0);
      expect(listed.issues.map((i: { id: string }) => i.id)).toEqual([second, first]);
      expect(listed.issues[1]).toEqual({
        id: first,
        status: 'open',
        workspace_id: workspaceOf(b),
        workspace_name: "Ada's Workspace",
        updated_at: expect.stringMatching(/Z$/),
        unread_admin_messages: 0,
        last_message_body: 'First problem',
        last_message_sender: 'user',
        last_message_at: listed.issues[1].updated_at,
      });

      // An operator answers the first one: its thread moves to the top with one unread message.
      const answered = await post(admin, `/api/admin/issues/${first}/reply`, { message: 'Looking into it' }).expect(
        200,
      );
      expect(answered.body).toMatchObject({
        success: true,
        issue: { id: first, status: 'waiting_user' },
        unread_user_messages: 0,
        messages: [
          { sender_type: 'user', body: 'First problem', read_by_admin_at: expect.any(String) },
          { sender_type: 'admin', sender_id: admin.user.id, body: 'Looking into it', read_by_user_at: null },
        ],
      });
      const badge = (await get(b, '/api/issues').expect(200)).body;
      expect(badge.unread_admin_messages).toBe(1);
      expect(badge.issues[0]).toMatchObject({
        id: first,
        status: 'waiting_user',
        unread_admin_messages: 1,
        last_message_body: 'Looking into it',
        last_message_sender: 'admin',
      });
      const unreadDetail = (await get(b, `/api/issues/${first}`).expect(200)).body;
      expect(unreadDetail.unread_admin_messages).toBe(1);
      // The user does not learn which account answered.
      expect(unreadDetail.messages[1]).toMatchObject({ sender_type: 'admin', sender_id: null });

      // D4 exactly as the client sends it: JSON content type, no body at all.
      const read = await markRead(b, first);
      expect(read.status).toBe(200);
      expect(await read.json()).toEqual({ success: true, unread_admin_messages: 0 });
      // And as a plain POST with an empty object, and twice: still fine.
      expect((await post(b, `/api/issues/${first}/read`, {}).expect(200)).body.unread_admin_messages).toBe(0);
      const afterRead = (await get(b, '/api/issues').expect(200)).body;
      expect(afterRead.unread_admin_messages).toBe(0);
      expect((await get(b, `/api/issues/${first}`).expect(200)).body.messages[1].read_by_user_at).toEqual(
        expect.any(String),
      );

      // D5: the user answers; the detail comes back in the D3 shape and the thread waits for an operator.
      const before = (await get(b, `/api/issues/${first}`).expect(200)).body.issue.updated_at as string;
      const replied = await post(b, `/api/issues/${first}/reply`, { message: '  Still broken  ' }).expect(200);
      expect(Object.keys(replied.body).sort()).toEqual([
        'issue',
        'messages',
        'unread_admin_messages',
        'workspace_name',
      ]);
      expect(replied.body.issue.status).toBe('waiting_admin');
      expect(replied.body.workspace_name).toBe("Ada's Workspace");
      expect(Date.parse(replied.body.issue.updated_at)).toBeGreaterThanOrEqual(Date.parse(before));
      expect(replied.body.messages.map((m: { sender_type: string; body: string }) => [m.sender_type, m.body])).toEqual([
        ['user', 'First problem'],
        ['admin', 'Looking into it'],
        ['user', 'Still broken'],
      ]);
      const blank = await post(b, `/api/issues/${first}/reply`, { message: ' ' }).expect(400);
      expect(blank.body.message).toBe('Message is required');
      const long = await post(b, `/api/issues/${first}/reply`, { message: 'x'.repeat(4001) }).expect(400);
      expect(long.body.message).toBe('Message is too long');
      await post(b, `/api/issues/${first}/reply`, { message: 'x\u0000' }).expect(400);

      // The operators' inbox: filter by status, unread count of the user's messages.
      const waiting = (await get(admin, '/api/admin/issues?status=waiting_admin').expect(200)).body;
      expect(waiting.issues.find((i: { id: string }) => i.id === first)).toMatchObject({
        user_id: expect.any(String),
        user_email: expect.stringContaining('@example.com'),
        unread_user_messages: 1,
        last_message_body: 'Still broken',
        last_message_sender: 'user',
      });
      expect(waiting.issues.some((i: { id: string }) => i.id === second)).toBe(false);
      const open = (await get(admin, '/api/admin/issues?status=open').expect(200)).body.issues;
      expect(open.some((i: { id: string }) => i.id === second)).toBe(true);
      const thread = (await get(admin, `/api/admin/issues/${first}`).expect(200)).body;
      expect(thread.messages).toHaveLength(3);
      await get(admin, '/api/admin/issues?status=closed').expect(400);
    });

    it("another user's issue is a 404 on every route; a malformed id is a 400; no session is a 401", async () => {
      const id = await report(user, 'Private problem');
      await get(other, `/api/issues/${id}`).expect(404, NOT_FOUND);
      const read = await markRead(other, id);
      expect(read.status).toBe(404);
      expect(await read.json()).toEqual(NOT_FOUND);
      await post(other, `/api/issues/${id}/reply`, { message: 'me too' }).expect(404, NOT_FOUND);
      expect(JSON.stringify((await get(other, '/api/issues').expect(200)).body)).not.toContain('Private problem');
      await get(user, '/api/issues/not-a-uuid').expect(400);
      await post(user, '/api/issues/not-a-uuid/read').expect(400);
      await request(t.url).get('/api/issues').expect(401);
      await request(t.url).get(`/api/issues/${id}`).expect(401);
      // CSRF on the body-less read too.
      await user.agent.post(`/api/issues/${id}/read`).set('Content-Type', 'application/json').expect(403);
      // Nothing changed for the owner.
      expect((await get(user, `/api/issues/${id}`).expect(200)).body.messages).toHaveLength(1);
    });

    it('operator routes are for application admins only (users.role = admin), read at every request', async () => {
      const id = await report(user, 'Needs an operator');
      await get(user, '/api/admin/issues').expect(403, ADMINS_ONLY);
      await get(user, `/api/admin/issues/${id}`).expect(403, ADMINS_ONLY);
      await post(user, `/api/admin/issues/${id}/reply`, { message: 'I am the operator now' }).expect(403, ADMINS_ONLY);
      await request(t.url).get('/api/admin/issues').expect(401);
      // CSRF before the role check, as everywhere.
      await admin.agent.post(`/api/admin/issues/${id}/reply`).send({ message: 'x' }).expect(403);
      await post(admin, '/api/admin/issues/00000000-0000-4000-8000-000000000000/reply', { message: 'x' }).expect(404);
      const users = t.app.get(UserRepository);
      const temp = await signupAndLogin(t.url);
      await users.setRole(temp.user.email, 'admin');
      await get(temp, '/api/admin/issues').expect(200);
      await users.setRole(temp.user.email, 'user');
      await get(temp, '/api/admin/issues').expect(403, ADMINS_ONLY);
      expect((await get(user, `/api/issues/${id}`).expect(200)).body.messages).toHaveLength(1);
    });
  });

  describe('D6 POST /api/admin/purge-runs', () => {
    it('deletes finished runs older than `days` everywhere; non-admins get 403; bad days a 400', async () => {
      const owner = await actor(t.url);
      const ws = await upgrade(t.url, owner);
      const wf = await createWorkflow(t.url, owner, graph([trigger()]), ws);
      const ids: string[] = [];
      for (let i = 0; i < 4; i += 1)
        ids.push((await request(t.url).post(`/api/workflows/${wf.id}/run`).set(owner.auth).expect(202)).body.run.id);
      const runs = t.app.get(Db).manager.getRepository(RunEntity);
      const now = Date.now();
      await runs.update({ id: ids[0] }, { status: 'succeeded', createdAt: new Date(now - 20 * DAY) });
      await runs.update({ id: ids[1] }, { status: 'failed', createdAt: new Date(now - 50 * DAY) });
      await runs.update({ id: ids[2] }, { status: 'queued', createdAt: new Date(now - 50 * DAY) });
      await runs.update({ id: ids[3] }, { status: 'canceled', createdAt: new Date(now - DAY) });

      await post(user, '/api/admin/purge-runs', { days: 1 }).expect(403, ADMINS_ONLY);
      await request(t.url).post('/api/admin/purge-runs').send({}).expect(401);
      // An admin's API key may answer threads (the CLI) but not delete every tenant's history.
      const adminKey = (await post(admin, '/api/auth/api-keys', { name: 'cli' }).expect(201)).body.token;
      const byKey = await request(t.url)
        .post('/api/admin/purge-runs')
        .set('Authorization', `Bearer ${adminKey}`)
        .send({ days: 1 })
        .expect(403);
      expect(byKey.body.message).toBe('API keys cannot purge runs; sign in to do it.');
      for (const days of [0, -3, 1.5, 'ten', 100_000]) {
        const bad = await post(admin, '/api/admin/purge-runs', { days }).expect(400);
        expect(bad.body).toMatchObject({
          success: false,
          code: 'invalid_request',
          message: expect.stringContaining('days'),
        });
      }

      // No body (or `{}`): RUN_RETENTION_DAYS, here 45; the queued run is never touched.
      const byDefault = await post(admin, '/api/admin/purge-runs').expect(200);
      expect(byDefault.body).toEqual({ success: true, deleted: 1, days: 45 });
      const explicit = await post(admin, '/api/admin/purge-runs', { days: 10 }).expect(200);
      expect(explicit.body).toEqual({ success: true, deleted: 1, days: 10 });
      expect(await post(admin, '/api/admin/purge-runs', {}).expect(200)).toMatchObject({
        body: { deleted: 0, days: 45 },
      });
      const left = (await runs.find({ where: { workflowId: wf.id } })).map((r) => r.id).sort();
      expect(left).toEqual([ids[2], ids[3]].sort());
    });
  });

  describe('D7 POST /api/early-access', () => {
    it('is not served (the page that calls it is not routed by the client): a JSON 404', async () => {
      const res = await request(t.url).post('/api/early-access').send({ email: 'someone@example.com' }).expect(404);
      expect(res.headers['content-type']).toMatch(/application\/json/);
      expect(res.body).toMatchObject({ success: false, status: 'error' });
    });
  });
});
