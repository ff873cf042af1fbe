import request from 'supertest';
import { NodeRunRepository } from '../src/database/repositories/node-run.repository';
import { RunRepository } from '../src/database/repositories/run.repository';
import { Clock } from '../src/common/clock';
import { createTestApp, TestApp } from './utils/app';
import { ShiftedClock } from './utils/clock';
import { TargetServer } from './utils/target-server';
import { waitFor } from './utils/wait';
import { Actor, actor, addMember, graph, trigger, uniqueName, upgrade } from './factories/workflow.factory';

type Node = Parameters<typeof graph>[0][number];

describe('runs and the engine (docs/contract.md §2.8–2.13, §4, §5)', () => {
  let t: TestApp;
  let target: TargetServer;
  // Real time, which a test may jump ahead (a delay comes due without being waited out).
  const clock = new ShiftedClock();
  beforeAll(async () => {
    target = await new TargetServer().start();
    t = await createTestApp(
      { WORKER_POLL_INTERVAL_MS: '20', WORKER_HEARTBEAT_INTERVAL_MS: '100' },
      { overrides: [{ provide: Clock, useValue: clock }] },
    );
  });
  afterAll(async () => {
    await t.close();
    await target.stop();
  });

  const httpNode = (
    id: string,
    label: string,
    params: Record<string, unknown>,
    extra: Record<string, unknown> = {},
  ): Node => ({
    id,
    type: 'actionHttp',
    data: { label, actionType: 'http', params: { method: 'GET', ...params }, timeout: 10_000, ...extra },
  });

  async function createWorkflow(a: Actor, data: unknown, workspaceId?: string) {
    const res = await request(t.url)
      .post('/api/workflows')
      .set(a.auth)
      .send({ name: uniqueName(), data, ...(workspaceId ? { workspace_id: workspaceId } : {}) })
      .expect(201);
    return res.body.workflow as { id: string; updated_at: string; workspace_id: string | null };
  }

  const start = (a: Actor, workflowId: string, body?: Record<string, unknown>) => {
    const req = request(t.url).post(`/api/workflows/${workflowId}/run`).set(a.auth);
    return body ? req.send(body) : req;
  };

  async function finished(a: Actor, workflowId: string, runId: string) {
    return waitFor(async () => {
      const res = await request(t.url).get(`/api/workflows/${workflowId}/runs/${runId}`).set(a.auth).expect(200);
      return ['succeeded', 'failed', 'canceled'].includes(res.body.run.status) ? res.body : undefined;
    }, `run ${runId} to finish`);
  }

  async function workspaceOwner() {
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    return { owner, ws };
  }

  // Most rules are about a workspace owner's runs: a fresh one for each test.
  let owner: Actor;
  let ws: string;
  beforeEach(async () => {
    ({ owner, ws } = await workspaceOwner());
  });

  describe('a 5-node workflow calling out with a stored credential', () => {
    let wf: { id: string };
    let res: request.Response;
    let done: Awaited<ReturnType<typeof finished>>;
    beforeEach(async () => {
      await request(t.url)
        .put('/api/options/secrets/http/bearer_token/crm')
        .set(owner.auth)
        .send({ value: 'tok-live-123456' })
        .expect(200);
      const nodes: Node[] = [
        trigger('hook', { label: 'Hook' }),
        httpNode('post', 'Create', {
          url: `${target.url}/orders/{{Hook.order.id}}`,
          method: 'POST',
          bodyType: 'json',
          body: '{"sku":"{{Hook.order.sku}}"}',
          authType: 'bearer',
          token: 'http:bearer_token:crm',
        }),
        { id: 'check', type: 'condition', data: { label: 'Check', expression: '{{Create.status}} == 200' } },
        {
          id: 'fmt',
          type: 'formatter',
          data: {
            label: 'Shout',
            config: { operation: 'string.uppercase', input: '{{Hook.order.sku}}', output_key: 'sku' },
          },
        },
        {
          id: 'code',
          type: 'actionCode',
          data: {
            label: 'Sum',
            actionType: 'code',
            params: {
              code: 'return { total: inputs.a + inputs.b, sku: context.Shout.sku };',
              inputs: [
                { key: 'a', value: '2' },
                { key: 'b', value: '{{Hook.order.id}}' },
              ],
            },
          },
        },
        httpNode('never', 'Else', { url: `${target.url}/never` }),
      ];
      const edges: [string, string][] = [
        ['hook', 'post'],
        ['post', 'check'],
      ];
      const data = graph(nodes, edges);
      data.edges.push(
        { id: 'yes', source: 'check', target: 'fmt', sourceHandle: 'cond-true', type: 'nodeEdge' },
        { id: 'no', source: 'check', target: 'never', sourceHandle: 'cond-false', type: 'nodeEdge' },
        { id: 'e9', source: 'fmt', target: 'code', sourceHandle: null, type: 'nodeEdge' },
      );
      wf = await createWorkflow(owner, data, ws);
      res = await start(owner, wf.id, { context: { order: { id: 40, sku: 'ab-1' } } }).expect(202);
      done = await finished(owner, wf.id, res.body.run.id);
    });

    it('is queued, then runs every node on the taken branch to success through real HTTP calls', async () => {
      expect(res.body).toEqual({
        success: true,
        run: expect.objectContaining({ status: 'queued', workflow_id: wf.id, user_id: owner.userId, workspace_id: ws }),
      });
      expect(done.run.status).toBe('succeeded');
      expect(done.run.error).toBeNull();
      expect(done.node_runs.map((n: { node_id: string; status: string }) => `${n.node_id}:${n.status}`)).toEqual([
        'hook:succeeded',
        'post:succeeded',
        'check:succeeded',
        'fmt:succeeded',
        'code:succeeded',
      ]);
      const code = done.node_runs.find((n: { node_id: string }) => n.node_id === 'code');
      expect(code.outputs).toEqual({ total: 42, sku: 'AB-1' });

      const call = target.seen.filter((r) => r.path === '/orders/40').at(-1)!;
      expect(call.method).toBe('POST');
      expect(JSON.parse(call.body)).toEqual({ sku: 'ab-1' });
      expect(target.count('/never')).toBe(0);
    });

    it('hydrates the credential into the outbound call in memory only: never into the run, node runs or download', async () => {
      const call = target.seen.filter((r) => r.path === '/orders/40').at(-1)!;
      expect(call.headers.authorization).toBe('Bearer tok-live-123456');
      // The plaintext never comes back: not in the run, the node runs, the snapshot or the download.
      const download = await request(t.url)
        .get(`/api/workflows/${wf.id}/runs/${res.body.run.id}/download`)
        .set(owner.auth)
        .expect(200);
      expect(download.headers['content-disposition']).toBe('attachment; filename=run.json');
      expect(Object.keys(download.body).sort()).toEqual(['node_runs', 'run']);
      expect(JSON.stringify([done, download.body])).not.toContain('tok-live-123456');
      const stored = await t.app.get(NodeRunRepository).nodeRuns(wf.id, res.body.run.id);
      expect(JSON.stringify(stored)).not.toContain('tok-live-123456');
    });
  });

  it('a response holding NUL characters is kept (as U+FFFD on PostgreSQL, which cannot store NUL) and the run succeeds', async () => {
    const wf = await createWorkflow(
      owner,
      graph(
        [
          trigger(),
          httpNode('echo', 'Echo', {
            url: `${target.url}/nul`,
            method: 'POST',
            body: '{"s":"a\\u0000b"}',
            headers: [{ key: 'Content-Type', value: 'application/json' }],
          }),
        ],
        [['trigger-1', 'echo']],
      ),
      ws,
    );
    const run = (await start(owner, wf.id, {}).expect(202)).body.run;
    const done = await finished(owner, wf.id, run.id);
    expect(done.run.status).toBe('succeeded');
    const echoed = JSON.stringify(done.node_runs.find((n: { node_id: string }) => n.node_id === 'echo').outputs);
    expect(echoed).toContain(process.env.TEST_DATABASE_URL ? 'a\uFFFDb' : 'a\\u0000b');
  });

  it('a target that echoes the request gets no secret back into the run: not in Basic auth, not percent-encoded', async () => {
    const password = 'pa ss/w0rd+Q7';
    const token = 'qt&k=v?9f3e21';
    for (const [name, value] of [
      ['basic', password],
      ['query', token],
    ])
      await request(t.url)
        .put(`/api/options/secrets/http/bearer_token/${name}`)
        .set(owner.auth)
        .send({ value })
        .expect(200);
    const wf = await createWorkflow(
      owner,
      graph(
        [
          trigger(),
          httpNode('echo', 'Echo', {
            url: `${target.url}/echo-request`,
            authType: 'basic',
            username: 'deploy-bot',
            password: 'http:bearer_token:basic',
            queryParams: [{ key: 'access_token', value: 'http:bearer_token:query' }],
          }),
        ],
        [['trigger-1', 'echo']],
      ),
      ws,
    );
    const run = (await start(owner, wf.id, {}).expect(202)).body.run;
    const done = await finished(owner, wf.id, run.id);
    expect(done.run.status).toBe('succeeded');
    // The target did receive them...
    const seen = target.seen.filter((r) => r.path.startsWith('/echo-request')).at(-1)!;
    expect(seen.headers.authorization).toBe(`Basic ${Buffer.from(`deploy-bot:${password}`).toString('base64')}`);
    expect(seen.path).toContain(encodeURIComponent(token));
    // ...and none of their forms is stored with the run or answered.
    const stored = JSON.stringify(await t.app.get(NodeRunRepository).nodeRuns(wf.id, run.id));
    for (const text of [stored, JSON.stringify(done)]) {
      for (const form of [password, token, encodeURIComponent(token), encodeURIComponent(password)]) {
        expect(text).not.toContain(form);
      }
      expect(text).not.toContain(Buffer.from(`deploy-bot:${password}`).toString('base64').slice(8, -4));
    }
  });

  it('a response holding lone surrogates is kept (as U+FFFD on PostgreSQL, whose jsonb refuses them) and the run succeeds', async () => {
    const wf = await createWorkflow(
      owner,
      graph([trigger(), httpNode('odd', 'Odd', { url: `${target.url}/lone-surrogate` })], [['trigger-1', 'odd']]),
      ws,
    );
    const run = (await start(owner, wf.id, {}).expect(202)).body.run;
    const done = await finished(owner, wf.id, run.id);
    expect(done.run.status).toBe('succeeded');
    const [stored] = (await t.app.get(NodeRunRepository).nodeRuns(wf.id, run.id)).filter((n) => n.nodeId === 'odd');
    const body = JSON.stringify(stored.outputs);
    if (process.env.TEST_DATABASE_URL) {
      expect(body).toContain('"text":"a\uFFFDb"');
      expect(body).toContain('"\uFFFDkey":1');
    } else {
      expect(body).toContain('"text":"a\\ud800b"');
    }
  });

  describe('a run held in flight', () => {
    let wf: { id: string };
    let first: request.Response;
    beforeEach(async () => {
      wf = await createWorkflow(
        owner,
        graph([trigger(), httpNode('h', 'Hold', { url: `${target.url}/hold/idem` })], [['trigger-1', 'h']]),
        ws,
      );
      first = await start(owner, wf.id, { idempotency_key: 'abc', priority: 5 }).expect(202);
    });
    afterEach(async () => {
      await waitFor(() => target.heldCount('idem') === 1, 'the run to reach the held node');
      target.release('idem');
      expect((await finished(owner, wf.id, first.body.run.id)).run.status).toBe('succeeded');
    });

    it('a repeated idempotency key returns the run it created', async () => {
      const again = await start(owner, wf.id, { idempotency_key: 'abc' }).expect(202);
      expect(again.body.run.id).toBe(first.body.run.id);
    });

    it('GET /runs lists the active runs of one workflow, or of every workflow the caller sees', async () => {
      await waitFor(() => target.heldCount('idem') === 1, 'the run to reach the held node');
      const active = await request(t.url).get(`/api/workflows/runs?workflow_id=${wf.id}`).set(owner.auth).expect(200);
      expect(active.body.runs.map((r: { id: string; status: string }) => [r.id, r.status])).toEqual([
        [first.body.run.id, 'running'],
      ]);
      const everywhere = await request(t.url).get('/api/workflows/runs').set(owner.auth).expect(200);
      expect(everywhere.body.runs.map((r: { id: string }) => r.id)).toContain(first.body.run.id);
    });
  });

  describe('run lists (three succeeded runs, and one failed run of another workflow)', () => {
    let wf: { id: string };
    let failing: { id: string };
    let ids: string[];
    beforeEach(async () => {
      wf = await createWorkflow(owner, graph([trigger()]), ws);
      ids = [];
      for (let i = 0; i < 3; i += 1) ids.push((await start(owner, wf.id).expect(202)).body.run.id);
      for (const id of ids) await finished(owner, wf.id, id);
      failing = await createWorkflow(owner, graph([trigger(), httpNode('bad', 'Bad', {})], [['trigger-1', 'bad']]), ws);
      await finished(owner, failing.id, (await start(owner, failing.id).expect(202)).body.run.id);
    });

    it('pages newest first; per_page is clamped to 100 and page to at least 1', async () => {
      const page = await request(t.url)
        .get(`/api/workflows/${wf.id}/runs?per_page=2&page=1`)
        .set(owner.auth)
        .expect(200);
      expect(page.body).toMatchObject({ success: true, page: 1, per_page: 2 });
      expect(page.body.runs.map((r: { id: string }) => r.id)).toEqual([ids[2], ids[1]]);
      const page2 = await request(t.url)
        .get(`/api/workflows/${wf.id}/runs?per_page=2&page=2`)
        .set(owner.auth)
        .expect(200);
      expect(page2.body.runs.map((r: { id: string }) => r.id)).toEqual([ids[0]]);
      const clamped = await request(t.url)
        .get(`/api/workflows/${wf.id}/runs?per_page=1000&page=0`)
        .set(owner.auth)
        .expect(200);
      expect(clamped.body).toMatchObject({ page: 1, per_page: 100 });
    });

    it('filters by one status, repeated status[] or a comma list; an unknown status or a bad page is 400', async () => {
      expect(
        (await request(t.url).get(`/api/workflows/${wf.id}/runs?status=failed`).set(owner.auth)).body.runs,
      ).toEqual([]);
      expect(
        (await request(t.url).get(`/api/workflows/${wf.id}/runs?status=succeeded`).set(owner.auth)).body.runs,
      ).toHaveLength(3);
      const both = await request(t.url)
        .get(`/api/workflows/${failing.id}/runs?status[]=failed&status[]=canceled`)
        .set(owner.auth)
        .expect(200);
      expect(both.body.runs).toHaveLength(1);
      const comma = await request(t.url)
        .get(`/api/workflows/${failing.id}/runs?status=succeeded,failed`)
        .set(owner.auth)
        .expect(200);
      expect(comma.body.runs).toHaveLength(1);
      const bad = await request(t.url).get(`/api/workflows/${wf.id}/runs?status=done`).set(owner.auth).expect(400);
      expect(bad.body.message).toMatch(/Invalid status filter: done/);
      await request(t.url).get(`/api/workflows/${wf.id}/runs?page=x`).set(owner.auth).expect(400);
    });
  });

  it('a run is found only under its own workflow: 404 Run not found under another', async () => {
    const wf = await createWorkflow(owner, graph([trigger()]), ws);
    const other = await createWorkflow(owner, graph([trigger()]), ws);
    const run = (await start(owner, wf.id).expect(202)).body.run;
    const missing = await request(t.url).get(`/api/workflows/${other.id}/runs/${run.id}`).set(owner.auth).expect(404);
    expect(missing.body.message).toBe('Run not found');
  });

  it('starting a workflow the caller cannot see is 404 Workflow not found', async () => {
    const wf = await createWorkflow(owner, graph([trigger()]), ws);
    const stranger = await actor(t.url);
    expect((await start(stranger, wf.id).expect(404)).body.message).toBe('Workflow not found');
  });

  it('a malformed run id is 400 and a start body that is not JSON is 415', async () => {
    const wf = await createWorkflow(owner, graph([trigger()]), ws);
    await request(t.url).get(`/api/workflows/${wf.id}/runs/nope`).set(owner.auth).expect(400);
    await request(t.url)
      .post(`/api/workflows/${wf.id}/run`)
      .set(owner.auth)
      .set('Content-Type', 'text/plain')
      .send('x')
      .expect(415);
  });

  describe('cancel', () => {
    let wf: { id: string };
    let run: { id: string };
    beforeEach(async () => {
      wf = await createWorkflow(
        owner,
        graph(
          [
            trigger(),
            httpNode('h', 'Hold', { url: `${target.url}/hold/cancel-me` }),
            httpNode('after', 'After', { url: `${target.url}/after-cancel` }),
          ],
          [
            ['trigger-1', 'h'],
            ['h', 'after'],
          ],
        ),
        ws,
      );
      run = (await start(owner, wf.id).expect(202)).body.run;
      await waitFor(() => target.heldCount('cancel-me') === 1, 'the held request');
    });

    it('is immediate: the in-flight HTTP node is aborted and the run ends canceled, the nodes after it never run', async () => {
      const res = await request(t.url)
        .post(`/api/workflows/${wf.id}/runs/${run.id}/cancel`)
        .set(owner.auth)
        .expect(200);
      expect(res.body).toEqual({ success: true, status: 'canceled' });
      // The executor aborts the outbound request: the server sees its client go away.
      await waitFor(() => target.heldCount('cancel-me') === 0, 'the aborted request');
      target.release('cancel-me');
      const done = await finished(owner, wf.id, run.id);
      expect(done.run.status).toBe('canceled');
      expect(target.count('/after-cancel')).toBe(0);
    });

    it('a run no longer active is not cancelable (400)', async () => {
      await request(t.url).post(`/api/workflows/${wf.id}/runs/${run.id}/cancel`).set(owner.auth).expect(200);
      const again = await request(t.url)
        .post(`/api/workflows/${wf.id}/runs/${run.id}/cancel`)
        .set(owner.auth)
        .expect(400);
      expect(again.body.message).toBe('Run is not cancelable or not found');
    });
  });

  it('cancel-all cancels every active run', async () => {
    const wf = await createWorkflow(
      owner,
      graph([trigger(), httpNode('h', 'Hold', { url: `${target.url}/hold/all` })], [['trigger-1', 'h']]),
      ws,
    );
    const runs = [
      (await start(owner, wf.id).expect(202)).body.run.id,
      (await start(owner, wf.id).expect(202)).body.run.id,
    ];
    const res = await request(t.url).post(`/api/workflows/${wf.id}/runs/cancel-all`).set(owner.auth).expect(200);
    expect(res.body).toEqual({ success: true, canceled: 2 });
    for (const id of runs) expect((await finished(owner, wf.id, id)).run.status).toBe('canceled');
    target.release('all');
  });

  describe('a failing node', () => {
    let failing: { id: string };
    let run: { id: string };
    beforeEach(async () => {
      failing = await createWorkflow(
        owner,
        graph(
          [trigger(), httpNode('bad', 'Bad', {}), httpNode('next', 'Next', { url: `${target.url}/after-failure` })],
          [
            ['trigger-1', 'bad'],
            ['bad', 'next'],
          ],
        ),
        ws,
      );
      run = (await start(owner, failing.id).expect(202)).body.run;
    });

    it('fails the run with its error, and the nodes after it never run', async () => {
      const done = await finished(owner, failing.id, run.id);
      expect(done.run).toMatchObject({ status: 'failed', error: 'URL is required' });
      expect(done.node_runs.find((n: { node_id: string }) => n.node_id === 'bad')).toMatchObject({
        status: 'failed',
        error: 'URL is required',
      });
      expect(target.count('/after-failure')).toBe(0);
    });

    it('with stopOnError:false lets the run continue, for any action type', async () => {
      const tolerant = await createWorkflow(
        owner,
        graph(
          [
            trigger(),
            httpNode('bad', 'Bad', {}, { stopOnError: false }),
            httpNode('next', 'Next', { url: `${target.url}/after-tolerated` }),
          ],
          [
            ['trigger-1', 'bad'],
            ['bad', 'next'],
          ],
        ),
        ws,
      );
      const ok = await finished(owner, tolerant.id, (await start(owner, tolerant.id).expect(202)).body.run.id);
      expect(ok.run.status).toBe('succeeded');
      expect(target.count('/after-tolerated')).toBe(1);
    });

    it('leaves a dead letter holding the run, its error and its snapshot', async () => {
      await finished(owner, failing.id, run.id);
      const letters = await request(t.url).get(`/api/workflows/${failing.id}/dead-letters`).set(owner.auth).expect(200);
      expect(letters.body).toMatchObject({ success: true, page: 1, per_page: 20 });
      expect(letters.body.dead_letters).toEqual([
        {
          id: expect.any(String),
          user_id: owner.userId,
          workflow_id: failing.id,
          run_id: run.id,
          error: 'URL is required',
          snapshot: expect.any(Object),
          created_at: expect.any(String),
        },
      ]);
    });
  });

  describe('dead letters (two runs failed at a gate the test controls)', () => {
    let member: Actor;
    let wf: { id: string };
    let flag: string;
    let letters: { id: string }[];
    beforeEach(async () => {
      member = await actor(t.url);
      await addMember(t.url, owner, ws, member, 'user');
      flag = uniqueName('requeue').replace(/\W+/g, '-');
      // Fails until the test flips the flag on the target server: then a requeued run succeeds for real.
      const gate: Node = {
        id: 'gate',
        type: 'actionCode',
        data: {
          label: 'Gate',
          actionType: 'code',
          params: { code: 'if (!context.Flag.body.on) throw new Error("not yet"); return { ok: true };' },
        },
      };
      wf = await createWorkflow(
        owner,
        graph(
          [
            trigger(),
            httpNode('flag', 'Flag', { url: `${target.url}/flag/${flag}` }),
            gate,
            httpNode('done', 'Done', { url: `${target.url}/requeued-ok/${flag}` }),
          ],
          [
            ['trigger-1', 'flag'],
            ['flag', 'gate'],
            ['gate', 'done'],
          ],
        ),
        ws,
      );
      for (let i = 0; i < 2; i += 1) await finished(owner, wf.id, (await start(owner, wf.id).expect(202)).body.run.id);
      letters = (await request(t.url).get(`/api/workflows/${wf.id}/dead-letters`).set(owner.auth).expect(200)).body
        .dead_letters;
    });
    const requeue = (id: string) =>
      request(t.url).post(`/api/workflows/${wf.id}/dead-letters/${id}/requeue`).set(owner.auth);

    it('are for the creator or an admin: a user member gets 403', async () => {
      expect(letters).toHaveLength(2);
      const forbidden = await request(t.url).get(`/api/workflows/${wf.id}/dead-letters`).set(member.auth).expect(403);
      expect(forbidden.body.message).toBe('Only a workspace admin or owner can change workflow settings.');
    });

    it('requeue makes a new queued run and removes the entry: requeuing it again is 404', async () => {
      const requeued = await requeue(letters[0].id).expect(202);
      expect(requeued.body.run).toMatchObject({ status: 'queued', workflow_id: wf.id });
      // Still failing: the new run leaves a dead letter of its own.
      expect((await finished(owner, wf.id, requeued.body.run.id)).run.status).toBe('failed');
      const missing = await requeue(letters[0].id).expect(404);
      expect(missing.body.message).toBe('Dead letter not found');
      const remaining = (await request(t.url).get(`/api/workflows/${wf.id}/dead-letters`).set(owner.auth).expect(200))
        .body.dead_letters;
      expect(remaining).toHaveLength(2);
    });

    it('a requeued run executes end to end once the cause is gone', async () => {
      target.flags.add(flag);
      const second = await requeue(letters[0].id).expect(202);
      expect((await finished(owner, wf.id, second.body.run.id)).run.status).toBe('succeeded');
      expect(target.count(`/requeued-ok/${flag}`)).toBe(1);
    });

    it('clear deletes the dead letters left', async () => {
      target.flags.add(flag);
      await finished(owner, wf.id, (await requeue(letters[0].id).expect(202)).body.run.id);
      const cleared = await request(t.url).delete(`/api/workflows/${wf.id}/dead-letters`).set(owner.auth).expect(200);
      expect(cleared.body).toEqual({ success: true, deleted: 1 });
    });
  });

  describe('rerun (a run failed at a gate after two calls)', () => {
    let wf: { id: string };
    let run: { id: string };
    let failed: Awaited<ReturnType<typeof finished>>;
    let n: string;
    beforeEach(async () => {
      n = uniqueName('n').replace(/\W+/g, '-');
      wf = await createWorkflow(
        owner,
        graph(
          [
            trigger('t', { label: 'In' }),
            httpNode('one', 'One', { url: `${target.url}/step-one/{{In.n}}/` }),
            httpNode('two', 'Two', { url: `${target.url}/status/{{In.code}}` }),
            { id: 'check', type: 'condition', data: { label: 'Check', expression: '{{Two.status}} == 200' } },
          ],
          [
            ['t', 'one'],
            ['one', 'two'],
            ['two', 'check'],
          ],
        ),
        ws,
      );
      // A "failure" we control: the code node fails on a 500.
      const failingGraph = await request(t.url)
        .get(`/api/workflows/${wf.id}?workspace=${ws}`)
        .set(owner.auth)
        .expect(200);
      const data = failingGraph.body.workflow.data;
      data.nodes.push({
        id: 'gate',
        type: 'actionCode',
        position: { x: 0, y: 0 },
        data: {
          label: 'Gate',
          actionType: 'code',
          params: {
            code: 'if (context.Two.status !== 200) throw new Error("upstream " + context.Two.status); return {ok:true};',
          },
        },
      });
      data.edges.push({ id: 'g', source: 'two', target: 'gate', sourceHandle: null });
      const updated = await request(t.url)
        .put(`/api/workflows/${wf.id}?workspace=${ws}`)
        .set(owner.auth)
        .send({ name: failingGraph.body.workflow.name, data, updated_at: failingGraph.body.workflow.updated_at })
        .expect(200);
      expect(updated.body.workflow.data.nodes).toHaveLength(5);
      run = (await start(owner, wf.id, { context: { n, code: 500 } }).expect(202)).body.run;
      failed = await finished(owner, wf.id, run.id);
    });
    const rerun = (runId: string, n2: string) =>
      request(t.url)
        .post(`/api/workflows/${wf.id}/runs/${runId}/rerun`)
        .set(owner.auth)
        .send({ context: { n: n2, code: 200 } })
        .expect(202);

    it('the gate fails the run on an upstream 500', async () => {
      expect(failed.run).toMatchObject({ status: 'failed', error: 'Error: upstream 500' });
      expect(target.count(`/step-one/${n}/`)).toBe(1);
    });

    it('rerun-from-failed needs a JSON body (415)', async () => {
      const none = await request(t.url)
        .post(`/api/workflows/${wf.id}/runs/${run.id}/rerun-from-failed`)
        .set(owner.auth)
        .expect(415);
      expect(none.body.code).toBe('unsupported_media_type');
    });

    it('rerun-from-failed re-runs the failed node with the recorded outputs of the nodes before it', async () => {
      // Step one is not called again.
      const resumed = await request(t.url)
        .post(`/api/workflows/${wf.id}/runs/${run.id}/rerun-from-failed`)
        .set(owner.auth)
        .send({})
        .expect(202);
      const resumedDone = await finished(owner, wf.id, resumed.body.run.id);
      expect(resumedDone.run.status).toBe('failed');
      expect(resumedDone.node_runs.map((node: { node_id: string }) => node.node_id)).toEqual(['gate']);
      expect(target.count(`/step-one/${n}/`)).toBe(1);
    });

    it('rerun runs the snapshot again from the start with a new payload', async () => {
      const again = await rerun(run.id, `${n}-again`);
      const rerunDone = await finished(owner, wf.id, again.body.run.id);
      expect(rerunDone.run.status).toBe('succeeded');
      expect(target.count(`/step-one/${n}-again/`)).toBe(1);
    });

    it('rerun-from-failed of a run without a failed node is 400; rerun of an unknown run is 404', async () => {
      const again = await rerun(run.id, `${n}-again`);
      await finished(owner, wf.id, again.body.run.id);
      const ok = await request(t.url)
        .post(`/api/workflows/${wf.id}/runs/${again.body.run.id}/rerun-from-failed`)
        .set(owner.auth)
        .send({})
        .expect(400);
      expect(ok.body.message).toBe('No failed node found for this run');
      await request(t.url).post(`/api/workflows/${wf.id}/runs/${wf.id}/rerun`).set(owner.auth).send({}).expect(404);
    });
  });

  it('a delay pauses the run (queued with resume_at) and resumes it when due', async () => {
    const wf = await createWorkflow(
      owner,
      graph(
        [
          trigger(),
          {
            id: 'wait',
            type: 'delay',
            data: { label: 'Wait', config: { mode: 'datetime', wait_until: '{{placeholder}}' } },
          },
          httpNode('after', 'After', { url: `${target.url}/after-delay` }),
        ],
        [
          ['trigger-1', 'wait'],
          ['wait', 'after'],
        ],
      ),
      ws,
    );
    // wait_until is not templated: set it to an instant ahead of the app's clock, which the test moves there.
    const current = (await request(t.url).get(`/api/workflows/${wf.id}?workspace=${ws}`).set(owner.auth)).body.workflow;
    const until = new Date(clock.now().getTime() + 20_000).toISOString();
    current.data.nodes[1].data.config.wait_until = until;
    await request(t.url)
      .put(`/api/workflows/${wf.id}?workspace=${ws}`)
      .set(owner.auth)
      .send({ name: current.name, data: current.data, updated_at: current.updated_at })
      .expect(200);
    const run = (await start(owner, wf.id).expect(202)).body.run;
    const paused = await waitFor(async () => {
      const res = await request(t.url).get(`/api/workflows/${wf.id}/runs/${run.id}`).set(owner.auth);
      return res.body.run.status === 'queued' &&
        res.body.node_runs.some((n: { node_id: string }) => n.node_id === 'wait')
        ? res.body
        : undefined;
    }, 'the pause');
    expect(new Date(paused.run.resume_at).getTime()).toBeGreaterThan(clock.now().getTime());
    expect(paused.run.snapshot._resume_from_nodes).toEqual(['after']);
    expect(target.count('/after-delay')).toBe(0);
    // Short of the run's lease (30 s), so no run in flight anywhere looks abandoned.
    clock.advance(20_000);
    const done = await finished(owner, wf.id, run.id);
    expect(done.run.status).toBe('succeeded');
    expect(target.count('/after-delay')).toBe(1);
  });

  describe('concurrency', () => {
    let wf: { id: string };
    beforeEach(async () => {
      wf = await createWorkflow(
        owner,
        graph([trigger(), httpNode('h', 'Hold', { url: `${target.url}/hold/conc` })], [['trigger-1', 'h']]),
        ws,
      );
    });

    it('the limit must be a whole number of at least 1 (400)', async () => {
      const bad = await request(t.url)
        .post(`/api/workflows/${wf.id}/concurrency`)
        .set(owner.auth)
        .send({ limit: 0 })
        .expect(400);
      expect(bad.body.message).toBe('limit must be >= 1');
      await request(t.url).post(`/api/workflows/${wf.id}/concurrency`).set(owner.auth).send({ limit: 'x' }).expect(400);
    });

    it('claims keep at most the limit of runs of the workflow in flight', async () => {
      expect(
        (
          await request(t.url)
            .post(`/api/workflows/${wf.id}/concurrency`)
            .set(owner.auth)
            .send({ limit: 2 })
            .expect(200)
        ).body,
      ).toEqual({
        success: true,
        limit: 2,
        key: null,
        key_limit: null,
        on_limit: 'queue',
        max_queued: null,
        queued_ttl_sec: null,
      });
      const runs = [];
      for (let i = 0; i < 4; i += 1) runs.push((await start(owner, wf.id).expect(202)).body.run.id);
      await waitFor(() => target.heldCount('conc') === 2, 'two runs in flight');
      const active = await request(t.url).get(`/api/workflows/runs?workflow_id=${wf.id}`).set(owner.auth).expect(200);
      expect(active.body.runs.filter((r: { status: string }) => r.status === 'running')).toHaveLength(2);
      target.release('conc');
      await waitFor(() => target.heldCount('conc') === 2, 'the next two');
      target.release('conc');
      for (const id of runs) expect((await finished(owner, wf.id, id)).run.status).toBe('succeeded');
    });

    it('a Solo workflow cannot run more than one at a time (403 with the violation)', async () => {
      const solo = await actor(t.url);
      const personal = await createWorkflow(solo, graph([trigger()]));
      const denied = await request(t.url)
        .post(`/api/workflows/${personal.id}/concurrency`)
        .set(solo.auth)
        .send({ limit: 2 })
        .expect(403);
      expect(denied.body.violations).toEqual([
        {
          code: 'concurrency-limit',
          message: 'Solo plan workflows run one job at a time. Upgrade in Settings → Plan to increase concurrency.',
        },
      ]);
    });
  });

  describe('usage of a Solo user with one finished run', () => {
    let a: Actor;
    beforeEach(async () => {
      a = await actor(t.url);
      const wf = await createWorkflow(a, graph([trigger()]));
      await finished(a, wf.id, (await start(a, wf.id).expect(202)).body.run.id);
    });

    it('counts the runs of the period and the workflows against the Solo limits', async () => {
      const usage = await request(t.url).get('/api/workflows/usage').set(a.auth).expect(200);
      expect(usage.body).toEqual({
        success: true,
        plan: 'solo',
        runs: { used: 1, period_start: expect.stringMatching(/-01T00:00:00Z$/), limit: 250 },
        workflows: { total: 1, limit: 3, hidden: 0 },
      });
    });

    it("names the plan of a workspace the caller belongs to; another user's workspace is 403", async () => {
      const soloWs = await request(t.url)
        .get(`/api/workflows/usage?workspace=${a.soloWorkspaceId}`)
        .set(a.auth)
        .expect(200);
      expect(soloWs.body.workspace).toEqual({ id: a.soloWorkspaceId, plan: 'solo' });
      const stranger = await actor(t.url);
      await request(t.url).get(`/api/workflows/usage?workspace=${stranger.soloWorkspaceId}`).set(a.auth).expect(403);
    });
  });
});

