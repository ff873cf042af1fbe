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

describe('workspace run quota (docs/contract.md §8)', () => {
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

  it("personal workflows of a workspace-plan owner draw on the owner's allowance, reruns included", async () => {
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const personal = await workflowIn(t, owner);
    const inWorkspace = await workflowIn(t, owner, ws);
    const first = await start(t, owner, personal).expect(202);
    expect(first.body.run.workspace_id).toBeNull();
    await request(t.url)
      .post(`/api/workflows/${personal}/runs/${first.body.run.id}/rerun`)
      .set(owner.auth)
      .send({})
      .expect(202);
    await start(t, owner, inWorkspace).expect(202);
    // Three runs: the allowance is used up for the personal workflow as for the workspace's.
    for (const id of [personal, inWorkspace]) {
      expect((await start(t, owner, id).expect(429)).body.code).toBe('workspace_run_limit');
    }
    const rerun = await request(t.url)
      .post(`/api/workflows/${personal}/runs/${first.body.run.id}/rerun`)
      .set(owner.auth)
      .send({})
      .expect(429);
    expect(rerun.body.code).toBe('workspace_run_limit');
    const usage = await request(t.url).get(`/api/workflows/usage?workspace=${ws}`).set(owner.auth).expect(200);
    expect(usage.body.workspace.runs).toMatchObject({ used: 3, limit: 3 });
  });

  it("extra workspaces bring no fresh allowance: created or upgraded one by one, they share the owner's", async () => {
    const owner = await actor(t.url);
    const created = await request(t.url).post('/api/workspaces').set(owner.auth).send({ name: 'Second' }).expect(201);
    const second = created.body.workspace.id as string;
    // Each plan change upgrades one more of the owner's solo workspaces; later ones are created upgraded.
    expect(await upgrade(t.url, owner)).toBe(owner.soloWorkspaceId);
    expect(await upgrade(t.url, owner)).toBe(second);
    const third = (await request(t.url).post('/api/workspaces').set(owner.auth).send({ name: 'Third' }).expect(201))
      .body.workspace;
    expect(third.plan).toBe('workspace');
    const workspaces = [owner.soloWorkspaceId, second, third.id as string];
    const workflows = await Promise.all(workspaces.map((ws) => workflowIn(t, owner, ws)));
    for (const id of workflows) await start(t, owner, id).expect(202);
    for (const id of workflows) {
      expect((await start(t, owner, id).expect(429)).body.code).toBe('workspace_run_limit');
    }
    for (const ws of workspaces) {
      const usage = await request(t.url).get(`/api/workflows/usage?workspace=${ws}`).set(owner.auth).expect(200);
      expect(usage.body.workspace.runs).toMatchObject({ used: 3, limit: 3 });
    }
    // Another owner's allowance is their own.
    const other = await actor(t.url);
    await start(t, other, await workflowIn(t, other, await upgrade(t.url, other))).expect(202);
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

  it('accepts runs past the limit and counts the overage (docs/contract.md §8.6)', async () => {
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

  it('a burst of concurrent starts at the Solo cap accepts exactly what is left', async () => {
    const a = await actor(t.url);
    const id = await workflowIn(t, a);
    const results = await Promise.all(Array.from({ length: 10 }, () => start(t, a, id)));
    expect(results.filter((r) => r.status === 202)).toHaveLength(2);
    const refused = results.filter((r) => r.status === 403);
    expect(refused).toHaveLength(8);
    expect(refused.map((r) => r.body.violations[0].code)).toEqual(Array(8).fill('run-limit'));
    const usage = await request(t.url).get('/api/workflows/usage').set(a.auth).expect(200);
    expect(usage.body.runs).toMatchObject({ used: 2, limit: 2 });
  });

  it('reruns count against the Solo cap too', async () => {
    const a = await actor(t.url);
    const id = await workflowIn(t, a, a.soloWorkspaceId);
    const first = (await start(t, a, id).expect(202)).body.run.id;
    const rerun = () => request(t.url).post(`/api/workflows/${id}/runs/${first}/rerun`).set(a.auth).send({});
    await rerun().expect(202);
    const refused = await rerun().expect(403);
    expect(refused.body).toEqual({
      success: false,
      status: 'error',
      message: expect.stringMatching(/2 times per month/),
      violations: [{ code: 'run-limit', message: refused.body.message }],
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
