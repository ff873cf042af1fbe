import { EventSource } from 'eventsource';
import request from 'supertest';
import { createTestApp, TestApp } from './utils/app';
import { TargetServer } from './utils/target-server';
import { waitFor } from './utils/wait';
import { Actor, actor, graph, trigger, uniqueName, upgrade } from './factories/workflow.factory';

type Node = Parameters<typeof graph>[0][number];

/**
 * Keyed concurrency and backpressure (docs/contract.md §2.12): a per-group limit beside the
 * workflow's, what a start does when its group is full, a bound on the wait list, and an expiry
 * for runs that wait too long. Runs on SQLite here and on PostgreSQL in `.ci/run`.
 */
describe('keyed concurrency and backpressure', () => {
  let t: TestApp;
  let target: TargetServer;
  beforeAll(async () => {
    target = await new TargetServer().start();
    t = await createTestApp({ WORKER_POLL_INTERVAL_MS: '20', WORKER_HEARTBEAT_INTERVAL_MS: '100' });
  });
  afterAll(async () => {
    await t.close();
    await target.stop();
  });

  let owner: Actor;
  let ws: string;
  beforeEach(async () => {
    owner = await actor(t.url);
    ws = await upgrade(t.url, owner);
  });

  /** Trigger "Hook" → an HTTP call held at the target under `/hold/<prefix>-<customer>`. */
  const heldGraph = (prefix: string, triggerType = 'Manual') =>
    graph(
      [
        trigger('trigger-1', { label: 'Hook', triggerType }),
        {
          id: 'call',
          type: 'actionHttp',
          data: {
            label: 'Call',
            actionType: 'http',
            params: { method: 'GET', url: `${target.url}/hold/${prefix}-{{Hook.customer}}` },
            timeout: 30_000,
          },
        } as Node,
      ],
      [['trigger-1', 'call']],
    );

  async function createWorkflow(data: unknown, workspaceId: string | null = ws) {
    const res = await request(t.url)
      .post('/api/workflows')
      .set(owner.auth)
      .send({ name: uniqueName(), data, ...(workspaceId ? { workspace_id: workspaceId } : {}) })
      .expect(201);
    return res.body.workflow as { id: string };
  }

  const configure = (workflowId: string, body: Record<string, unknown>, who: Actor = owner) =>
    request(t.url).post(`/api/workflows/${workflowId}/concurrency`).set(who.auth).send(body);

  const start = (workflowId: string, customer: string) =>
    request(t.url).post(`/api/workflows/${workflowId}/run`).set(owner.auth).send({ context: { customer } });

  const runOf = async (workflowId: string, runId: string) =>
    (await request(t.url).get(`/api/workflows/${workflowId}/runs/${runId}`).set(owner.auth).expect(200)).body.run;

  const statusIs = (workflowId: string, runId: string, status: string, deadlineMs?: number) =>
    waitFor(async () => (await runOf(workflowId, runId)).status === status, `run ${runId} to be ${status}`, deadlineMs);

  const running = async (workflowId: string) =>
    (await request(t.url).get(`/api/workflows/${workflowId}/runs?status=running&per_page=100`).set(owner.auth)).body
      .runs as { concurrency_key: string }[];

  describe('settings', () => {
    it('are set together or one at a time, shown on the workflow, and turned off with null', async () => {
      const wf = await createWorkflow(heldGraph('settings'));
      const set = await configure(wf.id, {
        limit: 4,
        key: ' {{Hook.customer}} ',
        on_limit: 'reject',
        max_queued: 50,
        queued_ttl_sec: 600,
      }).expect(200);
      expect(set.body).toEqual({
        success: true,
        limit: 4,
        key: '{{Hook.customer}}',
        key_limit: 1,
        on_limit: 'reject',
        max_queued: 50,
        queued_ttl_sec: 600,
      });
      // An absent field keeps its value.
      expect((await configure(wf.id, { key_limit: 2 }).expect(200)).body).toMatchObject({
        limit: 4,
        key: '{{Hook.customer}}',
        key_limit: 2,
        on_limit: 'reject',
      });
      const read = await request(t.url).get(`/api/workflows/${wf.id}`).set(owner.auth).expect(200);
      expect(read.body.workflow).toMatchObject({
        concurrency_limit: 4,
        concurrency_key: '{{Hook.customer}}',
        concurrency_key_limit: 2,
        concurrency_on_limit: 'reject',
        max_queued: 50,
        queued_ttl_sec: 600,
      });
      expect(
        (await configure(wf.id, { key: null, max_queued: null, queued_ttl_sec: null, on_limit: 'queue' }).expect(200))
          .body,
      ).toEqual({
        success: true,
        limit: 4,
        key: null,
        key_limit: null,
        on_limit: 'queue',
        max_queued: null,
        queued_ttl_sec: null,
      });
    });

    it('refuses what cannot be meant, with the field named (400), and changes nothing', async () => {
      const wf = await createWorkflow(heldGraph('invalid'));
      const cases: [Record<string, unknown>, RegExp][] = [
        [{}, /Nothing to change/],
        [{ key: 'customer' }, /key must be a template over the trigger payload with 1 to 10 non-empty/],
        [{ key: '{{ }}' }, /key must be a template/],
        [{ key: '{{a}}'.repeat(11) }, /key must be a template over the trigger payload with 1 to 10/],
        // Bounded work on a hostile template (a regular expression would not be): a 400 at once.
        [{ key: `{{${'a'.repeat(1_000_000)}` }, /key must be at most 500 characters/],
        [{ key: 42 }, /key must be a string or null/],
        [{ key: `{{Hook.${'x'.repeat(500)}}}` }, /key must be at most 500 characters/],
        [{ key_limit: 2 }, /key_limit needs a key/],
        [{ key: null, key_limit: 2 }, /key_limit needs a key/],
        [{ key: '{{Hook.a}}', key_limit: 0 }, /key_limit must be >= 1/],
        [{ key: '{{Hook.a}}', key_limit: null }, /key_limit is required/],
        [{ on_limit: 'drop' }, /on_limit must be queue, reject or cancel_oldest/],
        [{ on_limit: null }, /on_limit is required/],
        [{ limit: null }, /limit is required/],
        [{ max_queued: 0 }, /max_queued must be >= 1/],
        [{ max_queued: 100_001 }, /max_queued must be <= 100000/],
        [{ queued_ttl_sec: 1.5 }, /queued_ttl_sec must be an integer or null/],
        [{ queued_ttl_sec: 2_592_001 }, /queued_ttl_sec must be <= 2592000/],
      ];
      for (const [body, message] of cases) {
        const res = await configure(wf.id, body).expect(400);
        expect(res.body).toMatchObject({ success: false, status: 'error', code: 'invalid_request' });
        expect(res.body.message).toMatch(message);
      }
      const read = await request(t.url).get(`/api/workflows/${wf.id}`).set(owner.auth).expect(200);
      expect(read.body.workflow).toMatchObject({
        concurrency_limit: 1,
        concurrency_key: null,
        concurrency_key_limit: null,
        concurrency_on_limit: 'queue',
        max_queued: null,
        queued_ttl_sec: null,
      });
    });

    it('a Solo workflow may group and bound its runs but runs one at a time, per key too (403)', async () => {
      const wf = await createWorkflow(heldGraph('solo'), null);
      await configure(wf.id, {
        key: '{{Hook.customer}}',
        on_limit: 'reject',
        max_queued: 5,
        queued_ttl_sec: 60,
      }).expect(200);
      const denied = await configure(wf.id, { key_limit: 2 }).expect(403);
      expect(denied.body.violations).toEqual([expect.objectContaining({ code: 'concurrency-limit' })]);
    });

    it('only those who may configure the workflow change them', async () => {
      const wf = await createWorkflow(heldGraph('who'));
      const stranger = await actor(t.url);
      await configure(wf.id, { on_limit: 'reject' }, stranger).expect(404);
    });
  });

  it('under load, runs of one key never exceed the key limit, while other keys and the workflow limit go on', async () => {
    const wf = await createWorkflow(heldGraph('load'));
    await configure(wf.id, { limit: 5, key: '{{Hook.customer}}', key_limit: 2 }).expect(200);
    const customers = ['a', 'b', 'c'];
    const perCustomer = 8;
    // Every start at once, interleaved.
    const started = await Promise.all(
      Array.from({ length: customers.length * perCustomer }, (_, i) => start(wf.id, customers[i % customers.length])),
    );
    expect(started.map((r) => r.status)).toEqual(started.map(() => 202));
    expect(started[0].body.run.concurrency_key).toBe('a');
    const left = new Map(customers.map((c) => [c, perCustomer]));
    let rounds = 0;
    while ([...left.values()].some((n) => n > 0)) {
      // Two of each customer with runs left, but five at most in all: settle, then check and release.
      const expected = (c: string) => Math.min(2, left.get(c)!);
      await waitFor(async () => {
        const held = customers.map((c) => target.heldCount(`load-${c}`));
        if (held.some((n) => n > 2)) return true; // a violation: fail below rather than time out
        const total = held.reduce((a, b) => a + b, 0);
        const wanted = Math.min(
          5,
          customers.reduce((sum, c) => sum + expected(c), 0),
        );
        return total === wanted && customers.every((c, i) => held[i] <= expected(c));
      }, 'the next runs to reach the target');
      const inFlight = await running(wf.id);
      for (const c of customers) {
        expect(target.heldCount(`load-${c}`)).toBeLessThanOrEqual(2);
        expect(inFlight.filter((r) => r.concurrency_key === c).length).toBeLessThanOrEqual(2);
      }
      expect(inFlight.length).toBeLessThanOrEqual(5);
      for (const c of customers) left.set(c, left.get(c)! - target.release(`load-${c}`));
      rounds += 1;
    }
    for (const r of started) await statusIs(wf.id, r.body.run.id, 'succeeded');
    for (const c of customers) expect(target.maxHeld.get(`load-${c}`)).toBe(2);
    expect(rounds).toBeGreaterThanOrEqual(4);
  });

  describe('over the limit', () => {
    it('reject: 429 concurrency_limited while the group is full; other groups and later starts pass', async () => {
      const wf = await createWorkflow(heldGraph('reject'));
      await configure(wf.id, { limit: 10, key: '{{Hook.customer}}', key_limit: 2, on_limit: 'reject' }).expect(200);
      // Ten starts for one customer at once: exactly two are admitted.
      const burst = await Promise.all(Array.from({ length: 10 }, () => start(wf.id, 'x')));
      const admitted = burst.filter((r) => r.status === 202);
      expect(admitted).toHaveLength(2);
      for (const refused of burst.filter((r) => r.status !== 202)) {
        expect(refused.status).toBe(429);
        expect(refused.body).toMatchObject({ success: false, status: 'error', code: 'concurrency_limited' });
        expect(refused.body.message).toMatch(/concurrency group is at its limit/);
      }
      // Refused starts wrote nothing.
      const all = await request(t.url).get(`/api/workflows/${wf.id}/runs?per_page=100`).set(owner.auth).expect(200);
      expect(all.body.runs).toHaveLength(2);
      await start(wf.id, 'y').expect(202);
      await waitFor(() => target.heldCount('reject-x') === 2, 'both admitted runs in flight');
      target.release('reject-x');
      for (const r of admitted) await statusIs(wf.id, r.body.run.id, 'succeeded');
      await start(wf.id, 'x').expect(202);
      target.release('reject-y');
    });

    it('reject without a key: the workflow limit is the group', async () => {
      const wf = await createWorkflow(heldGraph('reject-wf'));
      await configure(wf.id, { on_limit: 'reject' }).expect(200);
      const first = (await start(wf.id, 'a').expect(202)).body.run;
      const refused = await start(wf.id, 'b').expect(429);
      expect(refused.body.code).toBe('concurrency_limited');
      expect(refused.body.message).toMatch(/workflow is at its concurrency limit/);
      await waitFor(() => target.heldCount('reject-wf-a') === 1, 'the first run in flight');
      target.release('reject-wf-a');
      await statusIs(wf.id, first.id, 'succeeded');
      await start(wf.id, 'b').expect(202);
      await waitFor(() => target.heldCount('reject-wf-b') === 1, 'the next run in flight');
      target.release('reject-wf-b');
    });

    it('cancel_oldest: the newest start takes the place of the oldest run of its group, running or queued', async () => {
      const wf = await createWorkflow(heldGraph('newest'));
      await configure(wf.id, { limit: 5, key: '{{Hook.customer}}', key_limit: 1, on_limit: 'cancel_oldest' }).expect(
        200,
      );
      const first = (await start(wf.id, 'k').expect(202)).body.run;
      await waitFor(() => target.heldCount('newest-k') === 1, 'the first run in flight');
      const other = (await start(wf.id, 'other').expect(202)).body.run;
      const second = (await start(wf.id, 'k').expect(202)).body.run;
      const canceled = await runOf(wf.id, first.id);
      expect(canceled.status).toBe('canceled');
      // The other customer's run is not in the group.
      expect((await runOf(wf.id, other.id)).status).not.toBe('canceled');
      // The canceled run's call is abandoned; the newest runs in its place.
      await waitFor(() => target.heldCount('newest-k') === 1 && target.count('/hold/newest-k') === 2, 'the newest run');
      target.release('newest-k');
      target.release('newest-other');
      await statusIs(wf.id, second.id, 'succeeded');
      await statusIs(wf.id, other.id, 'succeeded');
      expect((await runOf(wf.id, first.id)).status).toBe('canceled');
    });
  });

  it('max_queued: 429 queue_full past the wait list, on the run route and a webhook; a retry passes once it drains', async () => {
    const wf = await createWorkflow(heldGraph('bounded', 'Webhook'));
    await configure(wf.id, { max_queued: 2 }).expect(200);
    const first = (await start(wf.id, 'q').expect(202)).body.run;
    await waitFor(() => target.heldCount('bounded-q') === 1, 'the first run in flight');
    // The limit is 1: these two wait.
    await start(wf.id, 'q').expect(202);
    await start(wf.id, 'q').expect(202);
    const full = await start(wf.id, 'q').expect(429);
    expect(full.body).toMatchObject({ success: false, status: 'error', code: 'queue_full' });
    expect(full.body.message).toBe(
      'This workflow already has 2 runs waiting to start. Try again when the queue drains.',
    );
    const hook = (await request(t.url).get(`/api/workflows/${wf.id}/webhook-url`).set(owner.auth).expect(200)).body
      .url as string;
    const refused = await request(t.url).post(hook).send({ customer: 'q' }).expect(429);
    expect(refused.body.code).toBe('queue_full');
    target.release('bounded-q');
    await statusIs(wf.id, first.id, 'succeeded');
    await waitFor(() => target.heldCount('bounded-q') === 1, 'the next run in flight');
    // One waits now: room for one more.
    await request(t.url).post(hook).send({ customer: 'q' }).expect(202);
    await start(wf.id, 'q').expect(429);
    for (let released = 0; released < 3;) {
      await waitFor(() => target.heldCount('bounded-q') === 1, 'the next run in flight');
      released += target.release('bounded-q');
    }
  });

  it('queued_ttl_sec: a run that waits too long ends expired, in lists, streams and notifications', async () => {
    const wf = await createWorkflow(heldGraph('ttl'));
    await configure(wf.id, { queued_ttl_sec: 1 }).expect(200);
    await request(t.url)
      .post(`/api/workflows/${wf.id}/notifications`)
      .set(owner.auth)
      .send({ url: `${target.url}/notify-expired`, statuses: ['expired'] })
      .expect(201);
    const first = (await start(wf.id, 'z').expect(202)).body.run;
    await waitFor(() => target.heldCount('ttl-z') === 1, 'the first run in flight');
    const waiting = (await start(wf.id, 'z').expect(202)).body.run;
    expect(Date.parse(waiting.queue_expires_at) - Date.parse(waiting.created_at)).toBe(1_000);

    const events: { id: string; status: string }[] = [];
    const stream = new EventSource(`${t.url}/api/workflows/${wf.id}/runs/${waiting.id}/events`, {
      fetch: (input, init) =>
        fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), ...owner.auth } }),
    });
    stream.addEventListener('run', (e) => events.push(JSON.parse(e.data)));
    try {
      await statusIs(wf.id, waiting.id, 'expired', 15_000);
      const expired = await runOf(wf.id, waiting.id);
      expect(expired).toMatchObject({
        status: 'expired',
        error: "Expired: not started within the workflow's queued_ttl_sec",
        queue_expires_at: null,
      });
      expect(expired.finished_at).not.toBeNull();
      const listed = await request(t.url)
        .get(`/api/workflows/${wf.id}/runs?status=expired`)
        .set(owner.auth)
        .expect(200);
      expect(listed.body.runs.map((r: { id: string }) => r.id)).toEqual([waiting.id]);
      await waitFor(
        () => events.some((e) => e.id === waiting.id && e.status === 'expired'),
        'the stream to say expired',
      );
      // A run notification asked for `expired` (signed as any other; tested in notifications.e2e-spec.ts).
      const sent = await waitFor(() => target.seen.find((r) => r.path === '/notify-expired'), 'the notification');
      expect(JSON.parse(sent.body)).toMatchObject({
        type: 'run.expired',
        data: { run: { id: waiting.id, status: 'expired' } },
      });
    } finally {
      stream.close();
    }
    // The run that started is never expired, however long it takes.
    expect((await runOf(wf.id, first.id)).queue_expires_at).toBeNull();
    target.release('ttl-z');
    await statusIs(wf.id, first.id, 'succeeded');
  });
});
