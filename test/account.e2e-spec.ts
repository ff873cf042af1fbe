import { EventSource } from 'eventsource';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { Clock } from '../src/common/clock';
import { MailTransportTuning } from '../src/mail/mailer';
import { createTestApp, TestApp } from './utils/app';
import { waitFor } from './utils/wait';
import { Browser, signupAndLogin } from './factories/user.factory';
import { Actor, actor, addMember, createWorkflow, graph, trigger, upgrade } from './factories/workflow.factory';

/**
 * The account routes as the DSentr web client calls them (cookie session + `x-csrf-token`): password
 * change, privacy choice, account deletion through an e-mailed link (a real SMTP server on
 * 127.0.0.1 receives it), and the social login buttons while no provider is configured.
 */

const PUBLIC_URL = 'http://app.example.test';
const PASSWORD = 'purple monkey dishwasher 42';

interface Mail {
  to: string[];
  text: string;
}

/** A real SMTP server (STARTTLS with its self-signed certificate) that keeps what it receives. */
class MailCatcher {
  readonly mails: Mail[] = [];
  port = 0;
  private readonly server = new SMTPServer({
    logger: false,
    authOptional: true,
    onData: (stream, session, callback) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        // Quoted-printable: soft line breaks and `=XX` escapes.
        const text = Buffer.concat(chunks)
          .toString('utf8')
          .replace(/=\r?\n/g, '')
          .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
        this.mails.push({ to: session.envelope.rcptTo.map((r) => r.address), text });
        callback();
      });
    },
  });

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.server.address() as AddressInfo).port;
    return this;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** The deletion link of the newest mail to `email`. */
  async deletionToken(email: string, after = 0): Promise<string> {
    const mail = await waitFor(
      () => this.mails.slice(after).find((m) => m.to.includes(email) && m.text.includes('/delete-account/')),
      `the deletion mail to ${email}`,
    );
    const match = new RegExp(`${PUBLIC_URL.replace(/\./g, '\\.')}/delete-account/([0-9a-f-]{36})`).exec(mail.text);
    expect(match).not.toBeNull();
    return match![1];
  }
}

const csrfPost = (b: Browser, path: string) => b.agent.post(path).set('x-csrf-token', b.csrf);
const csrfPut = (b: Browser, path: string) => b.agent.put(path).set('x-csrf-token', b.csrf);

/** Real time, moved ahead by hand (links expire). */
class ShiftedClock extends Clock {
  offsetMs = 0;
  override now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
}

/** A second sign-in of the same account (another device). */
async function secondSession(t: TestApp, email: string, password = PASSWORD): Promise<{ Authorization: string }> {
  const login = await request(t.url).post('/api/auth/login').send({ email, password }).expect(200);
  const cookie = ([] as string[])
    .concat(login.headers['set-cookie'] ?? [])
    .find((c) => c.startsWith('dsentr_session='))!;
  return { Authorization: `Bearer ${cookie.split(';')[0].split('=')[1]}` };
}

/** An EventSource on the caller's run-status stream, recording when it ended and why. */
function statusStream(t: TestApp, auth: { Authorization: string }) {
  const stream = { opened: false, errors: [] as unknown[], droppedAt: undefined as number | undefined };
  const source = new EventSource(`${t.url}/api/workflows/runs/events`, {
    fetch: (input, init) =>
      fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), ...auth } }),
  });
  source.addEventListener('status', () => (stream.opened = true));
  source.addEventListener('error', (event) => {
    const data = (event as MessageEvent).data as unknown;
    if (typeof data === 'string') stream.errors.push(JSON.parse(data));
    else stream.droppedAt ??= Date.now();
  });
  return { stream, close: () => source.close() };
}

