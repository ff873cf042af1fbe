import { EventSource } from 'eventsource';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import request from 'supertest';
import TestAgent from 'supertest/lib/agent';
import { DataSource } from 'typeorm';
import { Clock } from '../src/common/clock';
import { UserRepository } from '../src/database/repositories/user.repository';
import { Mailer, MailTransportTuning } from '../src/mail/mailer';
import { signupBody, SignupBody } from './factories/user.factory';
import { createTestApp, TestApp } from './utils/app';
import { FakeClock } from './utils/clock';
import { waitFor } from './utils/wait';

/**
 * Runloom's own e-mail as the DSentr web client meets it: the verification, password-reset and
 * invitation links go through a real SMTP server on 127.0.0.1 (STARTTLS, authenticated), each test
 * takes the link out of the delivered message and follows it the way the client's pages do.
 */

const SMTP_PASSWORD = 'smtp-relay-password-Kx92-never-logged';
const FE = 'https://app.runloom.test';
const RESEND = 'If an account exists for that email, a verification link has been sent.';
const FORGOT = 'If that email exists, a reset link has been sent.';
const MINUTE = 60_000;

interface Mail {
  from?: string;
  to: string[];
  secure: boolean;
  user?: string;
  subject: string;
  text: string;
}

/** Headers and text body of a single-part message (7bit, quoted-printable or base64). */
function parse(raw: string): { subject: string; text: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const header = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(head)?.[1].trim() ?? '';
  let body = raw.slice(split + 4);
  const encoding = header('Content-Transfer-Encoding').toLowerCase();
  if (encoding === 'quoted-printable') {
    body = Buffer.from(
      body
        .replace(/=\r\n/g, '')
        .replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
      'latin1',
    ).toString('utf8');
  } else if (encoding === 'base64') {
    body = Buffer.from(body, 'base64').toString('utf8');
  }
  return { subject: header('Subject'), text: body.replace(/\r\n/g, '\n') };
}

