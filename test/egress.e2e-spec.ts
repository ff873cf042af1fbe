import request from 'supertest';
import { DataSource } from 'typeorm';
import { createTestApp, TestApp } from './utils/app';
import { TargetServer } from './utils/target-server';
import { waitFor } from './utils/wait';
import { Actor, actor, addMember, graph, trigger, uniqueName, upgrade } from './factories/workflow.factory';

const httpTo = (url: string) => ({
  id: 'call',
  type: 'actionHttp',
  data: { label: 'Call', actionType: 'http', params: { url, method: 'GET' } },
});

async function runToEnd(t: TestApp, a: Actor, workflowId: string) {
  const run = (await request(t.url).post(`/api/workflows/${workflowId}/run`).set(a.auth).expect(202)).body.run;
  return waitFor(async () => {
    const res = await request(t.url).get(`/api/workflows/${workflowId}/runs/${run.id}`).set(a.auth).expect(200);
    return ['succeeded', 'failed', 'canceled'].includes(res.body.run.status) ? res.body : undefined;
  }, 'the run to finish');
}

async function workflowCalling(t: TestApp, a: Actor, ws: string, url: string): Promise<string> {
  const data = graph([trigger(), httpTo(url)], [['trigger-1', 'call']]);
  return (
    await request(t.url)
      .post('/api/workflows')
      .set(a.auth)
      .send({ name: uniqueName(), data, workspace_id: ws })
      .expect(201)
  ).body.workflow.id;
}

describe('SSRF guard on by default (docs/contract.md §7)', () => {
  let t: TestApp;
  let target: TargetServer;
  beforeAll(async () => {
    target = await new TargetServer().start();
    t = await createTestApp({ EGRESS_ALLOW_PRIVATE_NETWORKS: 'false', WORKER_POLL_INTERVAL_MS: '20' });
  });
  afterAll(async () => {
    await t.close();
    await target.stop();
  });

  it.each([
    ['a loopback address', () => `${target.url}/secret`],
    ['the metadata address', () => 'http://169.254.169.254/latest/meta-data'],
    ['IPv6 loopback', () => `http://[::1]:${new URL(target.url).port}/`],
    ['a hex-encoded loopback address', () => `http://0x7f000001:${new URL(target.url).port}/`],
    ['a hostname that resolves to loopback', () => `http://localhost:${new URL(target.url).port}/`],
  ])('blocks %s and records it', async (_name, url) => {
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const id = await workflowCalling(t, owner, ws, url());
    const before = target.seen.length;
    const done = await runToEnd(t, owner, id);
    expect(done.run.status).toBe('failed');
    const error = JSON.parse(done.run.error);
    expect(error).toMatchObject({
      error: 'egress_blocked',
      rule: 'ssrf',
      message: expect.stringMatching(/SSRF.*EGRESS_ALLOW_PRIVATE_NETWORKS=true/),
    });
    expect(target.seen.length).toBe(before);
    const blocks = await request(t.url).get(`/api/workflows/${id}/egress/blocks`).set(owner.auth).expect(200);
    expect(blocks.body).toMatchObject({ success: true, page: 1, per_page: 20 });
    expect(blocks.body.blocks).toEqual([
      {
        id: expect.any(String),
        user_id: owner.userId,
        workflow_id: id,
        run_id: done.run.id,
        node_id: 'call',
        url: expect.any(String),
        host: error.host,
        rule: 'ssrf',
        message: error.message,
        created_at: expect.any(String),
      },
    ]);
    expect(
      (await request(t.url).delete(`/api/workflows/${id}/egress/blocks`).set(owner.auth).expect(200)).body,
    ).toEqual({ success: true, deleted: 1 });
  });
});

