import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { Clock } from '../src/common/clock';
import { NotificationDeliveryEntity } from '../src/database/entities/notification-delivery.entity';
import { createTestApp, TestApp } from './utils/app';
import { ShiftedClock } from './utils/clock';
import { waitFor } from './utils/wait';
import {
  Actor,
  actor,
  addMember,
  graph,
  http as httpNode,
  trigger,
  uniqueName,
  upgrade,
} from './factories/workflow.factory';

/** A receiver on 127.0.0.1: records every request to /hook…, answers with the statuses it is told, then 200. */
class Receiver {
  readonly requests: { headers: http.IncomingHttpHeaders; body: string; at: number }[] = [];
  private statuses: number[] = [];
  private server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      // The workflows' own HTTP nodes call /target: answered, not recorded.
      if (!req.url?.startsWith('/hook')) return res.writeHead(200).end('ok');
      this.requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      res.writeHead(this.statuses.shift() ?? 200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  url = '';
  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }
  answer(...statuses: number[]): void {
    this.statuses.push(...statuses);
  }
  forRun(runId: string) {
    return this.requests.filter((r) => JSON.parse(r.body).data.run.id === runId);
  }
  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A workspace owner (no Solo workflow limit) with a workflow that succeeds, or fails at its HTTP node. */
async function notifiedWorkflow(t: TestApp, receiver: Receiver, options: { fails?: boolean } = {}) {
  const owner = await actor(t.url);
  const ws = await upgrade(t.url, owner);
  const data = graph(
    [
      trigger('in', { label: 'In' }),
      httpNode('call', { url: options.fails ? 'http://127.0.0.1:1/refused' : `${receiver.url}/target` }),
    ],
    [['in', 'call']],
  );
  const wf = (
    await request(t.url)
      .post('/api/workflows')
      .set(owner.auth)
      .send({ name: uniqueName('Notified'), data, workspace_id: ws })
      .expect(201)
  ).body.workflow;
  return { owner, ws, wf };
}

describe('run notifications signed as Standard Webhooks (docs/contract.md §2.18)', () => {
  let t: TestApp;
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await new Receiver().start();
    t = await createTestApp({
      WORKER_POLL_INTERVAL_MS: '20',
      NOTIFICATION_RETRY_BASE_MS: '40',
      NOTIFICATION_MAX_ATTEMPTS: '3',
    });
  });
  afterAll(async () => {
    await t.close();
    await receiver.stop();
  });

  const setup = (options: { fails?: boolean } = {}) => notifiedWorkflow(t, receiver, options);

  const endpoints = (a: Actor, wf: string) => `/api/workflows/${wf}/notifications`;
  async function addEndpoint(a: Actor, wf: string, body: Record<string, unknown> = {}) {
    const res = await request(t.url)
      .post(endpoints(a, wf))
      .set(a.auth)
      .send({ url: `${receiver.url}/hook`, ...body })
      .expect(201);
    return res.body as { notification: { id: string }; secret: string };
  }
  async function runOnce(a: Actor, wf: string) {
    const run = (await request(t.url).post(`/api/workflows/${wf}/run`).set(a.auth).send({}).expect(202)).body.run;
    return waitFor(async () => {
      const res = await request(t.url).get(`/api/workflows/${wf}/runs/${run.id}`).set(a.auth).expect(200);
      return ['succeeded', 'failed', 'canceled'].includes(res.body.run.status) ? res.body.run : undefined;
    }, `run ${run.id} to finish`);
  }
  const deliveries = (a: Actor, wf: string, nid: string) =>
    request(t.url).get(`/api/workflows/${wf}/notifications/${nid}/deliveries`).set(a.auth).expect(200);
  async function deliveryOf(a: Actor, wf: string, nid: string, runId: string, status: string) {
    return waitFor(async () => {
      const res = await deliveries(a, wf, nid);
      const d = res.body.deliveries.find((x: { run_id: string }) => x.run_id === runId);
      return d?.status === status ? d : undefined;
    }, `the message for run ${runId} to be ${status}`);
  }
  const verify = (secret: string, r: { headers: http.IncomingHttpHeaders; body: string }) =>
    new Webhook(secret).verify(r.body, {
      'webhook-id': String(r.headers['webhook-id']),
      'webhook-timestamp': String(r.headers['webhook-timestamp']),
      'webhook-signature': String(r.headers['webhook-signature']),
    }) as { type: string; data: { run: Record<string, unknown>; workflow: Record<string, unknown> } };

