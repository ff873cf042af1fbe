import { Db } from '../src/database/db.service';
import { UserEntity } from '../src/database/entities/user.entity';
import request from 'supertest';
import { Clock, toRfc3339 } from '../src/common/clock';
import { createTestApp, TestApp } from './utils/app';
import { FakeClock } from './utils/clock';
import { Browser, signupAndLogin, signupBody } from './factories/user.factory';

/**
 * Workspace invitations as the DSentr web client uses them (Members tab, PendingInviteModal, the
 * login and signup pages): the requests below are the client's, with its headers (cookies, the
 * CSRF header where the client sends one) and bodies, and each test checks the fields it reads.
 */
describe('workspace invitations (the web client’s invite flow)', () => {
  let t: TestApp;
  const clock = new FakeClock(new Date());
  const DAY = 24 * 60 * 60 * 1000;
  const TOKEN = /^[0-9a-f]{32}$/;
  const LIMIT_MESSAGE =
    'Workspace plans support up to 3 combined members and pending invitations. Remove an existing member or revoke invites to free up seats.';

  beforeAll(async () => {
    t = await createTestApp(
      { RUNLOOM_ROLES: 'api', WORKSPACE_MEMBER_LIMIT: '3', WORKSPACE_INVITATION_TTL_DAYS: '5' },
      { overrides: [{ provide: Clock, useValue: clock }] },
    );
  });
  afterAll(() => t.close());

  /** A signed-in browser whose solo workspace is upgraded to the workspace plan (PlanTab). */
  const owner = async (): Promise<Browser & { ws: string }> => {
    const b = await signupAndLogin(t.url);
    const res = await b.agent
      .post('/api/workspaces/plan')
      .set('x-csrf-token', b.csrf)
      .send({ plan_tier: 'workspace', workspace_name: `Team ${Math.random().toString(36).slice(2, 8)}` })
      .expect(200);
    return Object.assign(b, { ws: res.body.workspace.id as string });
  };
  /** MembersTab → Invite (B6): JSON body with the CSRF header. */
  const invite = (by: Browser, ws: string, email: string, role = 'user', expiresInDays: number | null = 14) =>
    by.agent
      .post(`/api/workspaces/${ws}/invites`)
      .set('x-csrf-token', by.csrf)
      .send({ email, role, ...(expiresInDays === null ? {} : { expires_in_days: expiresInDays }) });
  /** PendingInviteModal → Accept / Decline (B3, B4): JSON body, and no CSRF header. */
  const answer = (who: Browser, what: 'accept' | 'decline', token: string) =>
    who.agent.post(`/api/invites/${what}`).set('content-type', 'application/json').send({ token });
  /** MembersTab → Revoke (B7): no body and no Content-Type. */
  const revoke = (by: Browser, ws: string, id: string) =>
    by.agent.post(`/api/workspaces/${ws}/invites/${id}/revoke`).set('x-csrf-token', by.csrf);
  const join = (who: Browser, token: string) => answer(who, 'accept', token).expect(200);
  const inDays = (days: number) => toRfc3339(new Date(clock.now().getTime() + days * DAY));

  it('B6 + B5: an admin invites an e-mail; the Members tab lists it pending with what it shows', async () => {
    const o = await owner();
    const res = await invite(o, o.ws, '  Grace.Hopper+B6@Example.COM ', 'admin', 14).expect(200);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    const created = res.body.invitation;
    expect(res.body).toEqual({
      success: true,
      invitation: {
        id: expect.any(String),
        workspace_id: o.ws,
        email: 'grace.hopper+b6@example.com',
        role: 'admin',
        token: expect.stringMatching(TOKEN),
        status: 'pending',
        expires_at: inDays(14),
        created_by: o.user.id,
        created_at: expect.any(String),
        accepted_at: null,
        revoked_at: null,
        declined_at: null,
      },
    });

    const list = await o.agent.get(`/api/workspaces/${o.ws}/invites`).expect(200);
    const { token: _token, ...withoutToken } = created;
    expect(list.body).toEqual({ success: true, invitations: [withoutToken] });
    // The link is shown once, to the inviter: the list never carries tokens.
    expect(JSON.stringify(list.body)).not.toContain(created.token);

    // The client's own header is what lets a cookie session invite.
    await o.agent
      .post(`/api/workspaces/${o.ws}/invites`)
      .send({ email: 'x@example.com', role: 'user', expires_in_days: 14 })
      .expect(403);
  });

  it('answers the same whether the e-mail has an account or not (no account enumeration)', async () => {
    const o = await owner();
    const known = await signupAndLogin(t.url);
    const a = await invite(o, o.ws, known.user.email, 'user').expect(200);
    const b = await invite(o, o.ws, signupBody().email, 'user').expect(200);
    const strip = (body: { invitation: Record<string, unknown> }) => {
      const { id: _id, email: _email, token: _token, ...rest } = body.invitation;
      return { ...body, invitation: rest };
    };
    expect(Object.keys(a.body.invitation).sort()).toEqual(Object.keys(b.body.invitation).sort());
    expect(strip(a.body)).toEqual(strip(b.body));
    // The known account was not added: only a pending invitation exists.
    const members = await o.agent.get(`/api/workspaces/${o.ws}/members`).expect(200);
    expect(members.body.members.map((m: { user_id: string }) => m.user_id)).toEqual([o.user.id]);
  });

  it('B1: the login and signup pages preview a link without a session; 404 for a token that names none', async () => {
    const o = await owner();
    const email = signupBody().email;
    const token = (await invite(o, o.ws, email, 'viewer').expect(200)).body.invitation.token;
    const workspaceName = (await o.agent.get('/api/workspaces').expect(200)).body.workspaces.find(
      (w: { workspace: { id: string } }) => w.workspace.id === o.ws,
    ).workspace.name;

    const res = await request(t.url).get(`/api/invites/${token}`).expect(200);
    expect(res.body).toEqual({
      success: true,
      invitation: expect.objectContaining({
        id: expect.any(String),
        workspace_id: o.ws,
        email,
        role: 'viewer',
        token,
        status: 'pending',
        expires_at: expect.any(String),
        workspace_name: workspaceName,
      }),
      expired: false,
      revoked: false,
      accepted: false,
      declined: false,
    });
    // Links that went through a mail client may come back in upper case.
    await request(t.url).get(`/api/invites/${token.toUpperCase()}`).expect(200);

    for (const bad of ['0123456789abcdef0123456789abcdef', 'not-a-token', `${token}0`]) {
      const missing = await request(t.url).get(`/api/invites/${bad}`).expect(404);
      expect(missing.headers['content-type']).toMatch(/application\/json/);
      expect(missing.body).toEqual({
        success: false,
        status: 'error',
        message: 'Invalid or expired token',
        code: 'not_found',
      });
    }
  });

  it('B2 + B3: the invitee sees the invitation, accepts it without the CSRF header and joins with the role', async () => {
    const o = await owner();
    const invitee = await signupAndLogin(t.url);
    const created = (await invite(o, o.ws, invitee.user.email.toUpperCase(), 'user').expect(200)).body.invitation;

    // E-mail verification is off here, so anyone could have signed up with the address: the list
    // shows the invitation but not its token, and only the inviter's link answers it.
    const unverified = await invitee.agent.get('/api/invites').expect(200);
    expect(unverified.body.invitations).toEqual([expect.not.objectContaining({ token: expect.anything() })]);
    expect(unverified.body.invitations[0]).toEqual(
      expect.objectContaining({
        id: created.id,
        workspace_id: o.ws,
        email: invitee.user.email,
        role: 'user',
        status: 'pending',
        workspace_name: expect.any(String),
      }),
    );

    // A browser reports a request from another site; an old one is judged by Origin.
    await invitee.agent
      .post('/api/invites/accept')
      .set('sec-fetch-site', 'cross-site')
      .send({ token: created.token })
      .expect(403);
    await invitee.agent
      .post('/api/invites/accept')
      .set('origin', 'https://evil.example')
      .send({ token: created.token })
      .expect(403);
    // `same-site` covers sibling subdomains, which get the cookie too: judged by Origin.
    await invitee.agent
      .post('/api/invites/accept')
      .set('sec-fetch-site', 'same-site')
      .set('origin', 'https://sibling.example')
      .send({ token: created.token })
      .expect(403);

    const accepted = await invitee.agent
      .post('/api/invites/accept')
      .set('content-type', 'application/json')
      .set('sec-fetch-site', 'same-origin')
      .send({ token: created.token })
      .expect(200);
    expect(accepted.body).toEqual({ success: true, workspace_id: o.ws });

    // refreshMemberships: the new workspace with the invited role.
    const workspaces = await invitee.agent.get('/api/workspaces').expect(200);
    expect(workspaces.body.workspaces).toContainEqual({
      workspace: expect.objectContaining({ id: o.ws, plan: 'workspace', owner_id: o.user.id }),
      role: 'user',
    });
    expect((await invitee.agent.get('/api/invites').expect(200)).body.invitations).toEqual([]);

    // A used link is refused, and says why.
    const again = await answer(invitee, 'accept', created.token).expect(400);
    expect(again.body).toEqual({
      success: false,
      status: 'error',
      message: 'This invitation was already accepted',
      code: 'invitation_unusable',
    });
    const preview = await request(t.url).get(`/api/invites/${created.token}`).expect(200);
    expect(preview.body).toEqual(
      expect.objectContaining({ accepted: true, invitation: expect.objectContaining({ status: 'accepted' }) }),
    );
    expect(preview.body.invitation.accepted_at).toEqual(expect.any(String));
  });

  it('accepting needs a session for the invited e-mail: anyone else is refused and joins nothing', async () => {
    const o = await owner();
    const invitee = await signupAndLogin(t.url);
    const intruder = await signupAndLogin(t.url);
    const token = (await invite(o, o.ws, invitee.user.email).expect(200)).body.invitation.token;

    await request(t.url).post('/api/invites/accept').send({ token }).expect(401);
    const mismatch = await answer(intruder, 'accept', token).expect(403);
    expect(mismatch.body.message).toBe('Invitation email mismatch');
    await answer(intruder, 'decline', token).expect(403);
    expect((await intruder.agent.get('/api/invites').expect(200)).body.invitations).toEqual([]);
    await intruder.agent.get(`/api/workspaces/${o.ws}/members`).expect(404);

    const unknown = await answer(invitee, 'accept', '0123456789abcdef0123456789abcdef').expect(404);
    expect(unknown.body.message).toBe('Invite not found');
    const noToken = await invitee.agent
      .post('/api/invites/accept')
      .set('content-type', 'application/json')
      .send({})
      .expect(400);
    expect(noToken.body.message).toBe('Invalid request: token is required');
    // The real invitee still can.
    await join(invitee, token);
  });

  it('B4: declining frees the seat; the declined link is refused', async () => {
    const o = await owner();
    const invitee = await signupAndLogin(t.url);
    const token = (await invite(o, o.ws, invitee.user.email).expect(200)).body.invitation.token;
    await invite(o, o.ws, signupBody().email).expect(200);
    await invite(o, o.ws, signupBody().email).expect(400);

    const declined = await answer(invitee, 'decline', token).expect(200);
    expect(declined.body).toEqual({ success: true, message: 'Invite declined' });
    await invite(o, o.ws, signupBody().email).expect(200);
    const refused = await answer(invitee, 'accept', token).expect(400);
    expect(refused.body.message).toBe('This invitation was declined');
    expect((await request(t.url).get(`/api/invites/${token}`).expect(200)).body.declined).toBe(true);
    const list = await o.agent.get(`/api/workspaces/${o.ws}/invites`).expect(200);
    expect(list.body.invitations).toContainEqual(
      expect.objectContaining({ email: invitee.user.email, status: 'declined', declined_at: expect.any(String) }),
    );
    await invitee.agent.get(`/api/workspaces/${o.ws}/members`).expect(404);
  });

  it('B7: admins and the owner revoke (no body), only in their workspace; the revoked link is refused', async () => {
    const o = await owner();
    const admin = await signupAndLogin(t.url);
    await join(admin, (await invite(o, o.ws, admin.user.email, 'admin').expect(200)).body.invitation.token);
    const invitee = await signupAndLogin(t.url);
    const created = (await invite(o, o.ws, invitee.user.email).expect(200)).body.invitation;

    // Someone else's workspace cannot reach it through its own id.
    const other = await owner();
    const elsewhere = await revoke(other, other.ws, created.id).expect(404);
    expect(elsewhere.body.message).toBe('Invitation not found');
    await revoke(other, o.ws, created.id).expect(404);

    expect((await revoke(admin, o.ws, created.id).expect(200)).body).toEqual({ success: true });
    await revoke(o, o.ws, created.id).expect(200);
    const refused = await answer(invitee, 'accept', created.token).expect(400);
    expect(refused.body).toEqual(
      expect.objectContaining({ message: 'This invitation was revoked', code: 'invitation_unusable' }),
    );
    expect((await request(t.url).get(`/api/invites/${created.token}`).expect(200)).body.revoked).toBe(true);
    expect((await invitee.agent.get('/api/invites').expect(200)).body.invitations).toEqual([]);

    // An answered invitation stays answered.
    const adminInvitation = (await o.agent.get(`/api/workspaces/${o.ws}/invites`).expect(200)).body.invitations.find(
      (i: { email: string }) => i.email === admin.user.email,
    );
    const late = await revoke(o, o.ws, adminInvitation.id).expect(409);
    expect(late.body.message).toBe('The invitation was already accepted');
    await revoke(o, o.ws, 'not-a-uuid').expect(400);
  });

  it('only admins and the owner invite, list and revoke; owner is never handed out; bad input is a 400', async () => {
    const o = await owner();
    const admin = await signupAndLogin(t.url);
    const user = await signupAndLogin(t.url);
    await join(admin, (await invite(o, o.ws, admin.user.email, 'admin').expect(200)).body.invitation.token);
    // An admin invites as the owner does.
    const pending = (await invite(admin, o.ws, user.user.email, 'user').expect(200)).body.invitation;
    expect(pending.created_by).toBe(admin.user.id);
    await join(user, pending.token);
    const outsider = await signupAndLogin(t.url);

    const denied = await invite(user, o.ws, 'someone@example.com').expect(403);
    expect(denied.body.message).toBe('Admin permissions required');
    await user.agent.get(`/api/workspaces/${o.ws}/invites`).expect(403);
    await revoke(user, o.ws, pending.id).expect(403);
    const hidden = await invite(outsider, o.ws, 'someone@example.com').expect(404);
    expect(hidden.body.message).toBe('Workspace not found');
    await outsider.agent.get(`/api/workspaces/${o.ws}/invites`).expect(404);

    const adminOwner = await invite(admin, o.ws, 'heir@example.com', 'owner').expect(403);
    expect(adminOwner.body.message).toBe('Only the current owner can initiate ownership transfers');
    const ownerOwner = await invite(o, o.ws, 'heir@example.com', 'owner').expect(400);
    expect(ownerOwner.body.message).toBe(
      'Invite members as admin, user, or viewer and transfer ownership after they join',
    );
    expect((await invite(o, o.ws, '   ').expect(400)).body.message).toBe('Email is required');
    expect((await invite(o, o.ws, 'not an email').expect(400)).body.code).toBe('invalid_request');
    expect((await invite(o, o.ws, 'x@example.com', 'emperor').expect(400)).body.code).toBe('invalid_request');
    await invite(o, o.ws, 'x@example.com', 'user', 'soon' as unknown as number).expect(400);

    // A solo workspace has no members to invite (403 workspace_plan_required).
    const solo = await signupAndLogin(t.url);
    const soloWs = (await solo.agent.get('/api/workspaces').expect(200)).body.workspaces[0].workspace.id;
    const plan = await invite(solo, soloWs, 'x@example.com').expect(403);
    expect(plan.body).toEqual({
      success: false,
      status: 'error',
      message: 'Upgrade to the Workspace plan to invite or manage members in this workspace',
      code: 'workspace_plan_required',
    });
  });

  it('pending invitations hold seats of WORKSPACE_MEMBER_LIMIT; expired, declined and revoked ones do not', async () => {
    const o = await owner();
    const first = await signupAndLogin(t.url);
    const second = await signupAndLogin(t.url);
    const a = (await invite(o, o.ws, first.user.email, 'user', 1).expect(200)).body.invitation;
    const b = (await invite(o, o.ws, second.user.email).expect(200)).body.invitation;

    // Owner + two pending = 3 seats.
    const full = await invite(o, o.ws, 'third@example.com').expect(400);
    expect(full.body).toEqual({
      success: false,
      status: 'error',
      message: LIMIT_MESSAGE,
      code: 'workspace_member_limit',
    });
    const dup = await invite(o, o.ws, second.user.email).expect(409);
    expect(dup.body.message).toBe('An invitation to this email is already pending');

    // Revoking frees a seat; accepting needs none (the invitation holds its own).
    await revoke(o, o.ws, b.id).expect(200);
    const c = (await invite(o, o.ws, 'third@example.com').expect(200)).body.invitation;
    await join(first, a.token);
    await invite(o, o.ws, 'fourth@example.com').expect(400);

    // A one-day invitation, seen two days later, is expired and holds no seat.
    await revoke(o, o.ws, c.id).expect(200);
    const late = await signupAndLogin(t.url);
    const expiring = (await invite(o, o.ws, late.user.email, 'viewer', 1).expect(200)).body.invitation;
    await invite(o, o.ws, 'fifth@example.com').expect(400);
    const start = clock.now();
    try {
      clock.set(new Date(start.getTime() + 2 * DAY).toISOString());
      expect((await late.agent.get('/api/invites').expect(200)).body.invitations).toEqual([]);
      const expired = await answer(late, 'accept', expiring.token).expect(400);
      expect(expired.body).toEqual(
        expect.objectContaining({ message: 'This invitation has expired', code: 'invitation_unusable' }),
      );
      expect((await request(t.url).get(`/api/invites/${expiring.token}`).expect(200)).body).toEqual(
        expect.objectContaining({ expired: true, revoked: false, accepted: false, declined: false }),
      );
      // Its seat is free again.
      await invite(o, o.ws, 'fifth@example.com').expect(200);
    } finally {
      clock.set(start.toISOString());
    }
  });

  it('expiry: expires_in_days is clamped to 1..60; without it WORKSPACE_INVITATION_TTL_DAYS applies', async () => {
    const o = await owner();
    const at = async (days: number | null) =>
      (await invite(o, o.ws, signupBody().email, 'user', days).expect(200)).body.invitation.expires_at;
    expect(await at(null)).toBe(inDays(5));
    expect(await at(0)).toBe(inDays(1));
    // The seat limit (3) is reached here: revoke to make room.
    const list = (await o.agent.get(`/api/workspaces/${o.ws}/invites`).expect(200)).body.invitations;
    for (const i of list) await revoke(o, o.ws, i.id).expect(200);
    expect(await at(365)).toBe(inDays(60));
  });

  it('a workspace moved back to solo takes no new members, even by invitation', async () => {
    const o = await owner();
    const invitee = await signupAndLogin(t.url);
    const token = (await invite(o, o.ws, invitee.user.email).expect(200)).body.invitation.token;
    await o.agent.post('/api/workspaces/plan').set('x-csrf-token', o.csrf).send({ plan_tier: 'solo' }).expect(200);
    const res = await answer(invitee, 'accept', token).expect(403);
    expect(res.body.code).toBe('workspace_plan_required');
    await invitee.agent.get(`/api/workspaces/${o.ws}/members`).expect(404);
    // Declining needs no plan.
    await answer(invitee, 'decline', token).expect(200);
  });

  describe('with REQUIRE_EMAIL_VERIFICATION=true', () => {
    let v: TestApp;
    beforeAll(async () => {
      v = await createTestApp({ RUNLOOM_ROLES: 'api', REQUIRE_EMAIL_VERIFICATION: 'true' });
    });
    afterAll(() => v.close());

    /** Signs up, marks the address verified (as the verification link would), signs in. */
    async function verifiedBrowser(): Promise<Browser> {
      const agent = request.agent(v.url);
      const csrf = (await agent.get('/api/auth/csrf-token').expect(200)).text;
      const body = signupBody();
      await agent.post('/api/auth/signup').set('x-csrf-token', csrf).send(body).expect(201);
      await v.app
        .get(Db)
        .manager.getRepository(UserEntity)
        .update({ email: body.email.toLowerCase() }, { isVerified: true });
      const login = await agent
        .post('/api/auth/login')
        .set('x-csrf-token', csrf)
        .send({ email: body.email, password: body.password })
        .expect(200);
      return { agent, csrf, user: login.body.user, body: login.body };
    }

    it('B2: a verified invitee sees the token and accepts from the list', async () => {
      const inviter = await verifiedBrowser();
      const ws = (
        await inviter.agent
          .post('/api/workspaces/plan')
          .set('x-csrf-token', inviter.csrf)
          .send({ plan_tier: 'workspace', workspace_name: 'Verified team' })
          .expect(200)
      ).body.workspace.id;
      const invitee = await verifiedBrowser();
      const created = (
        await inviter.agent
          .post(`/api/workspaces/${ws}/invites`)
          .set('x-csrf-token', inviter.csrf)
          .send({ email: invitee.user.email, role: 'viewer' })
          .expect(200)
      ).body.invitation;
      const mine = await invitee.agent.get('/api/invites').expect(200);
      expect(mine.body.invitations).toEqual([expect.objectContaining({ id: created.id, token: created.token })]);
      await invitee.agent
        .post('/api/invites/accept')
        .set('sec-fetch-site', 'same-origin')
        .send({ token: mine.body.invitations[0].token })
        .expect(200);
    });
  });
});