describe('the block log and secret URLs', () => {
  let t: TestApp;
  let target: TargetServer;
  beforeAll(async () => {
    target = await new TargetServer().start();
    t = await createTestApp({ EGRESS_ALLOW_PRIVATE_NETWORKS: 'false', WORKER_POLL_INTERVAL_MS: '20' });
  });
  afterAll(async () => {
    await t.close();
    await target.stop();
  });

  it('a blocked call to a URL kept as a secret (a chat webhook) is logged with the secret path masked', async () => {
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const path = '/services/T0001/B0002/Xq9Lk2mN8vR4tY7w';
    await request(t.url)
      .put('/api/options/secrets/http/bearer_token/hook')
      .set(owner.auth)
      .send({ value: `${target.url}${path}` })
      .expect(200);
    const id = await workflowCalling(t, owner, ws, 'http:bearer_token:hook');
    const done = await runToEnd(t, owner, id);
    expect(done.run.status).toBe('failed');
    const blocks = await request(t.url).get(`/api/workflows/${id}/egress/blocks`).set(owner.auth).expect(200);
    expect(blocks.body.blocks).toHaveLength(1);
    expect(blocks.body.blocks[0].rule).toBe('ssrf');
    expect(JSON.stringify(blocks.body)).not.toContain('Xq9Lk2mN8vR4tY7w');
    const rows = await t.app.get(DataSource).query('SELECT url, message FROM egress_block_events');
    expect(JSON.stringify(rows)).not.toContain('Xq9Lk2mN8vR4tY7w');
  });
});

describe('egress allowlists', () => {
  let t: TestApp;
  let target: TargetServer;
  beforeAll(async () => {
    target = await new TargetServer().start();
    // Private networks allowed so the allowlist alone decides (the target is on 127.0.0.1).
    t = await createTestApp({ WORKER_POLL_INTERVAL_MS: '20' });
  });
  afterAll(async () => {
    await t.close();
    await target.stop();
  });

  it('validates and normalises entries; only the creator or an admin writes', async () => {
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const member = await actor(t.url);
    await addMember(t.url, owner, ws, member, 'user');
    const id = await workflowCalling(t, owner, ws, `${target.url}/x`);
    expect((await request(t.url).get(`/api/workflows/${id}/egress`).set(member.auth).expect(200)).body).toEqual({
      success: true,
      allowlist: [],
    });
    const saved = await request(t.url)
      .post(`/api/workflows/${id}/egress`)
      .set(owner.auth)
      .send({ allowlist: [' API.Example.com ', '*.hooks.example.org', 'api.example.com'] })
      .expect(200);
    expect(saved.body).toEqual({ success: true, allowlist: ['api.example.com', '*.hooks.example.org'] });
    const bad = await request(t.url)
      .post(`/api/workflows/${id}/egress`)
      .set(owner.auth)
      .send({ allowlist: ['ok.example.com', 'https://x.example.com/path', 'bad host'] })
      .expect(400);
    expect(bad.body.message).toMatch(/Invalid allowlist entries: https:\/\/x\.example\.com\/path, bad host/);
    await request(t.url)
      .post(`/api/workflows/${id}/egress`)
      .set(owner.auth)
      .send({ allowlist: 'api.example.com' })
      .expect(400);
    const denied = await request(t.url)
      .post(`/api/workflows/${id}/egress`)
      .set(member.auth)
      .send({ allowlist: [] })
      .expect(403);
    expect(denied.body.message).toBe('Only a workspace admin or owner can change workflow settings.');
    await request(t.url).get(`/api/workflows/${id}/egress/blocks`).set(member.auth).expect(403);
  });

  it('a host outside the allowlist is blocked; an allowlisted host passes', async () => {
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const id = await workflowCalling(t, owner, ws, `${target.url}/allowlisted`);
    await request(t.url)
      .post(`/api/workflows/${id}/egress`)
      .set(owner.auth)
      .send({ allowlist: ['api.example.com'] })
      .expect(200);
    const blocked = await runToEnd(t, owner, id);
    expect(JSON.parse(blocked.run.error)).toEqual({
      error: 'egress_blocked',
      host: '127.0.0.1',
      message: 'Outbound HTTP not allowed: 127.0.0.1',
      rule: 'allowlist_miss',
    });
    await request(t.url)
      .post(`/api/workflows/${id}/egress`)
      .set(owner.auth)
      .send({ allowlist: ['127.0.0.1'] })
      .expect(200);
    const passed = await runToEnd(t, owner, id);
    expect(passed.run.status).toBe('succeeded');
    expect(target.count('/allowlisted')).toBe(1);
  });
});