  it('a finished run is POSTed to the endpoint, signed so the standardwebhooks package verifies it', async () => {
    const { owner, wf } = await setup();
    const created = await addEndpoint(owner, wf.id);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(created.notification).toMatchObject({
      workflow_id: wf.id,
      url: `${receiver.url}/hook`,
      statuses: ['succeeded', 'failed', 'canceled', 'expired'],
      previous_secret_expires_at: null,
    });
    // Shown once: never again in a list.
    const list = await request(t.url).get(endpoints(owner, wf.id)).set(owner.auth).expect(200);
    expect(list.body.notifications).toHaveLength(1);
    expect(JSON.stringify(list.body)).not.toContain(created.secret);
    expect(JSON.stringify(list.body)).not.toContain(created.secret.slice(6));

    const run = await runOnce(owner, wf.id);
    const [sent] = await waitFor(() => receiver.forRun(run.id).length === 1 && receiver.forRun(run.id), 'the message');
    expect(sent.headers['content-type']).toBe('application/json');
    expect(sent.headers['webhook-id']).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(Number(sent.headers['webhook-timestamp'])).toBeCloseTo(Date.now() / 1000, -2);
    expect(String(sent.headers['webhook-signature'])).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    const payload = verify(created.secret, sent);
    expect(payload).toEqual({
      type: 'run.succeeded',
      timestamp: run.finished_at,
      data: {
        run: {
          id: run.id,
          workflow_id: wf.id,
          workspace_id: wf.workspace_id,
          status: 'succeeded',
          error: null,
          version: 1,
          triggered_by: `user:${owner.userId}`,
          started_at: run.started_at,
          finished_at: run.finished_at,
        },
        workflow: { id: wf.id, name: wf.name },
      },
    });
    // A tampered body or another secret does not verify.
    expect(() => verify(created.secret, { ...sent, body: sent.body.replace('succeeded', 'failed') })).toThrow();
    expect(() => verify(`whsec_${Buffer.alloc(32, 7).toString('base64')}`, sent)).toThrow();

    const d = await deliveryOf(owner, wf.id, created.notification.id, run.id, 'delivered');
    expect(d).toMatchObject({
      message_id: sent.headers['webhook-id'],
      event: 'run.succeeded',
      attempts: 1,
      payload: sent.body,
    });
    expect(d.log).toEqual([{ at: expect.any(String), status_code: 200, error: null, duration_ms: expect.any(Number) }]);
  });

  it('a failed attempt is tried again with backoff, under the same webhook-id, until it is delivered', async () => {
    const { owner, wf } = await setup();
    const { notification, secret } = await addEndpoint(owner, wf.id);
    receiver.answer(500, 503);
    const run = await runOnce(owner, wf.id);
    const d = await deliveryOf(owner, wf.id, notification.id, run.id, 'delivered');
    expect(d.attempts).toBe(3);
    expect(d.log.map((l: { status_code: number; error: string | null }) => [l.status_code, l.error])).toEqual([
      [500, 'HTTP 500'],
      [503, 'HTTP 503'],
      [200, null],
    ]);
    const sent = receiver.forRun(run.id);
    expect(sent).toHaveLength(3);
    expect(new Set(sent.map((s) => s.headers['webhook-id'])).size).toBe(1);
    for (const s of sent) expect(verify(secret, s).data.run.id).toBe(run.id);
    // Each wait at least half the exponential step (jitter), 40 ms then 80 ms.
    expect(sent[1].at - sent[0].at).toBeGreaterThanOrEqual(20);
    expect(sent[2].at - sent[1].at).toBeGreaterThanOrEqual(40);
  });

