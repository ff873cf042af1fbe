import request from 'supertest';
import { createTestApp, TestApp } from './utils/app';
import { TargetServer } from './utils/target-server';
import { waitFor } from './utils/wait';
import { Actor, actor, addMember, createWorkflow, graph, http, trigger, upgrade } from './factories/workflow.factory';

/**
 * Credentials have owners: a workflow may only reference secrets the person saving, rerunning or
 * requeueing it may use (their own, or one shared with the workflow's workspace). Each test is an
 * attack a workspace member tried.
 */
describe('credentials with owners and grants', () => {
  let t: TestApp;
  let target: TargetServer;
  let owner: Actor, member: Actor, admin: Actor, viewer: Actor, outsider: Actor;
  let ws: string;

  beforeAll(async () => {
    target = await new TargetServer().start();
    t = await createTestApp();
    owner = await actor(t.url);
    ws = await upgrade(t.url, owner);
    [member, admin, viewer, outsider] = await Promise.all(Array.from({ length: 4 }, () => actor(t.url)));
    await addMember(t.url, owner, ws, member, 'user');
    await addMember(t.url, owner, ws, admin, 'admin');
    await addMember(t.url, owner, ws, viewer, 'viewer');
  });
  afterAll(async () => {
    await t.close();
    await target.stop();
  });

  const putSecret = (a: Actor, path: string, value: string, workspace?: string) =>
    request(t.url)
      .put(`/api/options/secrets/${path}${workspace ? `?workspace=${workspace}` : ''}`)
      .set(a.auth)
      .send({ value });
  const share = (a: Actor, path: string, workspaceId: string | null) =>
    request(t.url).put(`/api/options/secrets/${path}/sharing`).set(a.auth).send({ workspace_id: workspaceId });
  const save = (a: Actor, wf: { id: string; updated_at: string }, data: unknown) =>
    request(t.url)
      .put(`/api/workflows/${wf.id}?workspace=${ws}`)
      .set(a.auth)
      .send({ name: `wf ${wf.id}`, data, updated_at: wf.updated_at });
  const current = async (wf: { id: string }) =>
    (await request(t.url).get(`/api/workflows/${wf.id}?workspace=${ws}`).set(owner.auth).expect(200)).body.workflow;
  async function finished(a: Actor, workflowId: string, runId: string) {
    return waitFor(async () => {
      const res = await request(t.url).get(`/api/workflows/${workflowId}/runs/${runId}`).set(a.auth).expect(200);
      return ['succeeded', 'failed', 'canceled'].includes(res.body.run.status) ? res.body : undefined;
    }, `run ${runId} to finish`);
  }
  /** A workflow whose HTTP node sends `token` as a bearer token to the local target. */
  const calling = (token: string, path: string) =>
    graph(
      [trigger(), http('call', { url: `${target.url}${path}`, authType: 'bearer', token })],
      [['trigger-1', 'call']],
    );
  const bearerSeenAt = (path: string) => target.seen.filter((r) => r.path === path).at(-1)?.headers.authorization;
  const exfiltrating = (reference: string) =>
    graph([
      trigger(),
      {
        id: 'steal',
        type: 'actionCode',
        data: {
          label: 'Steal',
          actionType: 'code',
          params: { code: 'return {}', inputs: [{ key: 'k', value: reference }] },
        },
      },
    ]);

  it("a member cannot add a reference to the creator's personal secret (the code-node exfiltration)", async () => {
    await putSecret(owner, 'http/bearer_token/deploy', 'tok-owner-personal').expect(200);
    const wf = await createWorkflow(t.url, owner, calling('http:bearer_token:deploy', '/owner'), ws);
    const refused = await save(member, wf, exfiltrating('http:bearer_token:deploy')).expect(403);
    expect(refused.body).toMatchObject({ success: false, code: 'forbidden', nodes: ['steal'] });
    expect(refused.body.message).toContain('steal');
    // Nothing was saved, and the owner's own workflow runs with the owner's secret.
    expect((await current(wf)).updated_at).toBe(wf.updated_at);
    const run = (await request(t.url).post(`/api/workflows/${wf.id}/run`).set(owner.auth).send({}).expect(202)).body
      .run;
    expect((await finished(owner, wf.id, run.id)).run.status).toBe('succeeded');
    expect(bearerSeenAt('/owner')).toBe('Bearer tok-owner-personal');
    // Keeping the reference counts as using it: the member cannot save even an unrelated change.
    await save(member, wf, { ...calling('http:bearer_token:deploy', '/owner-renamed') }).expect(403);
    // Its owner may (the reference is theirs).
    await save(owner, wf, calling('http:bearer_token:deploy', '/owner')).expect(200);
  });

  it('a member cannot plant a reference the owner will fill later (auto-sync names are predictable)', async () => {
    const wf = await createWorkflow(t.url, owner, graph([trigger()]), ws);
    const planted = await save(member, wf, calling('http:bearer_token:auto-bearertoken-7', '/planted')).expect(403);
    expect(planted.body.nodes).toEqual(['call']);
    // A string that merely looks like a reference in a section nobody uses is just text.
    await save(member, wf, calling('10:30:00', '/time')).expect(200);
  });

  it("a rerun runs under today's rules: a member cannot rerun a snapshot that uses the owner's secret", async () => {
    await putSecret(owner, 'http/bearer_token/rerun', 'tok-rerun-v1').expect(200);
    const wf = await createWorkflow(t.url, owner, calling('http:bearer_token:rerun', '/rerun'), ws);
    const run = (await request(t.url).post(`/api/workflows/${wf.id}/run`).set(owner.auth).send({}).expect(202)).body
      .run;
    await finished(owner, wf.id, run.id);
    const byMember = await request(t.url)
      .post(`/api/workflows/${wf.id}/runs/${run.id}/rerun`)
      .set(member.auth)
      .send({})
      .expect(403);
    expect(byMember.body.nodes).toEqual(['call']);
    await request(t.url)
      .post(`/api/workflows/${wf.id}/runs/${run.id}/rerun-from-failed`)
      .set(member.auth)
      .send({})
      .expect((res) => expect([400, 403]).toContain(res.status));
    // The owner reruns with the rotated value.
    await putSecret(owner, 'http/bearer_token/rerun', 'tok-rerun-v2').expect(200);
    const again = (
      await request(t.url).post(`/api/workflows/${wf.id}/runs/${run.id}/rerun`).set(owner.auth).send({}).expect(202)
    ).body.run;
    await finished(owner, wf.id, again.id);
    expect(bearerSeenAt('/rerun')).toBe('Bearer tok-rerun-v2');
  });

  it('a secret shared with the workspace is usable by its members, and only while its owner is a member', async () => {
    const sharer = await actor(t.url);
    await addMember(t.url, owner, ws, sharer, 'user');
    await putSecret(sharer, 'http/bearer_token/team', 'tok-team-1').expect(200);
    const wf = await createWorkflow(t.url, owner, graph([trigger()]), ws);
    // Personal: nobody else may use it.
    await save(member, wf, calling('http:bearer_token:team', '/team')).expect(403);
    // Only its owner shares it, with a workspace they may edit in.
    await share(member, 'http/bearer_token/team', ws).expect(404);
    await share(sharer, 'http/bearer_token/team', outsider.soloWorkspaceId).expect(403);
    await share(sharer, 'http/bearer_token/team', 'not-a-uuid').expect(400);
    const shared = await share(sharer, 'http/bearer_token/team', ws).expect(200);
    expect(shared.body.secrets.http.bearer_token.team).toMatchObject({ owner_id: sharer.userId, workspace_id: ws });

    const saved = (await save(member, wf, calling('http:bearer_token:team', '/team')).expect(200)).body.workflow;
    const run = (await request(t.url).post(`/api/workflows/${wf.id}/run`).set(member.auth).send({}).expect(202)).body
      .run;
    expect((await finished(member, wf.id, run.id)).run.status).toBe('succeeded');
    expect(bearerSeenAt('/team')).toBe('Bearer tok-team-1');

    // Another member cannot share the same name there (a reference must resolve to one secret).
    await putSecret(admin, 'http/bearer_token/team', 'tok-admin').expect(200);
    const clash = await share(admin, 'http/bearer_token/team', ws).expect(409);
    expect(clash.body.message).toBe('Another member already has a secret with this name here.');

    // The sharer leaves: their secret no longer resolves in the workspace.
    await request(t.url).delete(`/api/workspaces/${ws}/members/${sharer.userId}`).set(owner.auth).expect(200);
    const listed = await request(t.url).get(`/api/options/secrets?workspace=${ws}`).set(member.auth).expect(200);
    expect(listed.body.secrets.http?.bearer_token?.team).toBeUndefined();
    const after = (await request(t.url).post(`/api/workflows/${wf.id}/run`).set(member.auth).send({}).expect(202)).body
      .run;
    await finished(member, wf.id, after.id);
    expect(bearerSeenAt('/team')).toBe('Bearer http:bearer_token:team');
    expect(saved.id).toBe(wf.id);
  });

  it("a member's typed credential is theirs, shared with the workspace, and the owner's workflow runs with it", async () => {
    const wf = await createWorkflow(t.url, owner, graph([trigger()]), ws);
    const saved = (await save(member, wf, calling('tok-typed-by-member', '/typed')).expect(200)).body.workflow;
    const reference = saved.data.nodes[1].data.params.token;
    expect(reference).toMatch(/^http:bearer_token:auto-bearertoken-\d+$/);
    const mine = await request(t.url).get('/api/options/secrets').set(member.auth).expect(200);
    expect(mine.body.secrets.http.bearer_token[reference.split(':')[2]]).toMatchObject({
      owner_id: member.userId,
      workspace_id: ws,
    });
    const run = (await request(t.url).post(`/api/workflows/${wf.id}/run`).set(owner.auth).send({}).expect(202)).body
      .run;
    await finished(owner, wf.id, run.id);
    expect(bearerSeenAt('/typed')).toBe('Bearer tok-typed-by-member');
  });

  it("nobody deletes another person's personal secret; workspace listings show shared secrets only", async () => {
    await putSecret(owner, 'email/sendgrid/private', 'SG.owner-private').expect(200);
    const listed = await request(t.url).get(`/api/options/secrets?workspace=${ws}`).set(member.auth).expect(200);
    expect(listed.body.secrets.email?.sendgrid?.private).toBeUndefined();
    await request(t.url)
      .delete(`/api/options/secrets/email/sendgrid/private?workspace=${ws}`)
      .set(admin.auth)
      .expect(404);
    const own = await request(t.url).get('/api/options/secrets').set(owner.auth).expect(200);
    expect(own.body.secrets.email.sendgrid.private).toMatchObject({ owner_id: owner.userId, workspace_id: null });
    // A viewer cannot share with the workspace.
    await putSecret(viewer, 'email/smtp/viewer', 'pw').expect(200);
    await share(viewer, 'email/smtp/viewer', ws).expect(403);
    // A name kept personal cannot be written in workspace mode (that would share it silently).
    const silent = await putSecret(owner, 'email/sendgrid/private', 'SG.other', ws).expect(409);
    expect(silent.body.message).toContain('not shared with this workspace');
  });

  it("an admin cannot reassign a workflow so that it runs with the new owner's personal secret", async () => {
    const victim = await actor(t.url);
    await addMember(t.url, owner, ws, victim, 'user');
    await putSecret(victim, 'http/bearer_token/victim-key', 'tok-victim-personal').expect(200);
    // The admin's own workflow names the victim's secret: it resolves to nothing in the admin's store.
    const wf = await createWorkflow(t.url, admin, calling('http:bearer_token:victim-key', '/planted-by-admin'), ws);
    const refused = await request(t.url)
      .put(`/api/workflows/${wf.id}/owner`)
      .set(admin.auth)
      .send({ user_id: victim.userId })
      .expect(403);
    expect(refused.body.nodes).toEqual(['call']);
    const still = (await request(t.url).get(`/api/workflows/${wf.id}?workspace=${ws}`).set(admin.auth)).body.workflow;
    expect(still.user_id).toBe(admin.userId);
    // Without the reference, reassigning is fine.
    const clean = await createWorkflow(t.url, admin, graph([trigger()]), ws);
    await request(t.url)
      .put(`/api/workflows/${clean.id}/owner`)
      .set(admin.auth)
      .send({ user_id: victim.userId })
      .expect(200);
  });

  it('a shared name shadows a personal one, never the reverse, and nobody shares a name a member holds', async () => {
    const a = await actor(t.url);
    const b = await actor(t.url);
    await addMember(t.url, owner, ws, a, 'user');
    await addMember(t.url, owner, ws, b, 'user');
    await putSecret(b, 'http/bearer_token/held', 'tok-b-personal').expect(200);
    const taken = await putSecret(a, 'http/bearer_token/held', 'tok-a', ws).expect(409);
    expect(taken.body.message).toBe('Another member already has a secret with this name here.');

    // A shares `common`; B later makes a personal `common`: B's workspace workflow still sends A's.
    await putSecret(a, 'http/bearer_token/common', 'tok-a-shared', ws).expect(200);
    const wf = await createWorkflow(t.url, b, calling('http:bearer_token:common', '/shadow'), ws);
    await putSecret(b, 'http/bearer_token/common', 'tok-b-later').expect(200);
    const run = (await request(t.url).post(`/api/workflows/${wf.id}/run`).set(b.auth).send({}).expect(202)).body.run;
    await finished(b, wf.id, run.id);
    expect(bearerSeenAt('/shadow')).toBe('Bearer tok-a-shared');
  });
});