/** A real SMTP server (self-signed certificate, STARTTLS, PLAIN/LOGIN auth) keeping what it receives. */
class Mailbox {
  readonly mails: Mail[] = [];
  port = 0;
  private readonly server = new SMTPServer({
    logger: false,
    authMethods: ['PLAIN', 'LOGIN'],
    onAuth: (auth, _session, callback) =>
      auth.username === 'mailer' && auth.password === SMTP_PASSWORD
        ? callback(null, { user: auth.username })
        : callback(new Error('Invalid username or password')),
    onData: (stream, session: SMTPServerSession, callback) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const from = session.envelope.mailFrom;
        this.mails.push({
          from: from ? from.address : undefined,
          to: session.envelope.rcptTo.map((r) => r.address),
          secure: session.secure,
          user: typeof session.user === 'string' ? session.user : undefined,
          ...parse(Buffer.concat(chunks).toString('utf8')),
        });
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

  to(address: string): Mail[] {
    return this.mails.filter((m) => m.to.includes(address));
  }
}

/** The link of a message, which must be the only one in it. */
function linkIn(mail: Mail): string {
  const links = mail.text.match(/https?:\/\/\S+/g) ?? [];
  expect(links).toHaveLength(1);
  return links[0]!;
}

describe('account e-mail: verification, password reset and invitations over SMTP', () => {
  let t: TestApp;
  let box: Mailbox;
  const clock = new FakeClock(new Date());
  /** Every token seen in a mail: none may be stored or logged in plaintext. */
  const seenTokens: string[] = [];

  beforeAll(async () => {
    box = await new Mailbox().start();
    t = await createTestApp(
      {
        RUNLOOM_ROLES: 'api',
        REQUIRE_EMAIL_VERIFICATION: 'true',
        SMTP_HOST: '127.0.0.1',
        SMTP_PORT: String(box.port),
        SMTP_USER: 'mailer',
        SMTP_PASSWORD,
        SMTP_FROM: 'Runloom <no-reply@runloom.test>',
        PUBLIC_URL: `${FE}/`,
        WORKSPACE_MEMBER_LIMIT: '4',
      },
      {
        overrides: [
          { provide: Clock, useValue: clock },
          // The test server's certificate is self-signed; the transport still must use TLS.
          { provide: MailTransportTuning, useValue: { allowInsecureTls: true } },
        ],
      },
    );
  });
  afterAll(async () => {
    await t?.close();
    await box?.stop();
  });

  const advance = (ms: number) => clock.set(new Date(clock.now().getTime() + ms).toISOString());
  /** Every message queued so far has reached the SMTP server (or failed). */
  const delivered = () => t.app.get(Mailer).settled();

  /** A browser as the client sets it up: a cookie jar and the CSRF token it sends on every POST. */
  const browser = async (): Promise<{ agent: TestAgent; csrf: string }> => {
    const agent = request.agent(t.url);
    const csrf = (await agent.get('/api/auth/csrf-token').expect(200)).text;
    return { agent, csrf };
  };
  const post = async (path: string, body: object) => {
    const b = await browser();
    return b.agent.post(path).set('x-csrf-token', b.csrf).send(body);
  };
  const login = async (email: string, password: string) => {
    const b = await browser();
    const res = await b.agent.post('/api/auth/login').set('x-csrf-token', b.csrf).send({ email, password });
    return Object.assign(b, { res });
  };

  /** The newest message to `address` with `subject`, which must be its `count`th. */
  const mailTo = async (address: string, subject: string, count = 1): Promise<Mail> => {
    await delivered();
    const mails = box.to(address).filter((m) => m.subject === subject);
    expect(mails).toHaveLength(count);
    return mails[count - 1];
  };
  const VERIFY = 'Verify your email address';
  const RESET = 'Reset your password';
  const INVITED = 'You are invited to a Runloom workspace';
  const verificationToken = async (address: string, count = 1): Promise<string> => {
    const mail = await mailTo(address, VERIFY, count);
    const link = linkIn(mail);
    const match = /^https:\/\/app\.runloom\.test\/verify-email\?token=([A-Za-z0-9]{32})$/.exec(link);
    expect(match).not.toBeNull();
    seenTokens.push(match![1]);
    return match![1];
  };
  const resetToken = async (address: string, count = 1): Promise<string> => {
    const mail = await mailTo(address, RESET, count);
    const match = /^https:\/\/app\.runloom\.test\/reset-password\/([0-9a-f-]{36})$/.exec(linkIn(mail));
    expect(match).not.toBeNull();
    seenTokens.push(match![1]);
    return match![1];
  };

  const signup = (overrides: Partial<SignupBody> & Record<string, unknown> = {}) => {
    const body = { ...signupBody(), company_name: '', country: '', tax_id: '', settings: {}, ...overrides };
    return post('/api/auth/signup', body).then((res) => Object.assign(res, { sent: body }));
  };
  /** Signs up, follows the verification link and logs in: a browser with a session. */
  const verifiedUser = async (overrides: Partial<SignupBody> = {}) => {
    const res = await signup(overrides);
    expect(res.status).toBe(201);
    const { email, password } = res.sent;
    await post('/api/auth/verify', { token: await verificationToken(email) }).then((r) => expect(r.status).toBe(200));
    const b = await login(email, password);
    expect(b.res.status).toBe(200);
    return Object.assign(b, { email, password, userId: b.res.body.user.id as string });
  };
  /** A verified user whose solo workspace is on the workspace plan (PlanTab). */
  const teamOwner = async () => {
    const o = await verifiedUser();
    const res = await o.agent
      .post('/api/workspaces/plan')
      .set('x-csrf-token', o.csrf)
      .send({ plan_tier: 'workspace', workspace_name: 'Analytical Engines' })
      .expect(200);
    return Object.assign(o, { ws: res.body.workspace.id as string });
  };
  const invite = (o: Awaited<ReturnType<typeof teamOwner>>, email: string, role = 'user') =>
    o.agent
      .post(`/api/workspaces/${o.ws}/invites`)
      .set('x-csrf-token', o.csrf)
      .send({ email, role, expires_in_days: 14 });
  const invitationLink = async (address: string): Promise<{ page: string; token: string }> => {
    const mail = await mailTo(address, INVITED);
    expect(mail.text).toContain('"Analytical Engines"');
    const match = /^https:\/\/app\.runloom\.test\/(login|signup)\?invite=([0-9a-f]{32})$/.exec(linkIn(mail));
    expect(match).not.toBeNull();
    seenTokens.push(match![2]);
    return { page: match![1], token: match![2] };
  };

  it('signup mails a verification link over STARTTLS with the relay login; login waits for it; A2 verifies once and logs nobody in', async () => {
    const res = await signup();
    expect(res.status).toBe(201);
    const { email, password } = res.sent;
    const mail = await mailTo(email, VERIFY);
    expect(mail).toMatchObject({ from: 'no-reply@runloom.test', secure: true, user: 'mailer' });
    expect(mail.text).toContain('valid for 24 hours');
    const token = await verificationToken(email);

    const refused = await login(email, password);
    expect(refused.res.status).toBe(403);
    expect(refused.res.body.code).toBe('unverified_email');

    const verified = await post('/api/auth/verify', { token });
    expect(verified.status).toBe(200);
    expect(verified.body).toEqual({ success: true, message: 'Email verified successfully' });
    expect(verified.headers['set-cookie'] ?? []).not.toContainEqual(expect.stringMatching(/^dsentr_session=/));

    const ok = await login(email, password);
    expect(ok.res.status).toBe(200);
    expect(ok.res.body.user.is_verified).toBe(true);

    const again = await post('/api/auth/verify', { token });
    expect(again.status).toBe(400);
    expect(again.headers['content-type']).toMatch(/application\/json/);
    expect(again.body).toEqual({
      success: false,
      status: 'error',
      message: 'Invalid, expired, or already used token',
      code: 'invalid_token',
    });
    const malformed = await post('/api/auth/verify', { token: 'not a token' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.message).toBe('Invalid, expired, or already used token');
    const missing = await post('/api/auth/verify', {});
    expect(missing.status).toBe(400);
    expect(missing.body.code).toBe('invalid_request');
    expect(missing.body.message).toMatch(/token/);
  });

  it('A1: resend-verification answers the same for unknown, unverified and verified addresses; a new link voids the old; one mail a minute', async () => {
    const res = await signup();
    const { email } = res.sent;
    const first = await verificationToken(email);

    const unknown = await post('/api/auth/resend-verification', { email: 'nobody-here@example.com' });
    expect(unknown.status).toBe(200);
    expect(unknown.body).toEqual({ success: true, message: RESEND });
    expect(box.to('nobody-here@example.com')).toHaveLength(0);

    // Within a minute of the last link: the same answer, no second mail.
    const soon = await post('/api/auth/resend-verification', { email });
    expect(soon.status).toBe(200);
    expect(soon.body).toEqual(unknown.body);
    await mailTo(email, VERIFY, 1);

    advance(MINUTE + 1000);
    // The check-email page sends the address from its query string, not lowercased.
    const later = await post('/api/auth/resend-verification', { email: `  ${email.toUpperCase()} ` });
    expect(later.body).toEqual(unknown.body);
    const second = await verificationToken(email, 2);
    expect(second).not.toBe(first);

    expect((await post('/api/auth/verify', { token: first })).status).toBe(400);
    expect((await post('/api/auth/verify', { token: second })).status).toBe(200);

    advance(MINUTE + 1000);
    const verified = await post('/api/auth/resend-verification', { email });
    expect(verified.status).toBe(200);
    expect(verified.body).toEqual(unknown.body);
    await mailTo(email, VERIFY, 2);

    const missing = await post('/api/auth/resend-verification', {});
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ success: false, code: 'invalid_request' });
  });

  it('A2: a verification link stops working 24 hours after it was sent', async () => {
    const res = await signup();
    const token = await verificationToken(res.sent.email);
    advance(24 * 60 * MINUTE + 1000);
    const late = await post('/api/auth/verify', { token });
    expect(late.status).toBe(400);
    expect(late.body.message).toBe('Invalid, expired, or already used token');
  });

  it('A3–A5: forgot-password mails a reset link; the new password (as typed) works, every session and live stream of the account ends, the link works once', async () => {
    const user = await verifiedUser();
    const other = await login(user.email, user.password);
    expect(other.res.status).toBe(200);
    const cookie = (b: { agent: TestAgent }) =>
      b.agent.jar.getCookies({ domain: '127.0.0.1', path: '/', secure: false, script: false }).toValueString();
    const stream = { open: false, revoked: false, dropped: false };
    const source = new EventSource(`${t.url}/api/workflows/runs/events`, {
      fetch: (input, init) =>
        fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), Cookie: cookie(user) } }),
    });
    source.addEventListener('status', () => (stream.open = true));
    source.addEventListener('error', (event) => {
      if (typeof (event as MessageEvent).data === 'string') stream.revoked = true;
      else stream.dropped = true;
    });
    // A key made by whoever had the account before the reset (found by review: keys outlived it).
    const key = (
      await user.agent
        .post('/api/auth/api-keys')
        .set('x-csrf-token', user.csrf)
        .send({ name: 'left behind' })
        .expect(201)
    ).body.token as string;
    await request(t.url).get('/api/auth/me').set('Authorization', `Bearer ${key}`).expect(200);
    try {
      await waitFor(() => stream.open, 'the status stream to open');

      const unknown = await post('/api/auth/forgot-password', { email: 'nobody-there@example.com' });
      expect(unknown.status).toBe(200);
      expect(unknown.body).toEqual({ success: true, message: FORGOT });
      const known = await post('/api/auth/forgot-password', { email: ` ${user.email.toUpperCase()}` });
      expect(known.status).toBe(200);
      expect(known.body).toEqual(unknown.body);
      await delivered();
      expect(box.to('nobody-there@example.com')).toHaveLength(0);
      const token = await resetToken(user.email);
      expect((await mailTo(user.email, RESET)).text).toContain('valid for 30 minutes');

      const valid = await request(t.url).get(`/api/auth/verify-reset-token/${token}`);
      expect(valid.status).toBe(200);
      expect(valid.body).toEqual({ success: true, message: 'Token is valid.' });
      for (const bad of ['not-a-token', '3fa85f64-5717-4562-b3fc-2c963f66afa6']) {
        const res = await request(t.url).get(`/api/auth/verify-reset-token/${bad}`);
        expect(res.status).toBe(404);
        expect(res.body).toEqual({
          success: false,
          status: 'error',
          message: 'Invalid or expired token.',
          code: 'not_found',
        });
      }

      const weak = await post('/api/auth/reset-password', { password: 'short', token });
      expect(weak.status).toBe(400);
      expect(weak.body.message).toMatch(/password must be at least 8 characters/);

      const newPassword = '  a new password with spaces  ';
      const reset = await post('/api/auth/reset-password', { password: newPassword, token });
      expect(reset.status).toBe(200);
      expect(reset.body).toEqual({ success: true, message: 'Password has been reset.' });

      // Every session of the account ended, and the stream opened with one of them said why.
      await waitFor(() => stream.dropped, 'the status stream to end', 2_000);
      expect(stream.revoked).toBe(true);
      expect((await user.agent.get('/api/auth/me')).status).toBe(401);
      expect((await other.agent.get('/api/auth/me')).status).toBe(401);
      expect((await request(t.url).get('/api/auth/me').set('Authorization', `Bearer ${key}`)).status).toBe(401);

      expect((await login(user.email, user.password)).res.status).toBe(401);
      expect((await login(user.email, newPassword.trim())).res.status).toBe(401);
      expect((await login(user.email, newPassword)).res.status).toBe(200);

      expect((await request(t.url).get(`/api/auth/verify-reset-token/${token}`)).status).toBe(404);
      const reused = await post('/api/auth/reset-password', { password: 'yet another password', token });
      expect(reused.status).toBe(400);
      expect(reused.body.message).toBe('Invalid or expired token.');
    } finally {
      source.close();
    }
  });

  it('A4/A5: reset links last 30 minutes; earlier links stay valid until one of them is used', async () => {
    const user = await verifiedUser();
    await post('/api/auth/forgot-password', { email: user.email });
    const first = await resetToken(user.email, 1);
    advance(MINUTE + 1000);
    await post('/api/auth/forgot-password', { email: user.email });
    const second = await resetToken(user.email, 2);
    expect((await request(t.url).get(`/api/auth/verify-reset-token/${first}`)).status).toBe(200);
    expect((await post('/api/auth/reset-password', { password: 'second link password', token: second })).status).toBe(
      200,
    );
    expect((await request(t.url).get(`/api/auth/verify-reset-token/${first}`)).status).toBe(404);

    advance(MINUTE + 1000);
    await post('/api/auth/forgot-password', { email: user.email });
    const third = await resetToken(user.email, 3);
    advance(30 * MINUTE + 1000);
    expect((await request(t.url).get(`/api/auth/verify-reset-token/${third}`)).status).toBe(404);
    const late = await post('/api/auth/reset-password', { password: 'too late password', token: third });
    expect(late.status).toBe(400);
    expect(late.body.message).toBe('Invalid or expired token.');
    expect((await login(user.email, 'second link password')).res.status).toBe(200);
  });

  it('B6: the invitee is mailed a login link when the address has an account, a signup link otherwise; the inviter sees the same answer', async () => {
    const owner = await teamOwner();
    const member = await verifiedUser();
    const stranger = `stranger.${Date.now()}@example.com`;

    const known = await invite(owner, member.email);
    const unknown = await invite(owner, stranger);
    expect(known.status).toBe(200);
    expect(unknown.status).toBe(200);
    const shape = (body: { invitation: Record<string, unknown> }) => Object.keys(body.invitation).sort();
    expect(shape(known.body)).toEqual(shape(unknown.body));

    const toMember = await invitationLink(member.email);
    expect(toMember).toEqual({ page: 'login', token: known.body.invitation.token });
    const toStranger = await invitationLink(stranger);
    expect(toStranger).toEqual({ page: 'signup', token: unknown.body.invitation.token });
    expect((await mailTo(stranger, INVITED)).text).toContain(`${owner.email} invited you`);

    // The login and signup pages preview the link (B1).
    const preview = await request(t.url).get(`/api/invites/${toStranger.token}`).expect(200);
    expect(preview.body.invitation.email).toBe(stranger);
    expect(preview.body.invitation.workspace_name).toBe('Analytical Engines');
  });

  it('invitation mail is limited: one an hour to an address, however often it is invited (the answer is the same)', async () => {
    const owner = await teamOwner();
    const target = `spammed.${Date.now()}@example.com`;
    const first = await invite(owner, target);
    expect(first.status).toBe(200);
    await owner.agent
      .post(`/api/workspaces/${owner.ws}/invites/${first.body.invitation.id}/revoke`)
      .set('x-csrf-token', owner.csrf)
      .expect(200);
    const second = await invite(owner, target);
    expect(second.status).toBe(200);
    expect(Object.keys(second.body.invitation).sort()).toEqual(Object.keys(first.body.invitation).sort());
    await delivered();
    expect(box.to(target).filter((m) => m.subject === INVITED)).toHaveLength(1);
  });

  it('B8: signing up from the invitation link with "join" makes the account a member of the invited workspace with the invited role, and nothing else', async () => {
    const owner = await teamOwner();
    const email = `joiner.${Date.now()}@example.com`;
    await invite(owner, email, 'admin').expect(200);
    const { page, token } = await invitationLink(email);
    expect(page).toBe('signup');

    const res = await signup({ email, invite_token: token, invite_decision: 'join' });
    expect(res.status).toBe(201);
    expect(res.body.success).toBe(true);
    // Joining does not verify the address (the inviter saw the token too): the link still must be followed.
    expect((await login(email, res.sent.password)).res.status).toBe(403);
    await post('/api/auth/verify', { token: await verificationToken(email) }).then((r) => expect(r.status).toBe(200));

    const joined = await login(email, res.sent.password);
    expect(joined.res.status).toBe(200);
    expect(joined.res.body.memberships).toEqual([
      { workspace: expect.objectContaining({ id: owner.ws, name: 'Analytical Engines' }), role: 'admin' },
    ]);
    const list = await owner.agent.get(`/api/workspaces/${owner.ws}/invites`).expect(200);
    expect(list.body.invitations.find((i: { email: string }) => i.email === email)).toMatchObject({
      status: 'accepted',
      accepted_at: expect.any(String),
    });
    expect((await request(t.url).get(`/api/invites/${token}`).expect(200)).body.accepted).toBe(true);
  });

  it('B8: "decline" gives the new account its own workspace and declines the invitation; billing fields are kept', async () => {
    const owner = await teamOwner();
    const email = `decliner.${Date.now()}@example.com`;
    await invite(owner, email).expect(200);
    const { token } = await invitationLink(email);
    const res = await signup({
      email,
      first_name: 'Charles',
      invite_token: token,
      invite_decision: 'decline',
      country: 'GB',
      tax_id: 'GB123456789',
    });
    expect(res.status).toBe(201);
    await post('/api/auth/verify', { token: await verificationToken(email) });
    const b = await login(email, res.sent.password);
    expect(b.res.body.memberships).toEqual([
      {
        workspace: expect.objectContaining({ name: "Charles's Workspace", owner_id: b.res.body.user.id }),
        role: 'owner',
      },
    ]);
    const list = await owner.agent.get(`/api/workspaces/${owner.ws}/invites`).expect(200);
    expect(list.body.invitations.find((i: { email: string }) => i.email === email)).toMatchObject({
      status: 'declined',
    });
    const stored = await t.app.get(UserRepository).findByEmail(email);
    expect(stored?.settings.billing).toEqual({ country: 'GB', tax_id: 'GB123456789' });
  });

  it('B8: a link for another address, an unknown or used link, or a workspace no longer on the plan is refused, and no account is created', async () => {
    const owner = await teamOwner();
    const invited = `invited.${Date.now()}@example.com`;
    await invite(owner, invited).expect(200);
    const { token } = await invitationLink(invited);

    const someoneElse = `someone.else.${Date.now()}@example.com`;
    for (const [email, inviteToken] of [
      [someoneElse, token],
      [invited, 'f'.repeat(32)],
      [invited, 'garbage'],
    ]) {
      const refused = await signup({ email, invite_token: inviteToken, invite_decision: 'join' });
      expect(refused.status).toBe(400);
      expect(refused.body).toEqual({
        success: false,
        status: 'error',
        message: 'Invalid or expired invite link',
        code: 'invitation_unusable',
      });
    }
    const badDecision = await signup({ email: invited, invite_token: token, invite_decision: 'maybe' });
    expect(badDecision.status).toBe(400);
    expect(badDecision.body.message).toMatch(/invite_decision/);

    // The workspace went back to solo: joining it is refused with the plan's code, and nothing is left behind.
    await owner.agent
      .post('/api/workspaces/plan')
      .set('x-csrf-token', owner.csrf)
      .send({ plan_tier: 'solo' })
      .expect(200);
    const noPlan = await signup({ email: invited, invite_token: token, invite_decision: 'join' });
    expect(noPlan.status).toBe(403);
    expect(noPlan.body.code).toBe('workspace_plan_required');

    expect((await signup({ email: someoneElse })).status).toBe(201);
    expect((await signup({ email: invited })).status).toBe(201);
  });

  it('the relay password is never logged; link tokens are stored only as SHA-256 and never logged', async () => {
    await delivered();
    expect(seenTokens.length).toBeGreaterThan(5);
    const logs = t.logs.join('\n');
    expect(logs).not.toContain(SMTP_PASSWORD);
    for (const token of seenTokens) expect(logs).not.toContain(token);
    const rows: { token_hash: string }[] = await t.app.get(DataSource).query('SELECT * FROM email_tokens');
    expect(rows.length).toBeGreaterThan(0);
    const dump = JSON.stringify(rows);
    for (const token of seenTokens) expect(dump).not.toContain(token);
    for (const row of rows) expect(row.token_hash).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('account e-mail without SMTP (development)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ RUNLOOM_ROLES: 'api', AUTH_RATE_LIMIT_PER_MINUTE: '1', AUTH_RATE_LIMIT_BURST: '4' });
  });
  afterAll(() => t?.close());

  it('logs the link at warn level instead of sending it; the e-mail routes share the auth attempt bucket (429 in JSON)', async () => {
    const body = signupBody();
    await request(t.url).post('/api/auth/signup').send(body).expect(201);
    // Verification is not required: the account is usable at once and no verification mail is queued.
    await request(t.url).post('/api/auth/login').send({ email: body.email, password: body.password }).expect(200);

    const res = await request(t.url).post('/api/auth/forgot-password').send({ email: body.email }).expect(200);
    expect(res.body).toEqual({ success: true, message: FORGOT });
    await t.app.get(Mailer).settled();
    const line = t.logs.map((l) => JSON.parse(l)).find((l) => /reset-password\//.test(String(l.msg)));
    expect(line).toBeDefined();
    expect(line.level).toBe(40);
    expect(line.msg).toMatch(/Mail is disabled \(SMTP_HOST is unset\)/);
    expect(line.msg).toMatch(/http:\/\/localhost:3000\/reset-password\/[0-9a-f-]{36}/);

    await request(t.url).post('/api/auth/resend-verification').send({ email: body.email }).expect(200);
    const limited = await request(t.url)
      .post('/api/auth/verify')
      .send({ token: 'x'.repeat(32) });
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({
      success: false,
      status: 'error',
      message: 'Too many requests. Please wait a moment and try again.',
      code: 'rate_limited',
    });
  });
});
