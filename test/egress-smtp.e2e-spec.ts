import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { createTestApp, TestApp } from './utils/app';
import { waitFor } from './utils/wait';
import { Actor, actor, graph, trigger, uniqueName, upgrade } from './factories/workflow.factory';

const PASSWORD = 'e2e-smtp-password-Zq81';

/** A real SMTP server on 127.0.0.1 that counts the connections it gets (its certificate is self-signed). */
class SmtpTarget {
  connections = 0;
  port = 0;
  private readonly server = new SMTPServer({
    logger: false,
    authMethods: ['PLAIN', 'LOGIN'],
    onConnect: (_session, callback) => {
      this.connections++;
      callback();
    },
    onAuth: (_auth, _session, callback) => callback(null, { user: 'mailer' }),
  });

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.server.address() as AddressInfo).port;
    return this;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const mailTo = (smtpHost: string, smtpPort: number) => ({
  id: 'mail',
  type: 'actionEmail',
  data: {
    label: 'Mail',
    actionType: 'email',
    emailProvider: 'smtp',
    params: {
      service: 'smtp',
      smtpHost,
      smtpPort: String(smtpPort),
      smtpUser: 'mailer',
      smtpPassword: PASSWORD,
      from: 'bot@example.com',
      to: 'ada@example.com',
      subject: 'Hello',
      body: 'Hi',
    },
  },
});

async function workflowMailing(t: TestApp, a: Actor, ws: string, host: string, port: number): Promise<string> {
  const data = graph([trigger(), mailTo(host, port)], [['trigger-1', 'mail']]);
  return (
    await request(t.url)
      .post('/api/workflows')
      .set(a.auth)
      .send({ name: uniqueName(), data, workspace_id: ws })
      .expect(201)
  ).body.workflow.id;
}

async function runToEnd(t: TestApp, a: Actor, workflowId: string) {
  const run = (await request(t.url).post(`/api/workflows/${workflowId}/run`).set(a.auth).expect(202)).body.run;
  return waitFor(async () => {
    const res = await request(t.url).get(`/api/workflows/${workflowId}/runs/${run.id}`).set(a.auth).expect(200);
    return ['succeeded', 'failed', 'canceled'].includes(res.body.run.status) ? res.body : undefined;
  }, 'the run to finish');
}

async function blockLog(t: TestApp, a: Actor, workflowId: string) {
  return (await request(t.url).get(`/api/workflows/${workflowId}/egress/blocks`).set(a.auth).expect(200)).body;
}

/** The block log as the run left it, the API answer and the stored rows, with no trace of the SMTP password. */
async function expectLogged(
  t: TestApp,
  a: Actor,
  workflowId: string,
  runId: string,
  error: { host: string; rule: string; message: string },
  url: string,
) {
  const log = await blockLog(t, a, workflowId);
  expect(log.blocks).toEqual([
    {
      id: expect.any(String),
      user_id: a.userId,
      workflow_id: workflowId,
      run_id: runId,
      node_id: 'mail',
      url,
      host: error.host,
      rule: error.rule,
      message: error.message,
      created_at: expect.any(String),
    },
  ]);
  expect(JSON.stringify(log)).not.toContain(PASSWORD);
  const rows = await t.app.get(DataSource).query('SELECT url, host, message FROM egress_block_events');
  expect(JSON.stringify(rows)).not.toContain(PASSWORD);
}

