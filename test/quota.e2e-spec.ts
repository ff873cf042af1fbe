import request from 'supertest';
import { createTestApp, TestApp } from './utils/app';
import { Actor, actor, graph, trigger, uniqueName, upgrade } from './factories/workflow.factory';

async function workflowIn(t: TestApp, a: Actor, workspaceId?: string): Promise<string> {
  const res = await request(t.url)
    .post('/api/workflows')
    .set(a.auth)
    .send({ name: uniqueName(), data: graph([trigger()]), ...(workspaceId ? { workspace_id: workspaceId } : {}) })
    .expect(201);
  return res.body.workflow.id;
}

const start = (t: TestApp, a: Actor, id: string, body: Record<string, unknown> = {}) =>
  request(t.url).post(`/api/workflows/${id}/run`).set(a.auth).send(body);

describe('workspace run quota (SPEC §4)', () => {
  let t: TestApp;
  beforeAll(async () => {
    // No worker here: runs stay queued, which is all the quota cares about.
    t = await createTestApp({ WORKSPACE_MONTHLY_RUN_LIMIT: '3', RUNLOOM_ROLES: 'api' });
  });
  afterAll(() => t.close());

  it('N concurrent starts against R remaining slots accept exactly R; the rest get 429 workspace_run_limit', async () => {
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const id = await workflowIn(t, owner, ws);
    const results = await Promise.all(Array.from({ length: 8 }, () => start(t, owner, id)));
    expect(results.filter((r) => r.status === 202)).toHaveLength(3);
    const refused = results.filter((r) => r.status === 429);
    expect(refused).toHaveLength(5);
    expect(refused[0].body).toEqual({
      success: false,
      status: 'error',
      message: expect.stringMatching(/3 runs/),
      code: 'workspace_run_limit',
    });
    const usage = await request(t.url).get(`/api/workflows/usage?workspace=${ws}`).set(owner.auth).expect(200);
    expect(usage.body.workspace).toMatchObject({
      id: ws,
      plan: 'workspace',
      runs: { used: 3, limit: 3, overage: 0 },
      members: { used: 1, limit: 8 },
    });
    expect(usage.body.workspace.member_usage).toEqual([
      { user_id: owner.userId, runs: 3, first_name: 'Ada', last_name: 'Lovelace', email: expect.any(String) },
    ]);
    expect(usage.body.plan).toBe('workspace');
  });

  it('an idempotent duplicate gives its ticket back', async () => {
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const id = await workflowIn(t, owner, ws);
    const first = await start(t, owner, id, { idempotency_key: 'k1' }).expect(202);
    for (let i = 0; i < 4; i += 1) {
      expect((await start(t, owner, id, { idempotency_key: 'k1' }).expect(202)).body.run.id).toBe(first.body.run.id);
    }
    const usage = await request(t.url).get(`/api/workflows/usage?workspace=${ws}`).set(owner.auth).expect(200);
    expect(usage.body.workspace.runs.used).toBe(1);
    await start(t, owner, id).expect(202);
    await start(t, owner, id).expect(202);
    await start(t, owner, id).expect(429);
  });

  it('concurrent retries of one idempotency key make one run and take one ticket, whatever the quota left', async () => {
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const id = await workflowIn(t, owner, ws);
    const results = await Promise.all(
      Array.from({ length: 30 }, () => start(t, owner, id, { idempotency_key: 'retry' })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(30).fill(202));
    expect(new Set(results.map((r) => r.body.run.id)).size).toBe(1);
    const usage = await request(t.url).get(`/api/workflows/usage?workspace=${ws}`).set(owner.auth).expect(200);
    expect(usage.body.workspace.runs.used).toBe(1);
  });

  it('solo-plan workspaces never get workspace_run_limit; the solo cap applies instead', async () => {
    const a = await actor(t.url);
    const id = await workflowIn(t, a, a.soloWorkspaceId);
    for (let i = 0; i < 4; i += 1) await start(t, a, id).expect(202);
    const usage = await request(t.url)
      .get(`/api/workflows/usage?workspace=${a.soloWorkspaceId}`)
      .set(a.auth)
      .expect(200);
    expect(usage.body.workspace).toEqual({ id: a.soloWorkspaceId, plan: 'solo' });
    expect(usage.body.runs.used).toBe(4);
  });
});

describe('overage mode', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ WORKSPACE_MONTHLY_RUN_LIMIT: '1', WORKSPACE_RUN_OVERAGE: 'allow', RUNLOOM_ROLES: 'api' });
  });
  afterAll(() => t.close());

  it('accepts runs past the limit and counts the overage (reference §8.6)', async () => {
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const id = await workflowIn(t, owner, ws);
    for (let i = 0; i < 3; i += 1) await start(t, owner, id).expect(202);
    const usage = await request(t.url).get(`/api/workflows/usage?workspace=${ws}`).set(owner.auth).expect(200);
    expect(usage.body.workspace.runs).toMatchObject({ used: 3, limit: 1, overage: 2 });
  });
});

describe('Solo monthly cap and runaway protection', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ SOLO_MONTHLY_RUN_LIMIT: '2', RUNAWAY_LIMIT_5MIN: '2', RUNLOOM_ROLES: 'api' });
  });
  afterAll(() => t.close());

  it('the run past the Solo cap is a 403 run-limit violation', async () => {
    const a = await actor(t.url);
    const id = await workflowIn(t, a);
    await start(t, a, id).expect(202);
    await start(t, a, id).expect(202);
    const res = await start(t, a, id).expect(403);
    expect(res.body).toEqual({
      success: false,
      status: 'error',
      message: expect.stringMatching(/2 times per month/),
      violations: [{ code: 'run-limit', message: res.body.message }],
    });
  });

  it('runaway protection answers 429 {"error":"runaway_protection_triggered"} and can be turned off per workspace', async () => {
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const id = await workflowIn(t, owner, ws);
    const runs: string[] = [];
    for (let i = 0; i < 3; i += 1) runs.push((await start(t, owner, id).expect(202)).body.run.id);
    const blocked = await start(t, owner, id).expect(429);
    expect(blocked.body).toEqual({ error: 'runaway_protection_triggered' });
    const rerun = await request(t.url)
      .post(`/api/workflows/${id}/runs/${runs[0]}/rerun`)
      .set(owner.auth)
      .send({})
      .expect(429);
    expect(rerun.body).toEqual({ error: 'runaway_protection_triggered' });
    await request(t.url)
      .put('/api/options/user-settings')
      .set(owner.auth)
      .send({ workspace_id: ws, runaway_protection_enabled: false })
      .expect(200);
    await start(t, owner, id).expect(202);
  });
});