describe('the worker wakes for runs queued in its own process', () => {
  let t: TestApp;
  beforeAll(async () => {
    // A poll interval no test waits out: only the wake-up on run.queued / run finished can claim.
    t = await createTestApp({ WORKER_POLL_INTERVAL_MS: '600000' });
  });
  afterAll(() => t.close());

  it('manual and webhook runs start at once, one after another, without the poll', async () => {
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const data = graph([trigger('hook', { label: 'Hook', triggerType: 'Webhook' })]);
    const wf = (
      await request(t.url)
        .post('/api/workflows')
        .set(owner.auth)
        .send({ name: uniqueName(), data, workspace_id: ws })
        .expect(201)
    ).body.workflow as { id: string };
    const url = (await request(t.url).get(`/api/workflows/${wf.id}/webhook-url`).set(owner.auth).expect(200)).body
      .url as string;
    const repo = t.app.get(RunRepository);
    // The concurrency limit is 1: the second run is claimed when the first finishes (that wakes it too).
    const ids = [
      (await request(t.url).post(`/api/workflows/${wf.id}/run`).set(owner.auth).expect(202)).body.run.id as string,
      (await request(t.url).post(url).send({ n: 1 }).expect(202)).body.run.id as string,
      (await request(t.url).post(url).send({ n: 2 }).expect(202)).body.run.id as string,
    ];
    const statuses = await waitFor(async () => {
      const runs = await Promise.all(ids.map((id) => repo.findById(id)));
      return runs.every((r) => r?.status === 'succeeded') && runs.map((r) => r!.status);
    }, 'three runs to succeed without waiting for the poll');
    expect(statuses).toEqual(['succeeded', 'succeeded', 'succeeded']);
  });
});