describe('account routes (A6–A12)', () => {
  let t: TestApp;
  let smtp: MailCatcher;
  const clock = new ShiftedClock();

  beforeAll(async () => {
    smtp = await new MailCatcher().start();
    t = await createTestApp(
      {
        SMTP_HOST: '127.0.0.1',
        SMTP_PORT: String(smtp.port),
        SMTP_FROM: 'Runloom <no-reply@example.test>',
        PUBLIC_URL,
        SSE_KEEPALIVE_MS: '100',
        WORKER_POLL_INTERVAL_MS: '20',
      },
      {
        overrides: [
          { provide: MailTransportTuning, useValue: { allowInsecureTls: true } },
          { provide: Clock, useValue: clock },
        ],
      },
    );
  });
  afterAll(async () => {
    await t.close();
    await smtp.stop();
  });
  afterEach(() => (clock.offsetMs = 0));

  describe('social login without a provider (A12)', () => {
    it.each([
      ['google-login', 'Google'],
      ['github-login', 'GitHub'],
    ])('GET /api/auth/%s redirects to the login page with an error it shows', async (route, provider) => {
      for (const query of ['', '?accepted_terms_version=1.0']) {
        const res = await request(t.url).get(`/api/auth/${route}${query}`).expect(303);
        const location = new URL(res.headers.location);
        expect(`${location.origin}${location.pathname}`).toBe(`${PUBLIC_URL}/login`);
        expect(location.searchParams.get('error')).toBe(`${provider} sign-in is not configured on this server.`);
        expect(res.headers['content-type'] ?? '').not.toContain('application/json');
        expect(res.headers['cache-control']).toBe('no-store');
      }
    });
  });

  describe('privacy (A7, A8)', () => {
    it('defaults to allow, saves the choice, keeps the other settings', async () => {
      const b = await signupAndLogin(t.url);
      expect((await b.agent.get('/api/account/privacy').expect(200)).body).toEqual({ success: true, allow: true });

      const ws = (await b.agent.get('/api/workspaces').expect(200)).body.workspaces[0].workspace.id;
      await csrfPut(b, '/api/options/user-settings')
        .send({ workspace_id: ws, runaway_protection_enabled: false })
        .expect(200);
      expect((await csrfPut(b, '/api/account/privacy').send({ allow: false }).expect(200)).body).toEqual({
        success: true,
        allow: false,
      });
      expect((await b.agent.get('/api/account/privacy').expect(200)).body.allow).toBe(false);
      const runaway = await b.agent.get(`/api/options/user-settings?workspace=${ws}`).expect(200);
      expect(runaway.body.settings.workflows.runaway_protection_enabled).toBe(false);

      await csrfPut(b, '/api/account/privacy').send({ allow: true }).expect(200);
      expect((await b.agent.get('/api/account/privacy').expect(200)).body.allow).toBe(true);
    });

    it('refuses a bad body, a missing CSRF token and anonymous callers in the envelope', async () => {
      const b = await signupAndLogin(t.url);
      for (const body of [{}, { allow: 'no' }, { allow: null }]) {
        const res = await csrfPut(b, '/api/account/privacy').send(body).expect(400);
        expect(res.body).toMatchObject({ success: false, status: 'error', code: 'invalid_request' });
        expect(res.body.message).toContain('allow');
      }
      await b.agent.put('/api/account/privacy').send({ allow: false }).expect(403);
      await request(t.url).get('/api/account/privacy').expect(401);
      expect((await b.agent.get('/api/account/privacy').expect(200)).body.allow).toBe(true);
    });
  });

  describe('change password (A6)', () => {
    it('needs the current password, keeps this session, ends the others, their streams and every API key', async () => {
      const b = await signupAndLogin(t.url);
      const email = b.user.email;
      const other = await secondSession(t, email);
      const key = (await csrfPost(b, '/api/auth/api-keys').send({ name: 'made before' }).expect(201)).body.token;
      const { stream, close } = statusStream(t, other);
      try {
        await waitFor(() => stream.opened, 'the other session stream to open');

        const wrong = await csrfPost(b, '/api/auth/change-password')
          .send({ current_password: 'not my password', new_password: 'a brand new password' })
          .expect(400);
        expect(wrong.body).toMatchObject({ success: false, message: 'Current password is incorrect.' });
        const weak = await csrfPost(b, '/api/auth/change-password')
          .send({ current_password: PASSWORD, new_password: 'short' })
          .expect(400);
        expect(weak.body.message).toContain('new_password must be at least 8 characters');
        const missing = await csrfPost(b, '/api/auth/change-password')
          .send({ new_password: 'long enough 123' })
          .expect(400);
        expect(missing.body.message).toContain('current_password');
        await b.agent
          .post('/api/auth/change-password')
          .send({ current_password: PASSWORD, new_password: 'a brand new password' })
          .expect(403);
        expect(stream.droppedAt).toBeUndefined();

        const changedAt = Date.now();
        const ok = await csrfPost(b, '/api/auth/change-password')
          .send({ current_password: PASSWORD, new_password: 'a brand new password' })
          .expect(200);
        expect(ok.body).toEqual({ success: true, message: 'Password updated successfully.' });

        await b.agent.get('/api/auth/me').expect(200);
        await request(t.url).get('/api/auth/me').set(other).expect(401);
        await request(t.url).get('/api/auth/me').set('Authorization', `Bearer ${key}`).expect(401);
        const dropped = await waitFor(() => stream.droppedAt, 'the other session stream to end', 2_000);
        expect(dropped - changedAt).toBeLessThan(1_000);
        expect(stream.errors).toEqual([{ error: 'access_revoked' }]);

        await request(t.url).post('/api/auth/login').send({ email, password: PASSWORD }).expect(401);
        await request(t.url).post('/api/auth/login').send({ email, password: 'a brand new password' }).expect(200);
      } finally {
        close();
      }
    });

    it('is refused to an API key and to anonymous callers', async () => {
      const b = await signupAndLogin(t.url);
      const key = (await csrfPost(b, '/api/auth/api-keys').send({ name: 'ci' }).expect(201)).body.token as string;
      const body = { current_password: PASSWORD, new_password: 'a brand new password' };
      await request(t.url)
        .post('/api/auth/change-password')
        .set('Authorization', `Bearer ${key}`)
        .send(body)
        .expect(403);
      await request(t.url).post('/api/auth/change-password').send(body).expect(401);
      await request(t.url).post('/api/auth/login').send({ email: b.user.email, password: PASSWORD }).expect(200);
    });
  });

  describe('account deletion (A9–A11)', () => {
    /** A workspace owner with a personal secret; the leaver, a member with a life of their own there. */
    async function scene() {
      const owner = await actor(t.url);
      const workspaceId = await upgrade(t.url, owner);
      const ownerEmail = (await request(t.url).get('/api/auth/me').set(owner.auth).expect(200)).body.user.email;
      const leaver = await signupAndLogin(t.url);
      const leaverActor: Actor = {
        userId: leaver.user.id,
        auth: await secondSession(t, leaver.user.email),
        soloWorkspaceId: (await leaver.agent.get('/api/workspaces').expect(200)).body.workspaces[0].workspace.id,
      };
      await addMember(t.url, owner, workspaceId, leaverActor, 'user');

      const put = (who: { auth: Record<string, string> }, name: string, value: string) =>
        request(t.url).put(`/api/options/secrets/http/bearer_token/${name}`).set(who.auth).send({ value }).expect(200);
      // The owner's own secret, named like one of the leaver's, and one the owner shares with the workspace.
      await put(owner, 'deploy', 'owner-personal-deploy-token');
      await put(owner, 'team', 'owner-shared-team-token');
      await request(t.url)
        .put('/api/options/secrets/http/bearer_token/team/sharing')
        .set(owner.auth)
        .send({ workspace_id: workspaceId })
        .expect(200);
      await put(leaverActor, 'deploy', 'leaver-personal-deploy-token');

      const ownerWorkflow = await createWorkflow(t.url, owner, graph([trigger()]), workspaceId);
      const http = {
        id: 'http-1',
        type: 'actionHttp',
        data: {
          label: 'Call',
          actionType: 'http',
          params: {
            url: 'http://127.0.0.1:9/nowhere',
            method: 'POST',
            authType: 'bearer',
            token: 'http:bearer_token:deploy',
            headers: [
              { key: 'X-Team', value: 'http:bearer_token:team' },
              { key: 'X-Lent', value: 'http:bearer_token:lent' },
            ],
          },
        },
      };
      const teamWorkflow = await createWorkflow(
        t.url,
        leaverActor,
        graph([trigger(), http], [['trigger-1', 'http-1']]),
        workspaceId,
      );
      // A secret the leaver adds in the workspace: shared with it, and logged on its workflows under their name.
      await request(t.url)
        .put(`/api/options/secrets/http/bearer_token/lent?workspace=${workspaceId}`)
        .set(leaverActor.auth)
        .send({ value: 'leaver-shared-lent-token' })
        .expect(200);
      await waitFor(
        async () =>
          JSON.stringify(
            (
              await request(t.url)
                .get(`/api/workflows/${ownerWorkflow.id}/logs?workspace=${workspaceId}`)
                .set(owner.auth)
            ).body.logs,
          ).includes(leaver.user.email),
        'the history entry naming the leaver',
      );
      const personal = await createWorkflow(t.url, leaverActor, graph([trigger()]));
      const run = (
        await request(t.url).post(`/api/workflows/${personal.id}/run`).set(leaverActor.auth).send({}).expect(202)
      ).body.run;
      await waitFor(
        async () =>
          ['succeeded', 'failed'].includes(
            (await request(t.url).get(`/api/workflows/${personal.id}/runs/${run.id}`).set(leaverActor.auth)).body.run
              ?.status,
          ),
        'the personal run to finish',
      );
      const key = (await csrfPost(leaver, '/api/auth/api-keys').send({ name: 'ci' }).expect(201)).body.token as string;
      return { owner, ownerEmail, workspaceId, leaver, leaverActor, ownerWorkflow, teamWorkflow, personal, key };
    }

    it('request → e-mailed link → summary → confirm: the account is gone, the workspace keeps its work', async () => {
      const s = await scene();
      const { leaver } = s;
      const email = leaver.user.email;

      // A9: the client's checks, in DSentr's order.
      const noEmail = await csrfPost(leaver, '/api/account/delete/request').send({ password: PASSWORD }).expect(400);
      expect(noEmail.body.message).toBe('Email is required');
      const otherEmail = await csrfPost(leaver, '/api/account/delete/request')
        .send({ email: s.ownerEmail, password: PASSWORD })
        .expect(401);
      expect(otherEmail.body.message).toBe('Invalid credentials');
      const noPassword = await csrfPost(leaver, '/api/account/delete/request').send({ email }).expect(400);
      expect(noPassword.body.message).toBe('Password is required to confirm deletion');
      await csrfPost(leaver, '/api/account/delete/request').send({ email, password: 'wrong password' }).expect(401);
      await leaver.agent.post('/api/account/delete/request').send({ email, password: PASSWORD }).expect(403);
      await request(t.url)
        .post('/api/account/delete/request')
        .set('Authorization', `Bearer ${s.key}`)
        .send({ email, password: PASSWORD })
        .expect(403);

      const mailsBefore = smtp.mails.length;
      const requested = await csrfPost(leaver, '/api/account/delete/request')
        .send({ email: email.toUpperCase(), password: PASSWORD })
        .expect(200);
      expect(requested.body).toEqual({
        status: 'success',
        success: true,
        message: 'Check your email for a confirmation link to permanently delete your account.',
        code: null,
      });
      const token = await smtp.deletionToken(email, mailsBefore);
      // Only the hash is stored.
      const db = t.app.get(DataSource);
      const stored = await db.query(`SELECT token_hash FROM email_tokens WHERE purpose = 'delete_account'`);
      expect(JSON.stringify(stored)).not.toContain(token);

      // A10: only the signed-in account the link was sent to sees it.
      const stranger = await signupAndLogin(t.url);
      const foreign = await stranger.agent.get(`/api/account/delete/summary/${token}`).expect(404);
      expect(foreign.body.message).toBe('Deletion link is invalid');
      await request(t.url).get(`/api/account/delete/summary/${token}`).expect(401);
      await leaver.agent.get('/api/account/delete/summary/not-a-token').expect(404);
      const summary = (await leaver.agent.get(`/api/account/delete/summary/${token}`).expect(200)).body;
      expect(summary).toMatchObject({
        success: true,
        email,
        requires_password: true,
        oauth_provider: 'email',
        counts: {
          workflows: 1,
          owned_workspaces: 1,
          member_workspaces: 1,
          workflow_runs: 1,
          workflow_logs: expect.any(Number),
          oauth_connections: 0,
          pending_invitations: 0,
          secrets: 2,
        },
        stripe: { has_customer: false, has_active_subscription: false },
        compliance_notice: expect.any(String),
      });
      for (const at of [summary.requested_at, summary.expires_at]) expect(new Date(at).toISOString()).toBeTruthy();
      expect(new Date(summary.expires_at).getTime() - new Date(summary.requested_at).getTime()).toBe(86_400_000);
      expect(Array.isArray(summary.additional_data)).toBe(true);
      expect(summary.system_impacts.join(' ')).toContain('pass to each workspace');
      expect(summary.system_impacts.join(' ')).toContain('1 secret you shared');

      // A11: token, e-mail and password again.
      const noToken = await csrfPost(leaver, '/api/account/delete/confirm')
        .send({ email, password: PASSWORD })
        .expect(400);
      expect(noToken.body.message).toBe('Deletion token is required');
      const mismatch = await csrfPost(leaver, '/api/account/delete/confirm')
        .send({ token, email: s.ownerEmail, password: PASSWORD })
        .expect(401);
      expect(mismatch.body.message).toBe('Email does not match this deletion request');
      await csrfPost(leaver, '/api/account/delete/confirm')
        .send({ token, email, password: 'nope nope nope' })
        .expect(401);
      await csrfPost(stranger, '/api/account/delete/confirm')
        .send({ token, email: stranger.user.email, password: PASSWORD })
        .expect(404);
      await leaver.agent.get('/api/auth/me').expect(200);

      const other = statusStream(t, s.leaverActor.auth);
      try {
        await waitFor(() => other.stream.opened, 'the second session stream to open');
        const confirmedAt = Date.now();
        const confirmed = await csrfPost(leaver, '/api/account/delete/confirm')
          .send({ token, email, password: PASSWORD })
          .expect(200);
        expect(confirmed.body).toMatchObject({ status: 'success', success: true, code: null });
        expect(String(confirmed.headers['set-cookie'])).toMatch(/dsentr_session=;/);
        const dropped = await waitFor(() => other.stream.droppedAt, 'the second session stream to end', 2_000);
        expect(dropped - confirmedAt).toBeLessThan(1_000);
      } finally {
        other.close();
      }

      // The client logs out afterwards: quietly fine.
      await csrfPost(leaver, '/api/auth/logout').expect(200);
      await request(t.url).post('/api/auth/login').send({ email, password: PASSWORD }).expect(401);
      await request(t.url).get('/api/auth/me').set(s.leaverActor.auth).expect(401);
      await request(t.url).get('/api/auth/me').set('Authorization', `Bearer ${s.key}`).expect(401);
      await waitFor(
        () => smtp.mails.some((m) => m.to.includes(email) && m.text.includes('deleted')),
        'the goodbye mail',
      );

      // Nothing keyed to the account is left.
      const p = db.options.type === 'postgres' ? '$1' : '?';
      const count = async (where: string, value: string) =>
        Number((await db.query(`SELECT COUNT(*) AS n FROM ${where} = ${p}`, [value]))[0].n);
      for (const where of [
        'users WHERE id',
        'user_sessions WHERE user_id',
        'api_keys WHERE user_id',
        'user_secrets WHERE user_id',
        'workspace_members WHERE user_id',
        'email_tokens WHERE user_id',
        'workflows WHERE user_id',
        'workspaces WHERE owner_id',
      ]) {
        expect([where, await count(where, leaver.user.id)]).toEqual([where, 0]);
      }
      expect(await count('workflow_runs WHERE workflow_id', s.personal.id)).toBe(0);

      // The workspace keeps its workflows; the leaver's one now belongs to the owner.
      const members = (
        await request(t.url).get(`/api/workspaces/${s.workspaceId}/members`).set(s.owner.auth).expect(200)
      ).body.members as { user_id: string }[];
      expect(members.map((m) => m.user_id)).toEqual([s.owner.userId]);
      const ws = `?workspace=${s.workspaceId}`;
      await request(t.url).get(`/api/workflows/${s.ownerWorkflow.id}${ws}`).set(s.owner.auth).expect(200);
      const kept = (await request(t.url).get(`/api/workflows/${s.teamWorkflow.id}${ws}`).set(s.owner.auth).expect(200))
        .body.workflow;
      expect(kept.user_id).toBe(s.owner.userId);
      // Only the reference a workspace secret of someone else answers survives: the owner's own
      // `deploy` is not picked up, and the leaver's `lent` went with them.
      const [row] = await db.query(`SELECT data FROM workflows WHERE id = ${p}`, [s.teamWorkflow.id]);
      const data = typeof row.data === 'string' ? JSON.parse(row.data) : row.data;
      const params = data.nodes.find((n: { id: string }) => n.id === 'http-1').data.params;
      expect(params.token).toBe('');
      expect(params.headers).toEqual([
        { key: 'X-Team', value: 'http:bearer_token:team' },
        { key: 'X-Lent', value: '' },
      ]);
      // The cleared graph is a version of its own, made by no one: runs name a version that holds it.
      const versions = (
        await request(t.url).get(`/api/workflows/${s.teamWorkflow.id}/versions`).set(s.owner.auth).expect(200)
      ).body;
      expect(kept.version).toBe(versions.latest);
      expect(versions.versions[0]).toMatchObject({ number: kept.version, created_by: null });
      expect(versions.versions[0].summary).toContain('Handed over to the workspace owner');
      // Its history keeps what happened but no longer names the leaver.
      const logs = (
        await request(t.url).get(`/api/workflows/${s.ownerWorkflow.id}/logs${ws}`).set(s.owner.auth).expect(200)
      ).body.logs as unknown[];
      expect(logs.length).toBeGreaterThan(0);
      expect(JSON.stringify(logs)).not.toContain(email);
      expect(JSON.stringify(logs)).toContain('a deleted account');
      const secrets = (await request(t.url).get('/api/options/secrets').set(s.owner.auth).expect(200)).body;
      expect(JSON.stringify(secrets)).toContain('deploy');
      expect(JSON.stringify(secrets)).not.toContain('lent');

      // The address is free again.
      await request(t.url)
        .post('/api/auth/signup')
        .send({ first_name: 'Ada', last_name: 'Again', email, password: PASSWORD, accepted_terms_version: '2025-01' })
        .expect(201);
    });

    it('is refused while the account owns a workspace with other members', async () => {
      const owner = await signupAndLogin(t.url);
      const ownerActor: Actor = {
        userId: owner.user.id,
        auth: await secondSession(t, owner.user.email),
        soloWorkspaceId: '',
      };
      const workspaceId = await upgrade(t.url, ownerActor);
      const name = (await owner.agent.get('/api/workspaces').expect(200)).body.workspaces[0].workspace.name as string;
      await addMember(t.url, ownerActor, workspaceId, await actor(t.url), 'viewer');
      const refused = await csrfPost(owner, '/api/account/delete/request')
        .send({ email: owner.user.email, password: PASSWORD })
        .expect(409);
      expect(refused.body).toMatchObject({ success: false, code: 'conflict' });
      expect(refused.body.message).toContain('other members');
      expect(refused.body.message).toContain(name);
      await owner.agent.get('/api/auth/me').expect(200);
    });

    it('a link expires after 24 hours and a newer one replaces it', async () => {
      const b = await signupAndLogin(t.url);
      const email = b.user.email;
      const first = smtp.mails.length;
      await csrfPost(b, '/api/account/delete/request').send({ email, password: PASSWORD }).expect(200);
      const old = await smtp.deletionToken(email, first);
      const second = smtp.mails.length;
      await csrfPost(b, '/api/account/delete/request').send({ email, password: PASSWORD }).expect(200);
      const token = await smtp.deletionToken(email, second);
      expect(token).not.toBe(old);
      await b.agent.get(`/api/account/delete/summary/${old}`).expect(404);

      clock.offsetMs = 86_400_000 + 60_000;
      const expired = await b.agent.get(`/api/account/delete/summary/${token}`).expect(400);
      expect(expired.body.message).toBe('This deletion link has expired. Please start again.');
      const confirm = await csrfPost(b, '/api/account/delete/confirm').send({ token, email, password: PASSWORD });
      expect(confirm.status).toBe(400);
      expect(confirm.body.message).toBe('This deletion link has expired. Start again.');
      await request(t.url).post('/api/auth/login').send({ email, password: PASSWORD }).expect(200);
    });

    it('answers JSON for bodies of the wrong shape', async () => {
      const b = await signupAndLogin(t.url);
      const res = await csrfPost(b, '/api/account/delete/confirm').send({ token: 5, email: [] }).expect(400);
      expect(res.body).toMatchObject({ success: false, code: 'invalid_request' });
      await csrfPost(b, '/api/account/delete/request').set('content-type', 'application/json').send('[1]').expect(422);
    });
  });
});