describe('SMTP goes through the workflow allowlist and the block log like HTTP', () => {
  let t: TestApp;
  let smtp: SmtpTarget;
  beforeAll(async () => {
    smtp = await new SmtpTarget().start();
    // Private networks allowed so the allowlist alone decides (the SMTP server is on 127.0.0.1).
    t = await createTestApp({ WORKER_POLL_INTERVAL_MS: '20' });
  });
  afterAll(async () => {
    await t.close();
    await smtp.stop();
  });

  it('an SMTP host outside the workflow allowlist is refused before connecting and listed in the block log; an allowlisted one is connected to', async () => {
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const id = await workflowMailing(t, owner, ws, '127.0.0.1', smtp.port);
    await request(t.url)
      .post(`/api/workflows/${id}/egress`)
      .set(owner.auth)
      .send({ allowlist: ['mail.example.com'] })
      .expect(200);
    const before = smtp.connections;
    const blocked = await runToEnd(t, owner, id);
    expect(blocked.run.status).toBe('failed');
    const error = JSON.parse(blocked.run.error);
    expect(error).toEqual({
      error: 'egress_blocked',
      host: '127.0.0.1',
      message: 'Outbound SMTP not allowed: 127.0.0.1',
      rule: 'allowlist_miss',
    });
    expect(smtp.connections).toBe(before);
    await expectLogged(t, owner, id, blocked.run.id, error, `smtp://127.0.0.1:${smtp.port}`);

    // Allowlisted: the policy lets it through and the server is reached (its self-signed certificate then
    // fails TLS, which is the node's business, not the egress policy's); nothing new in the block log.
    await request(t.url)
      .post(`/api/workflows/${id}/egress`)
      .set(owner.auth)
      .send({ allowlist: ['127.0.0.1'] })
      .expect(200);
    const passed = await runToEnd(t, owner, id);
    expect(passed.run.error).not.toMatch(/egress_blocked/);
    expect(passed.run.error).toMatch(/^SMTP /);
    await waitFor(() => smtp.connections > before, 'the SMTP server to be connected to');
    expect((await blockLog(t, owner, id)).blocks).toHaveLength(1);
  });
});

describe('EGRESS_DEFAULT_DENY applies to SMTP hosts', () => {
  let t: TestApp;
  let smtp: SmtpTarget;
  beforeAll(async () => {
    smtp = await new SmtpTarget().start();
    t = await createTestApp({ EGRESS_DEFAULT_DENY: 'true', WORKER_POLL_INTERVAL_MS: '20' });
  });
  afterAll(async () => {
    await t.close();
    await smtp.stop();
  });

  it('refuses an unlisted SMTP host and records it', async () => {
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const id = await workflowMailing(t, owner, ws, '127.0.0.1', smtp.port);
    const done = await runToEnd(t, owner, id);
    expect(done.run.status).toBe('failed');
    const error = JSON.parse(done.run.error);
    expect(error).toEqual({
      error: 'egress_blocked',
      host: '127.0.0.1',
      message: 'Outbound SMTP not allowed (default-deny): 127.0.0.1',
      rule: 'default_deny',
    });
    expect(smtp.connections).toBe(0);
    await expectLogged(t, owner, id, done.run.id, error, `smtp://127.0.0.1:${smtp.port}`);
  });
});

describe('the address guard applies to SMTP hosts (EGRESS_ALLOW_PRIVATE_NETWORKS=false)', () => {
  let t: TestApp;
  let smtp: SmtpTarget;
  beforeAll(async () => {
    smtp = await new SmtpTarget().start();
    t = await createTestApp({ EGRESS_ALLOW_PRIVATE_NETWORKS: 'false', WORKER_POLL_INTERVAL_MS: '20' });
  });
  afterAll(async () => {
    await t.close();
    await smtp.stop();
  });

  it.each([
    ['a loopback address', '127.0.0.1', '127.0.0.1'],
    ['a hex-encoded loopback address', '0x7f000001', '127.0.0.1'],
    ['IPv6 loopback', '[::1]', '::1'],
    ['a host name that resolves to loopback', 'localhost', 'localhost'],
  ])('refuses %s and records it', async (_name, smtpHost, host) => {
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const id = await workflowMailing(t, owner, ws, smtpHost, smtp.port);
    const done = await runToEnd(t, owner, id);
    expect(done.run.status).toBe('failed');
    const error = JSON.parse(done.run.error);
    expect(error).toEqual({
      error: 'egress_blocked',
      host,
      message: `Outbound SMTP blocked by SSRF guard: ${host} (loopback); set EGRESS_ALLOW_PRIVATE_NETWORKS=true to allow private addresses (local development only)`,
      rule: 'ssrf',
    });
    expect(smtp.connections).toBe(0);
    const url = `smtp://${host.includes(':') ? `[${host}]` : host}:${smtp.port}`;
    await expectLogged(t, owner, id, done.run.id, error, url);
  });
});