  it('after NOTIFICATION_MAX_ATTEMPTS it is failed; a redeliver sends it once more', async () => {
    const { owner, wf } = await setup();
    const { notification } = await addEndpoint(owner, wf.id);
    receiver.answer(500, 500, 500);
    const run = await runOnce(owner, wf.id);
    const failed = await deliveryOf(owner, wf.id, notification.id, run.id, 'failed');
    expect(failed).toMatchObject({ attempts: 3, next_attempt_at: null, delivered_at: null });
    const again = await request(t.url)
      .post(`/api/workflows/${wf.id}/notifications/${notification.id}/deliveries/${failed.id}/redeliver`)
      .set(owner.auth)
      .expect(200);
    expect(again.body.delivery).toMatchObject({ id: failed.id, status: 'pending' });
    const delivered = await deliveryOf(owner, wf.id, notification.id, run.id, 'delivered');
    expect(delivered.attempts).toBe(4);
    expect(receiver.forRun(run.id)).toHaveLength(4);
    await request(t.url)
      .post(`/api/workflows/${wf.id}/notifications/${notification.id}/deliveries/${wf.id}/redeliver`)
      .set(owner.auth)
      .expect(404);
  });

  it('only the statuses asked for are sent', async () => {
    const ok = await setup();
    const failing = await setup({ fails: true });
    const onOk = await addEndpoint(ok.owner, ok.wf.id, { statuses: ['failed'] });
    const onFail = await addEndpoint(failing.owner, failing.wf.id, { statuses: ['failed'] });
    const okRun = await runOnce(ok.owner, ok.wf.id);
    const failedRun = await runOnce(failing.owner, failing.wf.id);
    expect(failedRun.status).toBe('failed');
    const d = await deliveryOf(failing.owner, failing.wf.id, onFail.notification.id, failedRun.id, 'delivered');
    const payload = verify(onFail.secret, receiver.forRun(failedRun.id)[0]);
    expect(payload.type).toBe('run.failed');
    expect(payload.data.run).toMatchObject({ status: 'failed', error: failedRun.error });
    expect(d.event).toBe('run.failed');
    // The succeeded run was never queued for the endpoint that wants failures only.
    expect(receiver.forRun(okRun.id)).toHaveLength(0);
    expect((await deliveries(ok.owner, ok.wf.id, onOk.notification.id)).body.total).toBe(0);
  });

