import request from 'supertest';
import { createTestApp, TestApp } from './utils/app';
import { bearerToken } from './factories/user.factory';

interface Caller {
  token: string;
  userId: string;
  auth: { Authorization: string };
}

describe('workspaces, members and plans (docs/contract.md §1.6)', () => {
  let t: TestApp;
  const caller = async (): Promise<Caller> => {
    const { token, userId } = await bearerToken(t.url);
    return { token, userId, auth: { Authorization: `Bearer ${token}` } };
  };
  const soloWorkspaceOf = async (c: Caller): Promise<string> => {
    const res = await request(t.url).get('/api/workspaces').set(c.auth).expect(200);
    return res.body.workspaces[0].workspace.id;
  };
  const emailOf = async (c: Caller): Promise<string> =>
    (await request(t.url).get('/api/auth/me').set(c.auth).expect(200)).body.user.email;
  /** `by` invites `c` through POST /members (by user id or e-mail); `c` accepts the invitation. */
  const join = async (by: Caller, ws: string, c: Caller, role: string, via: 'user_id' | 'email' = 'user_id') => {
    const body = via === 'user_id' ? { user_id: c.userId, role } : { email: await emailOf(c), role };
    const invited = await request(t.url).post(`/api/workspaces/${ws}/members`).set(by.auth).send(body).expect(201);
    await request(t.url)
      .post('/api/invites/accept')
      .set(c.auth)
      .send({ token: invited.body.invitation.token })
      .expect(200);
  };
  const upgrade = async (c: Caller, name?: string) =>
    (
      await request(t.url)
        .post('/api/workspaces/plan')
        .set(c.auth)
        .send({ plan_tier: 'workspace', workspace_name: name })
        .expect(200)
    ).body;

  beforeAll(async () => {
    t = await createTestApp({ WORKSPACE_MEMBER_LIMIT: '3' });
  });
  afterAll(() => t.close());

  it('lists the solo workspace created at signup', async () => {
    const c = await caller();
    const res = await request(t.url).get('/api/workspaces').set(c.auth).expect(200);
    expect(res.body).toEqual({
      success: true,
      workspaces: [
        {
          workspace: expect.objectContaining({
            id: expect.any(String),
            name: "Ada's Workspace",
            plan: 'solo',
            owner_id: c.userId,
          }),
          role: 'owner',
        },
      ],
    });
  });

  it('inviting on a solo plan → 403 workspace_plan_required', async () => {
    const owner = await caller();
    const other = await caller();
    const ws = await soloWorkspaceOf(owner);
    const res = await request(t.url)
      .post(`/api/workspaces/${ws}/members`)
      .set(owner.auth)
      .send({ user_id: other.userId, role: 'user' })
      .expect(403);
    expect(res.body).toEqual({
      success: false,
      status: 'error',
      message: 'Upgrade to the Workspace plan to invite or manage members in this workspace',
      code: 'workspace_plan_required',
    });
  });

  it('upgrading turns the solo workspace into a workspace plan, renamed, and the user plan follows', async () => {
    const c = await caller();
    const ws = await soloWorkspaceOf(c);
    const body = await upgrade(c, 'Acme Ops');
    expect(body).toEqual({
      success: true,
      workspace: expect.objectContaining({ id: ws, name: 'Acme Ops', plan: 'workspace' }),
      memberships: [
        expect.objectContaining({ role: 'owner', workspace: expect.objectContaining({ id: ws, plan: 'workspace' }) }),
      ],
    });
    const me = await request(t.url).get('/api/auth/me').set(c.auth).expect(200);
    expect(me.body.user.plan).toBe('workspace');
  });

  it('POST members adds nobody: it invites, and the account joins only by accepting', async () => {
    const owner = await caller();
    const a = await caller();
    const ws = (await upgrade(owner)).workspace.id;
    const invited = await request(t.url)
      .post(`/api/workspaces/${ws}/members`)
      .set(owner.auth)
      .send({ user_id: a.userId, role: 'admin' })
      .expect(201);
    expect(invited.body).toEqual({
      success: true,
      invitation: expect.objectContaining({
        workspace_id: ws,
        email: await emailOf(a),
        role: 'admin',
        status: 'pending',
        created_by: owner.userId,
        token: expect.stringMatching(/^[0-9a-f]{32}$/),
      }),
    });
    // Not a member until they accept.
    await request(t.url).get(`/api/workspaces/${ws}/members`).set(a.auth).expect(404);
    const before = await request(t.url).get(`/api/workspaces/${ws}/members`).set(owner.auth).expect(200);
    expect(before.body.members.map((m: { user_id: string }) => m.user_id)).toEqual([owner.userId]);

    await request(t.url)
      .post('/api/invites/accept')
      .set(a.auth)
      .send({ token: invited.body.invitation.token })
      .expect(200);
    const after = await request(t.url).get(`/api/workspaces/${ws}/members`).set(a.auth).expect(200);
    expect(after.body.members).toEqual([
      expect.objectContaining({ user_id: owner.userId, role: 'owner', workspace_id: ws }),
      {
        workspace_id: ws,
        user_id: a.userId,
        role: 'admin',
        joined_at: expect.any(String),
        email: await emailOf(a),
        first_name: 'Ada',
        last_name: 'Lovelace',
      },
    ]);
  });

  it('manages members: invite, list, change roles, remove, with the seat limit', async () => {
    const owner = await caller();
    const [a, b, d] = [await caller(), await caller(), await caller()];
    const ws = (await upgrade(owner)).workspace.id;
    await join(owner, ws, a, 'admin');
    // An admin invites too, by e-mail; inviting a member again is a 409.
    await join(a, ws, b, 'viewer', 'email');
    const again = await request(t.url)
      .post(`/api/workspaces/${ws}/members`)
      .set(owner.auth)
      .send({ user_id: b.userId, role: 'user' })
      .expect(409);
    expect(again.body.message).toBe('This email belongs to a member of this workspace already');

    // WORKSPACE_MEMBER_LIMIT=3: inviting a fourth is refused.
    const full = await request(t.url)
      .post(`/api/workspaces/${ws}/members`)
      .set(owner.auth)
      .send({ user_id: d.userId, role: 'user' })
      .expect(400);
    expect(full.body).toEqual({
      success: false,
      status: 'error',
      message:
        'Workspace plans support up to 3 combined members and pending invitations. Remove an existing member or revoke invites to free up seats.',
      code: 'workspace_member_limit',
    });

    // Members can read the member list; viewers and users cannot manage.
    const list = await request(t.url).get(`/api/workspaces/${ws}/members`).set(b.auth).expect(200);
    expect(list.body.members).toHaveLength(3);
    const denied = await request(t.url)
      .put(`/api/workspaces/${ws}/members/${a.userId}`)
      .set(b.auth)
      .send({ role: 'viewer' })
      .expect(403);
    expect(denied.body.message).toBe('Admin permissions required');

    // Admins change roles; only the owner transfers ownership.
    await request(t.url)
      .put(`/api/workspaces/${ws}/members/${b.userId}`)
      .set(a.auth)
      .send({ role: 'user' })
      .expect(200);
    const notOwner = await request(t.url)
      .put(`/api/workspaces/${ws}/members/${a.userId}`)
      .set(a.auth)
      .send({ role: 'owner' })
      .expect(403);
    expect(notOwner.body.message).toBe('Only the workspace owner can transfer ownership');
    const ownerRole = await request(t.url)
      .put(`/api/workspaces/${ws}/members/${owner.userId}`)
      .set(a.auth)
      .send({ role: 'user' })
      .expect(400);
    expect(ownerRole.body.code).toBe('invalid_request');
    await request(t.url)
      .put(`/api/workspaces/${ws}/members/${d.userId}`)
      .set(owner.auth)
      .send({ role: 'user' })
      .expect(404);
    const badRole = await request(t.url)
      .put(`/api/workspaces/${ws}/members/${b.userId}`)
      .set(owner.auth)
      .send({ role: 'emperor' })
      .expect(400);
    expect(badRole.body.message).toMatch(/role must be one of/);

    // The owner cannot be removed; removing frees a seat.
    const removeOwner = await request(t.url)
      .delete(`/api/workspaces/${ws}/members/${owner.userId}`)
      .set(a.auth)
      .expect(400);
    expect(removeOwner.body.message).toBe('The workspace owner cannot be removed');
    await request(t.url).delete(`/api/workspaces/${ws}/members/${b.userId}`).set(a.auth).expect(200);
    await join(owner, ws, d, 'user');
  });

  it('transfers ownership: exactly one owner, the old one becomes admin', async () => {
    const owner = await caller();
    const heir = await caller();
    const ws = (await upgrade(owner)).workspace.id;
    await join(owner, ws, heir, 'user');
    const res = await request(t.url)
      .put(`/api/workspaces/${ws}/members/${heir.userId}`)
      .set(owner.auth)
      .send({ role: 'owner' })
      .expect(200);
    const roles = Object.fromEntries(
      res.body.members.map((m: { user_id: string; role: string }) => [m.user_id, m.role]),
    );
    expect(roles).toEqual({ [owner.userId]: 'admin', [heir.userId]: 'owner' });
    const listed = await request(t.url).get('/api/workspaces').set(heir.auth).expect(200);
    const entry = listed.body.workspaces.find((w: { workspace: { id: string } }) => w.workspace.id === ws);
    expect(entry).toEqual({ workspace: expect.objectContaining({ owner_id: heir.userId }), role: 'owner' });
  });

  it('non-members get 404 and cannot manage; unknown users are 404', async () => {
    const owner = await caller();
    const stranger = await caller();
    const ws = (await upgrade(owner)).workspace.id;
    const res = await request(t.url).get(`/api/workspaces/${ws}/members`).set(stranger.auth).expect(404);
    expect(res.body.message).toBe('Workspace not found');
    await request(t.url)
      .post(`/api/workspaces/${ws}/members`)
      .set(stranger.auth)
      .send({ user_id: stranger.userId, role: 'admin' })
      .expect(404);
    const unknown = await request(t.url)
      .post(`/api/workspaces/${ws}/members`)
      .set(owner.auth)
      .send({ user_id: '6f1c1b9e-3f7a-4d33-9c55-1b0e2f0a9a10', role: 'user' })
      .expect(404);
    expect(unknown.body.message).toBe('User not found');
    await request(t.url).post(`/api/workspaces/${ws}/members`).set(owner.auth).send({ role: 'user' }).expect(400);
    // Found by review: these answered 409 or 500.
    for (const body of [
      { email: null, role: 'user' },
      { user_id: null, role: 'user' },
      { user_id: 'x', email: 'a@b.co', role: 'user' },
      { email: 42, role: 'user' },
    ]) {
      const res = await request(t.url).post(`/api/workspaces/${ws}/members`).set(owner.auth).send(body).expect(400);
      expect(res.body.code).toBe('invalid_request');
    }
  });

  it('leaving: the owner must transfer first; leaving the last workspace provisions a solo one', async () => {
    const owner = await caller();
    const member = await caller();
    const ws = (await upgrade(owner)).workspace.id;
    const ownerLeaves = await request(t.url).post(`/api/workspaces/${ws}/leave`).set(owner.auth).expect(400);
    expect(ownerLeaves.body.message).toMatch(/Transfer ownership/);

    await join(owner, ws, member, 'user');
    const left = await request(t.url).post(`/api/workspaces/${ws}/leave`).set(member.auth).expect(200);
    expect(left.body.memberships.map((m: { workspace: { id: string } }) => m.workspace.id)).not.toContain(ws);

    // The old owner hands the workspace over, then leaves it: their last membership.
    await join(owner, ws, member, 'user');
    await request(t.url)
      .put(`/api/workspaces/${ws}/members/${member.userId}`)
      .set(owner.auth)
      .send({ role: 'owner' })
      .expect(200);
    const lastLeave = await request(t.url).post(`/api/workspaces/${ws}/leave`).set(owner.auth).expect(200);
    expect(lastLeave.body.memberships).toEqual([
      { workspace: expect.objectContaining({ plan: 'solo', owner_id: owner.userId }), role: 'owner' },
    ]);
    expect(lastLeave.body.memberships[0].workspace.id).not.toBe(ws);
  });

  it('downgrading moves every owned workspace back to solo', async () => {
    const c = await caller();
    const ws = (await upgrade(c)).workspace.id;
    const created = await request(t.url).post('/api/workspaces').set(c.auth).send({ name: 'Second' }).expect(201);
    expect(created.body.workspace).toEqual(
      expect.objectContaining({ name: 'Second', plan: 'workspace', owner_id: c.userId }),
    );
    const res = await request(t.url).post('/api/workspaces/plan').set(c.auth).send({ plan_tier: 'solo' }).expect(200);
    expect(res.body.workspace).toEqual(expect.objectContaining({ id: ws, plan: 'solo' }));
    expect(res.body.memberships.map((m: { workspace: { plan: string } }) => m.workspace.plan)).toEqual([
      'solo',
      'solo',
    ]);
    const bad = await request(t.url).post('/api/workspaces/plan').set(c.auth).send({ plan_tier: 'gold' }).expect(400);
    expect(bad.body.message).toBe('Invalid request: plan_tier must be solo or workspace');
  });

  it('a solo user creating a workspace gets a solo one; it needs a name', async () => {
    const c = await caller();
    const created = await request(t.url)
      .post('/api/workspaces')
      .set(c.auth)
      .send({ name: '  Side project ' })
      .expect(201);
    expect(created.body.workspace).toEqual(expect.objectContaining({ name: 'Side project', plan: 'solo' }));
    const missing = await request(t.url).post('/api/workspaces').set(c.auth).send({}).expect(400);
    expect(missing.body.message).toBe('Invalid request: name is required');
  });

  it('concurrent invitations never exceed the seat limit', async () => {
    const owner = await caller();
    const ws = (await upgrade(owner)).workspace.id;
    const candidates = await Promise.all(Array.from({ length: 5 }, () => caller()));
    const results = await Promise.all(
      candidates.map((c) =>
        request(t.url).post(`/api/workspaces/${ws}/members`).set(owner.auth).send({ user_id: c.userId, role: 'user' }),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(2);
    expect(results.filter((r) => r.status === 400)).toHaveLength(3);
    // The two invitations hold their seats; accepting them fills the workspace exactly.
    for (const [i, r] of results.entries()) {
      if (r.status !== 201) continue;
      await request(t.url)
        .post('/api/invites/accept')
        .set(candidates[i].auth)
        .send({ token: r.body.invitation.token })
        .expect(200);
    }
    const list = await request(t.url).get(`/api/workspaces/${ws}/members`).set(owner.auth).expect(200);
    expect(list.body.members).toHaveLength(3);
  });
});