describe('email and chat nodes deliver through the egress client', () => {
  let t: TestApp;
  let target: TargetServer;
  beforeAll(async () => {
    target = await new TargetServer().start();
    t = await createTestApp({ WORKER_POLL_INTERVAL_MS: '20', SENDGRID_API_BASE: target.url });
  });
  afterAll(async () => {
    await t.close();
    await target.stop();
  });

  it('sends a SendGrid email and a Google Chat message to local servers; Slack without a workspace plan is refused', async () => {
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const nodes = [
      trigger('t', { label: 'In' }),
      {
        id: 'mail',
        type: 'actionEmailSendgrid',
        data: {
          label: 'Mail',
          actionType: 'email',
          emailProvider: 'sendgrid',
          params: {
            service: 'sendgrid',
            apiKey: 'SG.e2e-key-123456',
            from: 'bot@example.com',
            to: 'ada@example.com',
            subject: 'Order {{In.id}}',
            body: 'Thanks!',
          },
        },
      },
      {
        id: 'chat',
        type: 'actionGoogleChat',
        data: {
          label: 'Chat',
          actionType: 'messaging',
          params: { platform: 'Google Chat', webhookUrl: `${target.url}/chat-hook`, message: 'Order {{In.id}} mailed' },
        },
      },
    ];
    const data = graph(nodes, [
      ['t', 'mail'],
      ['mail', 'chat'],
    ]);
    const wf = (
      await request(t.url)
        .post('/api/workflows')
        .set(owner.auth)
        .send({ name: uniqueName(), data, workspace_id: ws })
        .expect(201)
    ).body.workflow;
    const run = (
      await request(t.url)
        .post(`/api/workflows/${wf.id}/run`)
        .set(owner.auth)
        .send({ context: { id: 7 } })
        .expect(202)
    ).body.run;
    const done = await waitFor(async () => {
      const res = await request(t.url).get(`/api/workflows/${wf.id}/runs/${run.id}`).set(owner.auth).expect(200);
      return ['succeeded', 'failed'].includes(res.body.run.status) ? res.body : undefined;
    }, 'the run');
    expect(done.run).toMatchObject({ status: 'succeeded', error: null });
    const mail = target.seen.find((r) => r.path === '/v3/mail/send')!;
    expect(mail.headers.authorization).toBe('Bearer SG.e2e-key-123456');
    expect(JSON.stringify(JSON.parse(mail.body))).toContain('Order 7');
    const chat = target.seen.find((r) => r.path === '/chat-hook')!;
    expect(JSON.parse(chat.body)).toEqual({ text: 'Order 7 mailed' });
    expect(JSON.stringify(done)).not.toContain('SG.e2e-key-123456');

    const solo = await actor(t.url);
    const slack = graph(
      [
        trigger('t'),
        {
          id: 'slack',
          type: 'actionSlack',
          data: {
            label: 'Slack',
            actionType: 'messaging',
            params: { platform: 'Slack', webhookUrl: `${target.url}/slack-hook`, message: 'hi' },
          },
        },
      ],
      [['t', 'slack']],
    );
    const soloWf = (
      await request(t.url)
        .post('/api/workflows')
        .set(solo.auth)
        .send({ name: uniqueName(), data: slack, workspace_id: solo.soloWorkspaceId })
        .expect(201)
    ).body.workflow;
    const soloRun = (await request(t.url).post(`/api/workflows/${soloWf.id}/run`).set(solo.auth).expect(202)).body.run;
    const refused = await waitFor(async () => {
      const res = await request(t.url).get(`/api/workflows/${soloWf.id}/runs/${soloRun.id}`).set(solo.auth).expect(200);
      return res.body.run.status === 'failed' ? res.body : undefined;
    }, 'the refusal');
    expect(refused.run.error).toMatch(/^Forbidden: Slack actions are available on workspace plans/);
    expect(target.count('/slack-hook')).toBe(0);
  });
});