  it('a rotation shows the new secret once; both signatures are sent during the overlap', async () => {
    const { owner, wf } = await setup();
    const { notification, secret: old } = await addEndpoint(owner, wf.id);
    const rotated = await request(t.url)
      .post(`/api/workflows/${wf.id}/notifications/${notification.id}/rotate`)
      .set(owner.auth)
      .expect(200);
    const fresh: string = rotated.body.secret;
    expect(fresh).toMatch(/^whsec_/);
    expect(fresh).not.toBe(old);
    expect(Date.parse(rotated.body.notification.previous_secret_expires_at)).toBeGreaterThan(
      Date.now() + 23 * 3_600_000,
    );
    const run = await runOnce(owner, wf.id);
    const [sent] = await waitFor(() => receiver.forRun(run.id).length === 1 && receiver.forRun(run.id), 'the message');
    expect(String(sent.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verify(fresh, sent).data.run.id).toBe(run.id);
    expect(verify(old, sent).data.run.id).toBe(run.id);
  });

  it('goes through the egress policy: a URL outside the workflow allowlist is refused and logged', async () => {
    const { owner, wf } = await setup();
    await request(t.url)
      .post(`/api/workflows/${wf.id}/egress`)
      .set(owner.auth)
      .send({ allowlist: ['127.0.0.1'] })
      .expect(200);
    const { notification } = await addEndpoint(owner, wf.id, { url: 'http://localhost:9/blocked' });
    const run = await runOnce(owner, wf.id);
    const failed = await deliveryOf(owner, wf.id, notification.id, run.id, 'failed');
    expect(failed.log).toHaveLength(3);
    expect(JSON.parse(failed.log[0].error)).toMatchObject({ error: 'egress_blocked', host: 'localhost' });
    const blocks = await request(t.url).get(`/api/workflows/${wf.id}/egress/blocks`).set(owner.auth).expect(200);
    expect(blocks.body.blocks.map((b: { node_id: string; run_id: string }) => [b.node_id, b.run_id])).toContainEqual([
      `notification:${notification.id}`,
      run.id,
    ]);
  });

  it('an allowlist change applies to the next message, though the dispatcher had just sent one for the workflow', async () => {
    const { owner, wf } = await setup();
    const { notification } = await addEndpoint(owner, wf.id);
    const first = await runOnce(owner, wf.id);
    await deliveryOf(owner, wf.id, notification.id, first.id, 'delivered');
    await request(t.url)
      .post(`/api/workflows/${wf.id}/egress`)
      .set(owner.auth)
      .send({ allowlist: ['example.com'] })
      .expect(200);
    const second = await runOnce(owner, wf.id);
    const blocked = await deliveryOf(owner, wf.id, notification.id, second.id, 'failed');
    expect(JSON.parse(blocked.log[0].error)).toMatchObject({ error: 'egress_blocked', host: '127.0.0.1' });
  });

  it('a workflow has at most 10 endpoints, however many are created at once', async () => {
    const { owner, wf } = await setup();
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        request(t.url)
          .post(endpoints(owner, wf.id))
          .set(owner.auth)
          .send({ url: `${receiver.url}/hook/${i}` }),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(10);
    const refused = results.filter((r) => r.status !== 201);
    expect(refused.map((r) => [r.status, r.body.message])).toEqual(
      Array(20).fill([400, 'A workflow has at most 10 notification endpoints']),
    );
    const list = await request(t.url).get(endpoints(owner, wf.id)).set(owner.auth).expect(200);
    expect(list.body.notifications).toHaveLength(10);
  });

  it('only those who configure the workflow manage its endpoints; bad input is a 400', async () => {
    const { owner, ws, wf } = await setup();
    const [viewer, outsider] = [await actor(t.url), await actor(t.url)];
    await addMember(t.url, owner, ws, viewer, 'viewer');
    const { notification } = await addEndpoint(owner, wf.id);
    for (const a of [viewer]) {
      await request(t.url).get(endpoints(a, wf.id)).set(a.auth).expect(403);
      await request(t.url)
        .post(endpoints(a, wf.id))
        .set(a.auth)
        .send({ url: `${receiver.url}/x` })
        .expect(403);
      await request(t.url)
        .get(`/api/workflows/${wf.id}/notifications/${notification.id}/deliveries`)
        .set(a.auth)
        .expect(403);
    }
    const hidden = await request(t.url).get(endpoints(outsider, wf.id)).set(outsider.auth).expect(404);
    expect(hidden.body.message).toBe('Workflow not found');
    await request(t.url)
      .delete(`${endpoints(outsider, wf.id)}/${notification.id}`)
      .set(outsider.auth)
      .expect(404);

    for (const [body, message] of [
      [{ url: 'ftp://example.com/x' }, 'url must be an absolute http(s) URL'],
      [{ url: 'not a url' }, 'url must be an absolute http(s) URL'],
      [{ url: 'https://user:pw@example.com/x' }, 'url must not carry credentials; verify the signature instead'],
      [
        { url: 'https://example.com/x', statuses: ['running'] },
        'statuses must be succeeded, failed, canceled or expired',
      ],
      [{ url: 'https://example.com/x', statuses: [] }, 'statuses must contain at least 1 elements'],
      // Short as sent, too long as stored (percent-encoded).
      [{ url: `https://example.com/${'é'.repeat(1000)}` }, 'url must be at most 2048 characters'],
    ] as const) {
      const res = await request(t.url).post(endpoints(owner, wf.id)).set(owner.auth).send(body).expect(400);
      expect(JSON.stringify(res.body)).toContain(message);
    }
    await request(t.url)
      .delete(`${endpoints(owner, wf.id)}/${notification.id}`)
      .set(owner.auth)
      .expect(200);
    await request(t.url)
      .delete(`${endpoints(owner, wf.id)}/${notification.id}`)
      .set(owner.auth)
      .expect(404);
    expect((await request(t.url).get(endpoints(owner, wf.id)).set(owner.auth).expect(200)).body.notifications).toEqual(
      [],
    );
  });
});

