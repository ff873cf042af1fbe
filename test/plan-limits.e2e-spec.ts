import request from 'supertest';
import { createTestApp, TestApp } from './utils/app';
import { actor, addMember, createWorkflow, graph, trigger, uniqueName } from './factories/workflow.factory';

const start = (t: TestApp, auth: Record<string, string>, id: string) =>
  request(t.url).post(`/api/workflows/${id}/run`).set(auth).send({});

const manyNodes = (count: number) =>
  graph(
    Array.from({ length: count }, (_, i) => trigger(`t-${i}`)),
    [],
  );

describe('PLAN_LIMITS=off: a private install without the hosted plan model', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Tiny SaaS limits, so that not hitting them proves they are off. No worker: runs stay queued.
    t = await createTestApp({
      PLAN_LIMITS: 'off',
      SOLO_MONTHLY_RUN_LIMIT: '1',
      WORKSPACE_MONTHLY_RUN_LIMIT: '1',
      WORKSPACE_MEMBER_LIMIT: '1',
      RUNLOOM_ROLES: 'api',
    });
  });
  afterAll(() => t.close());

  it('a new account keeps more than 3 workflows of more than 10 nodes and runs them past the Solo cap', async () => {
    const a = await actor(t.url);
    const ids: string[] = [];
    for (let i = 0; i < 4; i += 1)
      ids.push((await createWorkflow(t.url, a, manyNodes(12), undefined, uniqueName())).id);
    const list = await request(t.url).get('/api/workflows').set(a.auth).expect(200);
    expect(list.body.workflows.map((w: { id: string }) => w.id)).toEqual(expect.arrayContaining(ids));
    for (let i = 0; i < 3; i += 1) await start(t, a.auth, ids[3]).expect(202);
  });

  it('the signup workspace has the workspace plan’s features: schedules, HMAC, invitations without a seat limit', async () => {
    const owner = await actor(t.url);
    const ws = owner.soloWorkspaceId;
    const { id: scheduled } = await createWorkflow(
      t.url,
      owner,
      graph([trigger('s-1', { triggerType: 'Schedule', scheduleConfig: { cron: '0 * * * *', timezone: 'UTC' } })]),
      ws,
      uniqueName('Hourly'),
    );
    const read = await request(t.url).get(`/api/workflows/${scheduled}`).set(owner.auth).expect(200);
    expect(read.body.schedule).toMatchObject({ enabled: true });
    await request(t.url)
      .post(`/api/workflows/${scheduled}/webhook/config`)
      .set(owner.auth)
      .send({ require_hmac: true })
      .expect(200);
    // WORKSPACE_MEMBER_LIMIT is 1 and the owner holds it: two more members still join.
    for (let i = 0; i < 2; i += 1) await addMember(t.url, owner, ws, await actor(t.url), 'user');
  });

  it('responses show the workspace plan, so the web client offers no upgrade', async () => {
    const a = await actor(t.url);
    const me = await request(t.url).get('/api/auth/me').set(a.auth).expect(200);
    expect(me.body.user.plan).toBe('workspace');
    const list = await request(t.url).get('/api/workspaces').set(a.auth).expect(200);
    expect(list.body.workspaces.map((m: { workspace: { plan: string } }) => m.workspace.plan)).toEqual(['workspace']);
  });

  it("a member sees the workspace's workflows in the plain list, as a workspace-plan member would", async () => {
    const owner = await actor(t.url);
    const member = await actor(t.url);
    await addMember(t.url, owner, owner.soloWorkspaceId, member, 'user');
    const { id } = await createWorkflow(t.url, owner, graph([trigger()]), owner.soloWorkspaceId, uniqueName());
    const list = await request(t.url).get('/api/workflows').set(member.auth).expect(200);
    expect(list.body.workflows.map((w: { id: string }) => w.id)).toContain(id);
  });

  it('the node catalogue names no plan gate', async () => {
    const a = await actor(t.url);
    const res = await request(t.url).get('/api/node-types').set(a.auth).expect(200);
    expect(res.body.node_types.map((n: { plan_gate: string | null }) => n.plan_gate)).toEqual(
      res.body.node_types.map(() => null),
    );
  });

  it('no workspace run quota is taken; usage reports counts without limits', async () => {
    const owner = await actor(t.url);
    const ws = owner.soloWorkspaceId;
    const { id } = await createWorkflow(t.url, owner, graph([trigger()]), ws, uniqueName());
    for (let i = 0; i < 3; i += 1) await start(t, owner.auth, id).expect(202);
    const usage = await request(t.url).get(`/api/workflows/usage?workspace=${ws}`).set(owner.auth).expect(200);
    expect(usage.body.plan).toBe('workspace');
    expect(usage.body.runs).not.toHaveProperty('limit');
    expect(usage.body.workflows).not.toHaveProperty('limit');
    expect(usage.body.workspace).toMatchObject({ id: ws, plan: 'workspace', runs: { used: 3 }, members: { used: 1 } });
    expect(usage.body.workspace.runs).not.toHaveProperty('limit');
    expect(usage.body.workspace.members).not.toHaveProperty('limit');
  });

  it('limits that protect the server still hold: the node limit per workflow', async () => {
    const small = await createTestApp({ PLAN_LIMITS: 'off', WORKSPACE_NODE_LIMIT: '10', RUNLOOM_ROLES: 'api' });
    try {
      const a = await actor(small.url);
      const res = await request(small.url)
        .post('/api/workflows')
        .set(a.auth)
        .send({ name: uniqueName(), data: manyNodes(11) });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    } finally {
      await small.close();
    }
  });
});