describe('run notifications: the sweep queues what no event did (docs/contract.md §2.18)', () => {
  let t: TestApp;
  let receiver: Receiver;
  // Real time, which the test jumps ahead to bring the next sweep due.
  const clock = new ShiftedClock();
  beforeAll(async () => {
    receiver = await new Receiver().start();
    t = await createTestApp({ WORKER_POLL_INTERVAL_MS: '20' }, { overrides: [{ provide: Clock, useValue: clock }] });
  });
  afterAll(async () => {
    await t.close();
    await receiver.stop();
  });

  it('a finished run without a message (lost between its terminal write and its queueing) is sent by the next sweep, with the same body', async () => {
    const { owner, wf } = await notifiedWorkflow(t, receiver);
    const { secret } = (
      await request(t.url)
        .post(`/api/workflows/${wf.id}/notifications`)
        .set(owner.auth)
        .send({ url: `${receiver.url}/hook` })
        .expect(201)
    ).body as { secret: string };
    const run = (await request(t.url).post(`/api/workflows/${wf.id}/run`).set(owner.auth).send({}).expect(202)).body
      .run;
    // Queued from what the worker wrote, without reading the run back.
    const [first] = await waitFor(() => receiver.forRun(run.id).length === 1 && receiver.forRun(run.id), 'the message');

    // As if the process had died before queueing it: no message for the run.
    await t.app.get(DataSource).getRepository(NotificationDeliveryEntity).delete({ runId: run.id });
    clock.advance(31_000);
    const [, swept] = await waitFor(
      () => receiver.forRun(run.id).length === 2 && receiver.forRun(run.id),
      'the sweep to send the message again',
    );
    // Built from the run as read back: the same body, as a new message.
    const verified = (r: { headers: http.IncomingHttpHeaders; body: string }) =>
      new Webhook(secret).verify(r.body, {
        'webhook-id': String(r.headers['webhook-id']),
        'webhook-timestamp': String(r.headers['webhook-timestamp']),
        'webhook-signature': String(r.headers['webhook-signature']),
      });
    expect(verified(swept)).toEqual(verified(first));
    expect(JSON.parse(swept.body)).toMatchObject({ type: 'run.succeeded', data: { run: { id: run.id } } });
    expect(swept.headers['webhook-id']).not.toBe(first.headers['webhook-id']);
    // Its delivery log holds the new message alone, delivered.
    const nid = (await request(t.url).get(`/api/workflows/${wf.id}/notifications`).set(owner.auth).expect(200)).body
      .notifications[0].id;
    const recorded = await waitFor(async () => {
      const res = await request(t.url)
        .get(`/api/workflows/${wf.id}/notifications/${nid}/deliveries`)
        .set(owner.auth)
        .expect(200);
      const list = res.body.deliveries as { id: string; status: string }[];
      return list.every((d) => d.status !== 'pending') && list;
    }, 'the attempt to be recorded');
    expect(recorded.map((d) => [`msg_${d.id.replace(/-/g, '')}`, d.status])).toEqual([
      [swept.headers['webhook-id'], 'delivered'],
    ]);
  });
});
