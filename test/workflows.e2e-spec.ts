import { EventEmitter2 } from '@nestjs/event-emitter';
import request from 'supertest';
import { WorkflowRepository } from '../src/database/repositories/workflow.repository';
import { ScheduleRepository } from '../src/database/repositories/schedule.repository';
import { createTestApp, TestApp } from './utils/app';
import {
  Actor,
  actor,
  addMember,
  graph,
  http,
  simpleGraph,
  trigger,
  uniqueName,
  upgrade,
} from './factories/workflow.factory';

describe('workflows (docs/contract.md §2.1–2.7, §2.14, §3, §8.3–8.4, §10.2)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const create = (a: Actor, body: Record<string, unknown>) =>
    request(t.url).post('/api/workflows').set(a.auth).send(body);
  const put = (a: Actor, id: string, body: Record<string, unknown>, workspace?: string) =>
    request(t.url)
      .put(`/api/workflows/${id}${workspace ? `?workspace=${workspace}` : ''}`)
      .set(a.auth)
      .send(body);

  /** A workspace-plan workspace with an owner, an admin, a user and a viewer. */
  async function team() {
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const [admin, user, viewer, outsider] = await Promise.all([actor(t.url), actor(t.url), actor(t.url), actor(t.url)]);
    await addMember(t.url, owner, ws, admin, 'admin');
    await addMember(t.url, owner, ws, user, 'user');
    await addMember(t.url, owner, ws, viewer, 'viewer');
    return { owner, admin, user, viewer, outsider, ws };
  }

  describe('create', () => {
    it('201 with the workflow object of docs/contract.md §2.1 (no webhook_salt)', async () => {
      const a = await actor(t.url);
      const res = await create(a, { name: '  Order sync ', description: 'd', data: simpleGraph() }).expect(201);
      expect(res.body).toEqual({
        success: true,
        workflow: {
          id: expect.any(String),
          user_id: a.userId,
          workspace_id: null,
          name: 'Order sync',
          description: 'd',
          data: simpleGraph(),
          version: 1,
          concurrency_limit: 1,
          concurrency_key: null,
          concurrency_key_limit: null,
          concurrency_on_limit: 'queue',
          max_queued: null,
          queued_ttl_sec: null,
          egress_allowlist: [],
          require_hmac: false,
          hmac_replay_window_sec: 300,
          locked_by: null,
          locked_at: null,
          created_at: expect.stringMatching(/Z$/),
          updated_at: res.body.workflow.created_at,
        },
      });
      expect(JSON.stringify(res.body)).not.toContain('webhook_salt');
    });

    it('defaults to the workspace of the plan context and checks the caller role there', async () => {
      const { owner, viewer, outsider, ws } = await team();
      const res = await create(owner, { name: uniqueName(), data: simpleGraph(), workspace_id: ws }).expect(201);
      expect(res.body.workflow.workspace_id).toBe(ws);
      const viewerRes = await create(viewer, { name: uniqueName(), data: simpleGraph(), workspace_id: ws }).expect(403);
      expect(viewerRes.body.message).toBe('Workspace viewers cannot create workflows.');
      const outsiderRes = await create(outsider, { name: uniqueName(), data: simpleGraph(), workspace_id: ws }).expect(
        403,
      );
      expect(outsiderRes.body.message).toBe('You do not have access to this workspace.');
    });

    it('validates the graph and persists nothing on 400', async () => {
      const a = await actor(t.url);
      const bad = {
        nodes: [
          { id: 'a', type: 'trigger' },
          { id: 'a', type: 'condition' },
        ],
        edges: [{ id: 'e1', source: 'a', target: 'ghost' }],
      };
      const res = await create(a, { name: 'Bad graph', data: bad }).expect(400);
      expect(res.body).toMatchObject({ success: false, status: 'error', code: 'invalid_request' });
      expect(res.body.message).toMatch(/duplicate node ids a/);
      expect(res.body.problems).toEqual({
        invalid_nodes: [],
        duplicate_node_ids: ['a'],
        invalid_edges: [],
        dangling_edges: ['e1: a → ghost'],
        unknown_nodes: [],
      });
      await create(a, { name: 'Bad graph', data: 'nodes' }).expect(400);
      await create(a, { name: 'Bad graph' }).expect(400);
      await create(a, { name: '', data: simpleGraph() }).expect(400);
      // 200 characters as the database counts them: variation selectors are characters there,
      // though a UTF-16 length check that discounts them would let 250 through (a 500 on PostgreSQL).
      const tooLong = await create(a, { name: `${'a'.repeat(100)}${'\u2764\uFE0F'.repeat(75)}`, data: simpleGraph() });
      expect(tooLong.status).toBe(400);
      expect(tooLong.body.message).toContain('name must be at most 200 characters');
      const list = await request(t.url).get('/api/workflows').set(a.auth).expect(200);
      expect(list.body.workflows).toEqual([]);
      const fits = `${'a'.repeat(50)}${'\u2764\uFE0F'.repeat(75)}`;
      const made = await create(a, { name: fits, data: simpleGraph() }).expect(201);
      expect(made.body.workflow.name).toBe(fits);
      await request(t.url).delete(`/api/workflows/${made.body.workflow.id}`).set(a.auth).expect(200);
    });

    it('names are unique per scope, case-insensitively (409)', async () => {
      const a = await actor(t.url);
      await create(a, { name: 'Daily Report', data: simpleGraph() }).expect(201);
      const dup = await create(a, { name: ' daily report', data: simpleGraph() }).expect(409);
      expect(dup.body).toEqual({
        success: false,
        status: 'error',
        message: 'A workflow with this name already exists',
        code: 'conflict',
      });
      // Another scope (the actor's solo workspace) may reuse the name.
      await create(a, { name: 'Daily Report', data: simpleGraph(), workspace_id: a.soloWorkspaceId }).expect(201);
      const b = await actor(t.url);
      await create(b, { name: 'Daily Report', data: simpleGraph() }).expect(201);
    });
  });

  describe('Solo plan limits (docs/contract.md §8.3–8.4)', () => {
    it('the 4th personal workflow is refused with a workflow-limit violation', async () => {
      const a = await actor(t.url);
      for (let i = 0; i < 3; i += 1) await create(a, { name: uniqueName(), data: simpleGraph() }).expect(201);
      const res = await create(a, { name: uniqueName(), data: simpleGraph() }).expect(403);
      expect(res.body).toEqual({
        success: false,
        status: 'error',
        message: 'Solo accounts can save up to 3 workflows. Delete an existing workflow or upgrade in Settings → Plan.',
        violations: [{ code: 'workflow-limit', message: res.body.message }],
      });
    });

    it('assesses the graph in the solo context: premium integrations, schedule triggers, node count', async () => {
      const a = await actor(t.url);
      const nodes = [
        trigger('t1', { label: 'Every morning', triggerType: 'Schedule', scheduleConfig: { startDate: '2030-01-01' } }),
        { id: 'sheet', type: 'actionSheets', data: { label: 'Append row', actionType: 'sheets', params: {} } },
        ...Array.from({ length: 10 }, (_, i) => http(`h${i}`)),
      ];
      const res = await create(a, { name: uniqueName(), data: graph(nodes) }).expect(403);
      expect(res.body.message).toBe(
        'Solo plan restrictions prevent this workflow from running. Upgrade in Settings → Plan or adjust the nodes listed below.',
      );
      expect(res.body.violations.map((v: { code: string }) => v.code)).toEqual([
        'premium-integration',
        'premium-trigger',
        'node-limit',
      ]);
      expect(res.body.violations[0]).toEqual({
        code: 'premium-integration',
        message: expect.stringMatching(/^Google Sheets/),
        nodeLabel: 'Append row',
      });
      expect(res.body.violations[2].message).toMatch(/Remove 2 nodes/);
      // Inside the solo *workspace* the reference skips the assessment (kept for compatibility).
      await create(a, { name: uniqueName(), data: graph(nodes), workspace_id: a.soloWorkspaceId }).expect(201);
    });

    it('hides personal workflows beyond the 3 oldest after a downgrade, and locks them', async () => {
      const a = await actor(t.url);
      const ids: string[] = [];
      for (let i = 0; i < 3; i += 1)
        ids.push((await create(a, { name: `old ${i}`, data: simpleGraph() }).expect(201)).body.workflow.id);
      await upgrade(t.url, a);
      const extra = (await create(a, { name: 'newest', data: simpleGraph() }).expect(201)).body.workflow;
      const asWorkspace = await request(t.url).get('/api/workflows').set(a.auth).expect(200);
      expect(asWorkspace.body.hidden_count).toBeUndefined();
      expect(asWorkspace.body.workflows).toHaveLength(4);

      await request(t.url).post('/api/workspaces/plan').set(a.auth).send({ plan_tier: 'solo' }).expect(200);
      const list = await request(t.url).get('/api/workflows').set(a.auth).expect(200);
      expect(list.body.hidden_count).toBe(1);
      expect(list.body.workflows.map((w: { id: string }) => w.id).sort()).toEqual([...ids].sort());

      const locked = await request(t.url).get(`/api/workflows/${extra.id}`).set(a.auth).expect(403);
      expect(locked.body.violations).toEqual([
        {
          code: 'workflow-limit',
          message: 'This workflow is locked on the solo plan. Upgrade in Settings → Plan to edit or run it.',
        },
      ]);
      // The reference persisted the update and then answered 403; here nothing is written.
      await put(a, extra.id, { name: 'renamed', data: simpleGraph(), updated_at: extra.updated_at }).expect(403);
      const stored = await t.app.get(WorkflowRepository).findById(extra.id);
      expect(stored!.name).toBe('newest');
    });
  });

  describe('list and get with plan context (docs/contract.md §3)', () => {
    it('lists own and workspace workflows newest first; ?workspace= needs membership', async () => {
      const { owner, user, outsider, ws } = await team();
      const w1 = (await create(owner, { name: uniqueName(), data: simpleGraph(), workspace_id: ws }).expect(201)).body
        .workflow;
      const w2 = (await create(user, { name: uniqueName(), data: simpleGraph(), workspace_id: ws }).expect(201)).body
        .workflow;
      const mine = (await create(user, { name: uniqueName(), data: simpleGraph() }).expect(201)).body.workflow;

      const inWs = await request(t.url).get(`/api/workflows?workspace=${ws}`).set(user.auth).expect(200);
      // A member context shows only that workspace (no personal workflows).
      expect(inWs.body.workflows.map((w: { id: string }) => w.id)).toEqual([w2.id, w1.id]);
      // Without ?workspace= a solo-plan session is in the Solo context: workspaces it merely belongs to stay out.
      const all = await request(t.url).get('/api/workflows').set(user.auth).expect(200);
      expect(all.body.workflows.map((w: { id: string }) => w.id)).toEqual([mine.id]);
      const ownerAll = await request(t.url).get('/api/workflows').set(owner.auth).expect(200);
      expect(ownerAll.body.workflows.map((w: { id: string }) => w.id)).toEqual([w2.id, w1.id]);

      const denied = await request(t.url).get(`/api/workflows?workspace=${ws}`).set(outsider.auth).expect(403);
      expect(denied.body.message).toBe('You do not have access to this workspace.');
      await request(t.url).get('/api/workflows?workspace=nope').set(owner.auth).expect(400);
    });

    it('get: 404 for non-members, 403 outside the plan context, 400 for a bad id', async () => {
      const { owner, user, outsider, ws } = await team();
      const w = (await create(owner, { name: uniqueName(), data: simpleGraph(), workspace_id: ws }).expect(201)).body
        .workflow;
      await request(t.url).get(`/api/workflows/${w.id}?workspace=${ws}`).set(user.auth).expect(200);
      const solo = await request(t.url).get(`/api/workflows/${w.id}`).set(user.auth).expect(403);
      expect(solo.body.message).toBe('This workflow is not available in the current plan context.');
      const missing = await request(t.url).get(`/api/workflows/${w.id}`).set(outsider.auth).expect(404);
      expect(missing.body.message).toBe('Workflow not found');
      const personal = (await create(user, { name: uniqueName(), data: simpleGraph() }).expect(201)).body.workflow;
      const ctx = await request(t.url).get(`/api/workflows/${personal.id}?workspace=${ws}`).set(user.auth).expect(403);
      expect(ctx.body.message).toBe('This workflow is not available in the current plan context.');
      await request(t.url).get(`/api/workflows/${outsider.soloWorkspaceId}`).set(owner.auth).expect(404);
      await request(t.url).get('/api/workflows/not-a-uuid').set(owner.auth).expect(400);
    });
  });

  describe('update (docs/contract.md §2.5)', () => {
    it('a masked header value goes back only under its own name: renaming the header reveals nothing', async () => {
      const { owner, user, ws } = await team();
      const data = graph(
        [trigger(), http('http-1', { headers: [{ key: 'X-Api-Key', value: 'live-key-8d1f2a' }] })],
        [['trigger-1', 'http-1']],
      );
      const w = (await create(owner, { name: uniqueName(), data, workspace_id: ws }).expect(201)).body.workflow;
      const headersOf = (workflow: { data: { nodes: { id: string; data: { params: { headers: unknown } } }[] } }) =>
        workflow.data.nodes.find((n) => n.id === 'http-1')!.data.params.headers;
      expect(headersOf(w)).toEqual([{ key: 'X-Api-Key', value: '********' }]);
      // A member echoes the masked row back under a name nobody masks.
      const renamed = structuredClone(w.data);
      renamed.nodes.find((n: { id: string }) => n.id === 'http-1').data.params.headers = [
        { key: 'X-Note', value: '********' },
      ];
      const saved = await put(user, w.id, { name: w.name, data: renamed, updated_at: w.updated_at }, ws).expect(200);
      expect(headersOf(saved.body.workflow)).toEqual([{ key: 'X-Note', value: '********' }]);
      const stored = await t.app.get(WorkflowRepository).findById(w.id);
      expect(JSON.stringify(stored!.data)).not.toContain('live-key-8d1f2a');
    });

    it('optimistic concurrency: stale or missing updated_at → 409 with the current workflow; nothing persisted', async () => {
      const { owner, user, ws } = await team();
      const w = (await create(owner, { name: uniqueName(), data: simpleGraph(), workspace_id: ws }).expect(201)).body
        .workflow;
      const missing = await put(user, w.id, { name: 'x', data: simpleGraph() }, ws).expect(409);
      expect(missing.body).toEqual({
        success: false,
        status: 'error',
        message: 'This workflow was updated by someone else. Reload to continue editing.',
        code: 'workflow_conflict',
        workflow: w,
      });
      const ok = await put(user, w.id, { name: 'renamed', data: simpleGraph(), updated_at: w.updated_at }, ws).expect(
        200,
      );
      expect(ok.body.workflow.name).toBe('renamed');
      expect(ok.body.workflow.updated_at).not.toBe(w.updated_at);
      const stale = await put(owner, w.id, {
        name: 'lost update',
        data: simpleGraph(),
        updated_at: w.updated_at,
      }).expect(409);
      expect(stale.body.workflow.name).toBe('renamed');
      expect((await t.app.get(WorkflowRepository).findById(w.id))!.name).toBe('renamed');
    });

    it('personal workflows may omit updated_at; a bad timestamp is a 400', async () => {
      const a = await actor(t.url);
      const w = (await create(a, { name: uniqueName(), data: simpleGraph() }).expect(201)).body.workflow;
      await put(a, w.id, { name: w.name, data: simpleGraph() }).expect(200);
      const bad = await put(a, w.id, { name: w.name, data: simpleGraph(), updated_at: 'yesterday' }).expect(400);
      expect(bad.body.message).toMatch(/updated_at/);
    });

    it('of two concurrent saves with the same token exactly one wins', async () => {
      const a = await actor(t.url);
      const w = (await create(a, { name: uniqueName(), data: simpleGraph() }).expect(201)).body.workflow;
      const results = await Promise.all(
        ['first', 'second', 'third'].map((name) =>
          put(a, w.id, { name, data: simpleGraph(), updated_at: w.updated_at }),
        ),
      );
      expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409]);
    });

    it('viewers cannot modify; a duplicate name is 409; an invalid graph is 400', async () => {
      const { owner, viewer, ws } = await team();
      const w = (await create(owner, { name: uniqueName(), data: simpleGraph(), workspace_id: ws }).expect(201)).body
        .workflow;
      const other = (await create(owner, { name: uniqueName(), data: simpleGraph(), workspace_id: ws }).expect(201))
        .body.workflow;
      const res = await put(viewer, w.id, { name: 'x', data: simpleGraph(), updated_at: w.updated_at }, ws).expect(403);
      expect(res.body.message).toBe('Workspace viewers cannot modify workflows.');
      await put(owner, w.id, { name: other.name.toUpperCase(), data: simpleGraph(), updated_at: w.updated_at }).expect(
        409,
      );
      await put(owner, w.id, {
        name: 'x',
        data: { nodes: [], edges: [{ source: 'a', target: 'b' }] },
        updated_at: w.updated_at,
      }).expect(400);
      await put(owner, w.id, { name: 'x' }).expect(400);
    });

    it('the change log masks header and query credentials as every response does', async () => {
      const { owner, ws } = await team();
      const node = (key: string, token: string) =>
        http('http-1', {
          headers: [
            { key: 'X-Api-Key', value: key },
            { key: 'Accept', value: 'application/json' },
          ],
          queryParams: [{ key: 'access_token', value: token }],
        });
      const w = (
        await create(owner, {
          name: uniqueName(),
          data: graph([trigger(), node('key-one-5c1e', 'tok-one-77aa')], [['trigger-1', 'http-1']]),
          workspace_id: ws,
        }).expect(201)
      ).body.workflow;
      const data = graph([trigger(), node('key-two-9b3d', 'tok-two-12cd')], [['trigger-1', 'http-1']]);
      (data.nodes[1].data as { params: { headers: { key: string; value: string }[] } }).params.headers[1].value =
        'text/plain';
      await put(owner, w.id, { name: w.name, data, updated_at: w.updated_at }, ws).expect(200);
      const logs = await request(t.url).get(`/api/workflows/${w.id}/logs`).set(owner.auth).expect(200);
      const diffs = logs.body.logs[0].diffs as { path: string; from: unknown; to: unknown }[];
      expect(diffs).toEqual(
        expect.arrayContaining([
          { path: 'nodes[1].data.params.headers[0].value', from: '********', to: '********' },
          { path: 'nodes[1].data.params.headers[1].value', from: 'application/json', to: 'text/plain' },
          { path: 'nodes[1].data.params.queryParams[0].value', from: '********', to: '********' },
        ]),
      );
      const text = JSON.stringify(logs.body);
      for (const secret of ['key-one-5c1e', 'key-two-9b3d', 'tok-one-77aa', 'tok-two-12cd'])
        expect(text).not.toContain(secret);
    });

    it('the change log shows empty and absent credential values as they are, masking only real values', async () => {
      const { owner, ws } = await team();
      const email = (params: Record<string, unknown>) => ({
        id: 'mail-1',
        type: 'actionEmail',
        data: { label: 'Mail', actionType: 'email', params: { provider: 'sendgrid', ...params } },
      });
      const w = (
        await create(owner, {
          name: uniqueName(),
          data: graph(
            [trigger(), http('http-1', { headers: [{ key: 'Authorization' }] }), email({ apiKey: null })],
            [
              ['trigger-1', 'http-1'],
              ['http-1', 'mail-1'],
            ],
          ),
          workspace_id: ws,
        }).expect(201)
      ).body.workflow;
      const emptied = graph(
        [
          trigger(),
          http('http-1', { headers: [{ key: 'Authorization', value: '' }], password: '' }),
          email({ apiKey: '' }),
        ],
        [
          ['trigger-1', 'http-1'],
          ['http-1', 'mail-1'],
        ],
      );
      const updated = (
        await put(owner, w.id, { name: w.name, data: emptied, updated_at: w.updated_at }, ws).expect(200)
      ).body.workflow;
      const filled = structuredClone(emptied);
      (filled.nodes[1].data as { params: Record<string, unknown> }).params.password = 'pw-real-8f2a';
      await put(owner, w.id, { name: w.name, data: filled, updated_at: updated.updated_at }, ws).expect(200);
      const logs = (await request(t.url).get(`/api/workflows/${w.id}/logs`).set(owner.auth).expect(200)).body.logs;
      const changes = (entry: { diffs: { path: string }[] }) => entry.diffs.filter((d) => d.path !== 'actor');
      expect(changes(logs[1])).toEqual([
        { path: 'nodes[1].data.params.headers[0].value', from: null, to: '' },
        { path: 'nodes[1].data.params.password', from: null, to: '' },
        { path: 'nodes[2].data.params.apiKey', from: null, to: '' },
      ]);
      // A real value is still masked, on whichever side it is.
      expect(changes(logs[0])).toEqual([{ path: 'nodes[1].data.params.password', from: '', to: '********' }]);
      expect(JSON.stringify(logs)).not.toContain('pw-real-8f2a');
    });

    it('writes one change-log entry per update with the node diff, actor = caller', async () => {
      const { owner, user, ws } = await team();
      const w = (await create(owner, { name: uniqueName(), data: simpleGraph(), workspace_id: ws }).expect(201)).body
        .workflow;
      const changed = graph(
        [trigger(), http('http-1', { url: 'https://changed.example.com' })],
        [['trigger-1', 'http-1']],
      );
      const updated = (await put(user, w.id, { name: w.name, data: changed, updated_at: w.updated_at }, ws).expect(200))
        .body.workflow;
      await put(user, w.id, { name: w.name, data: changed, updated_at: updated.updated_at }, ws).expect(200);
      const logs = await request(t.url).get(`/api/workflows/${w.id}/logs`).set(owner.auth).expect(200);
      expect(logs.body).toEqual({
        success: true,
        workflow: { id: w.id, name: w.name },
        logs: [
          {
            id: expect.any(String),
            user_id: user.userId,
            workflow_id: w.id,
            created_at: expect.any(String),
            diffs: [],
          },
          {
            id: expect.any(String),
            user_id: user.userId,
            workflow_id: w.id,
            created_at: expect.any(String),
            diffs: [
              { path: 'nodes[1].data.params.url', from: 'https://example.com', to: 'https://changed.example.com' },
            ],
          },
        ],
      });
      // Only one's own entries can be deleted.
      const [latest, first] = logs.body.logs;
      const notMine = await request(t.url)
        .delete(`/api/workflows/${w.id}/logs/${first.id}`)
        .set(owner.auth)
        .expect(404);
      expect(notMine.body.message).toBe('Log not found');
      await request(t.url).delete(`/api/workflows/${w.id}/logs/${latest.id}`).set(user.auth).expect(200);
      await request(t.url).delete(`/api/workflows/${w.id}/logs`).set(owner.auth).expect(200);
      expect((await request(t.url).get(`/api/workflows/${w.id}/logs`).set(owner.auth)).body.logs).toHaveLength(1);
      await request(t.url).delete(`/api/workflows/${w.id}/logs`).set(user.auth).expect(200);
      expect((await request(t.url).get(`/api/workflows/${w.id}/logs`).set(owner.auth)).body.logs).toEqual([]);
    });
  });

  describe('locks (docs/contract.md §2.7)', () => {
    it('admins lock; members cannot edit a locked workflow, its locker and admins can; unlock rules', async () => {
      const { owner, admin, user, viewer, ws } = await team();
      const w = (await create(user, { name: uniqueName(), data: simpleGraph(), workspace_id: ws }).expect(201)).body
        .workflow;
      for (const member of [viewer, user]) {
        const refused = await request(t.url).post(`/api/workflows/${w.id}/lock`).set(member.auth).expect(403);
        expect(refused.body.message).toBe('Only a workspace admin or owner can change workflow settings.');
      }
      const unlockedNoop = await request(t.url)
        .delete(`/api/workflows/${w.id}/lock?workspace=${ws}`)
        .set(admin.auth)
        .expect(200);
      expect(unlockedNoop.body.workflow.updated_at).toBe(w.updated_at);

      const locked = (
        await request(t.url).post(`/api/workflows/${w.id}/lock?workspace=${ws}`).set(admin.auth).expect(200)
      ).body.workflow;
      expect(locked).toMatchObject({ locked_by: admin.userId, locked_at: expect.any(String) });
      expect(locked.updated_at).not.toBe(w.updated_at);
      // Its creator, a plain member, may not edit it now; the admin who locked it may.
      const denied = await put(
        user,
        w.id,
        { name: 'member edit', data: simpleGraph(), updated_at: locked.updated_at },
        ws,
      ).expect(403);
      expect(denied.body.message).toBe('This workflow is locked and can only be modified by the creator or an admin.');
      await put(admin, w.id, { name: 'admin edit', data: simpleGraph(), updated_at: locked.updated_at }, ws).expect(
        200,
      );
      const cannotUnlock = await request(t.url)
        .delete(`/api/workflows/${w.id}/lock?workspace=${ws}`)
        .set(user.auth)
        .expect(403);
      expect(cannotUnlock.body.message).toBe('Only a workspace admin or owner can change workflow settings.');
      const unlocked = await request(t.url).delete(`/api/workflows/${w.id}/lock`).set(owner.auth).expect(200);
      expect(unlocked.body.workflow).toMatchObject({ locked_by: null, locked_at: null });
    });
  });

  describe('delete (docs/contract.md §2.6)', () => {
    it('the creator or an admin deletes (other members get 403); a history entry reaches the other workflows', async () => {
      const { owner, admin, user, outsider, ws } = await team();
      const w = (await create(owner, { name: 'Doomed', data: simpleGraph(), workspace_id: ws }).expect(201)).body
        .workflow;
      const survivor = (await create(owner, { name: uniqueName(), data: simpleGraph(), workspace_id: ws }).expect(201))
        .body.workflow;
      const byUser = await request(t.url).delete(`/api/workflows/${w.id}?workspace=${ws}`).set(user.auth).expect(403);
      expect(byUser.body.message).toBe('Only a workspace admin or owner can delete workspace workflows.');
      await request(t.url).delete(`/api/workflows/${w.id}`).set(outsider.auth).expect(404);
      expect((await request(t.url).delete(`/api/workflows/${w.id}`).set(owner.auth).expect(200)).body).toEqual({
        success: true,
      });
      await request(t.url).get(`/api/workflows/${w.id}`).set(owner.auth).expect(404);
      const logs = await request(t.url).get(`/api/workflows/${survivor.id}/logs`).set(admin.auth).expect(200);
      expect(logs.body.logs[0].diffs).toEqual([
        { path: 'actor', from: null, to: expect.stringMatching(/^Ada Lovelace <.+@example\.com>$/) },
        { path: 'workflow.deleted', from: 'Doomed', to: w.id },
      ]);
    });
  });

  describe('secrets in saved workflows (docs/contract.md §9.3, deviations 8 and 10 in docs/deviations.md)', () => {
    it('moves credentials into the saver’s store and keeps only references in the workflow', async () => {
      const { owner, user, ws } = await team();
      const sendgrid = {
        id: 'mail',
        type: 'actionEmailSendgrid',
        data: {
          label: 'Mail',
          actionType: 'email',
          params: { service: 'sendgrid', apiKey: 'SG.super-secret-key', from: 'a@b.co' },
        },
      };
      const w = (
        await create(owner, {
          name: uniqueName(),
          data: graph([trigger(), sendgrid, http('h', { authType: 'bearer', token: 'tok-123456' })]),
          workspace_id: ws,
        }).expect(201)
      ).body.workflow;
      expect(JSON.stringify(w)).not.toMatch(/SG\.super-secret-key|tok-123456/);
      expect(w.data.nodes[1].data.params.apiKey).toBe('email:sendgrid:auto-sendgrid-1');
      expect(w.data.nodes[2].data.params.token).toBe('http:bearer_token:auto-bearertoken-1');
      const stored = await t.app.get(WorkflowRepository).findById(w.id);
      expect(JSON.stringify(stored!.data)).not.toContain('SG.super-secret-key');

      // The owner saves the same key again: no duplicate.
      const again = graph([
        trigger(),
        { ...sendgrid, data: { ...sendgrid.data, params: { ...sendgrid.data.params, apiKey: 'SG.super-secret-key' } } },
      ]);
      const o1 = (await put(owner, w.id, { name: w.name, data: again, updated_at: w.updated_at }, ws).expect(200)).body
        .workflow;
      expect(o1.data.nodes[1].data.params.apiKey).toBe('email:sendgrid:auto-sendgrid-1');
      // A member keeping the owner's personal key is refused, naming the node; nothing is saved.
      const keeps = await put(user, w.id, { name: w.name, data: o1.data, updated_at: o1.updated_at }, ws).expect(403);
      expect(keeps.body).toMatchObject({ code: 'forbidden', nodes: ['mail'] });
      // A member typing the same value gets their own secret, shared with the workspace: the name
      // does not tell them the owner holds that value.
      const u1 = (await put(user, w.id, { name: w.name, data: again, updated_at: o1.updated_at }, ws).expect(200)).body
        .workflow;
      expect(u1.data.nodes[1].data.params.apiKey).toBe('email:sendgrid:auto-sendgrid-2');
      const rotated = graph([
        trigger(),
        { ...sendgrid, data: { ...sendgrid.data, params: { ...sendgrid.data.params, apiKey: 'SG.rotated-key' } } },
      ]);
      const u2 = (await put(user, w.id, { name: w.name, data: rotated, updated_at: u1.updated_at }, ws).expect(200))
        .body.workflow;
      expect(u2.data.nodes[1].data.params.apiKey).toBe('email:sendgrid:auto-sendgrid-3');
      const ownerSecrets = await request(t.url).get('/api/options/secrets').set(owner.auth).expect(200);
      expect(Object.keys(ownerSecrets.body.secrets.email.sendgrid)).toEqual(['auto-sendgrid-1']);
      const userSecrets = await request(t.url).get('/api/options/secrets').set(user.auth).expect(200);
      expect(userSecrets.body.secrets.email.sendgrid).toEqual({
        'auto-sendgrid-2': { value: expect.any(String), owner_id: user.userId, workspace_id: ws },
        'auto-sendgrid-3': { value: expect.any(String), owner_id: user.userId, workspace_id: ws },
      });
      // The change log never stores the plaintext either.
      const logs = await request(t.url).get(`/api/workflows/${w.id}/logs`).set(owner.auth).expect(200);
      expect(JSON.stringify(logs.body)).not.toMatch(/SG\.|tok-123456/);
    });

    it('refuses a node type or actionType this server does not provide, naming the nodes, storing nothing', async () => {
      const a = await actor(t.url);
      // A credential in a refused node is not moved into the secret store either.
      const custom = {
        id: 'c',
        type: 'actionCustom',
        data: { label: 'Custom', actionType: 'custom', params: { password: 'hunter2-hunter2', url: 'https://x.io' } },
      };
      const typo = { id: 'f', type: 'fromatter', data: { label: 'Typo' } };
      const res = await create(a, { name: uniqueName(), data: graph([trigger(), custom, typo]) }).expect(400);
      expect(res.body).toMatchObject({ success: false, status: 'error', code: 'invalid_request' });
      expect(res.body.message).toMatch(/nodes this server cannot run: c: unknown actionType "custom"; f: unknown node/);
      expect(res.body.problems.unknown_nodes).toEqual([
        'c: unknown actionType "custom"',
        'f: unknown node type "fromatter"',
      ]);
      expect((await request(t.url).get('/api/workflows').set(a.auth).expect(200)).body.workflows).toEqual([]);
      const secrets = await request(t.url).get('/api/options/secrets').set(a.auth).expect(200);
      expect(JSON.stringify(secrets.body)).not.toContain('custom');

      // An update is checked the same way (integrations without a provider stay accepted: see above).
      const w = (await create(a, { name: uniqueName(), data: simpleGraph() }).expect(201)).body.workflow;
      const noAction = { id: 'n', type: 'action', data: { label: 'Nothing' } };
      const refused = await put(a, w.id, {
        name: w.name,
        data: graph([trigger(), http(), noAction]),
        updated_at: w.updated_at,
      }).expect(400);
      expect(refused.body.problems.unknown_nodes).toEqual(['n: action node type "action" names no actionType']);
      const stored = await t.app.get(WorkflowRepository).findById(w.id);
      expect((stored!.data as { nodes: unknown[] }).nodes).toHaveLength(2);
    });
  });

  describe('schedule sync (docs/contract.md §10.2)', () => {
    it('stores the next run of the first schedule trigger in its time zone, and disables a bad one', async () => {
      const { owner, ws } = await team();
      const schedule = trigger('sched', {
        triggerType: 'Schedule',
        scheduleConfig: {
          startDate: '2030-03-01',
          startTime: '09:00',
          timezone: 'Europe/Paris',
          repeat: { every: 1, unit: 'days' },
        },
      });
      const w = (
        await create(owner, {
          name: uniqueName(),
          data: graph([schedule, http()], [['sched', 'http-1']]),
          workspace_id: ws,
        }).expect(201)
      ).body.workflow;
      const schedules = t.app.get(ScheduleRepository);
      const row = await schedules.findForWorkflow(w.id);
      expect(row).toMatchObject({ enabled: true, triggerNodeId: 'sched', userId: owner.userId, lastError: null });
      expect(row!.nextRunAt!.toISOString()).toBe('2030-03-01T08:00:00.000Z');

      const broken = trigger('sched', {
        triggerType: 'Schedule',
        scheduleConfig: { startDate: '2030-03-01', timezone: 'Mars/Olympus' },
      });
      const u1 = (await put(owner, w.id, { name: w.name, data: graph([broken]), updated_at: w.updated_at }).expect(200))
        .body.workflow;
      const disabled = await schedules.findForWorkflow(w.id);
      expect(disabled).toMatchObject({
        enabled: false,
        nextRunAt: null,
        lastError: expect.stringMatching(/time zone|timezone/i),
      });

      await put(owner, w.id, { name: w.name, data: simpleGraph(), updated_at: u1.updated_at }).expect(200);
      expect(await schedules.findForWorkflow(w.id)).toBeNull();
    });

    it('accepts cron + timezone', async () => {
      const { owner, ws } = await team();
      const cron = trigger('c', {
        triggerType: 'Schedule',
        scheduleConfig: { cron: '30 9 * * 1-5', timezone: 'America/New_York' },
      });
      const w = (await create(owner, { name: uniqueName(), data: graph([cron]), workspace_id: ws }).expect(201)).body
        .workflow;
      const row = await t.app.get(ScheduleRepository).findForWorkflow(w.id);
      expect(row!.enabled).toBe(true);
      const local = new Intl.DateTimeFormat('en-US', {
        timeZone: 'America/New_York',
        hour: '2-digit',
        minute: '2-digit',
        hour12: false,
      }).format(row!.nextRunAt!);
      expect(local).toBe('09:30');
    });
  });

  describe('events', () => {
    it('emits typed workflow.created / updated / deleted events', async () => {
      const seen: { name: string; payload: { workflowId: string } }[] = [];
      const emitter = t.app.get(EventEmitter2);
      const listener = (name: string) => (payload: { workflowId: string }) => seen.push({ name, payload });
      const names = ['workflow.created', 'workflow.updated', 'workflow.deleted'];
      const handlers = names.map((name) => [name, listener(name)] as const);
      handlers.forEach(([name, fn]) => emitter.on(name, fn));
      const a = await actor(t.url);
      const w = (await create(a, { name: uniqueName(), data: simpleGraph() }).expect(201)).body.workflow;
      await put(a, w.id, { name: 'changed', data: simpleGraph(), updated_at: w.updated_at }).expect(200);
      await request(t.url).delete(`/api/workflows/${w.id}`).set(a.auth).expect(200);
      handlers.forEach(([name, fn]) => emitter.off(name, fn));
      expect(seen.filter((e) => e.payload.workflowId === w.id).map((e) => e.name)).toEqual(names);
    });
  });

  it('the workspace plan bounds graph size too (WORKSPACE_NODE_LIMIT, default 2,000): 403 node-limit, nothing saved', async () => {
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const chain = (n: number) =>
      graph(
        [trigger(), ...Array.from({ length: n - 1 }, (_, i) => http(`h${i}`))],
        Array.from({ length: n - 1 }, (_, i): [string, string] => [i ? `h${i - 1}` : 'trigger-1', `h${i}`]),
      );
    const name = uniqueName();
    const refused = await create(owner, { name, data: chain(2001), workspace_id: ws }).expect(403);
    expect(refused.body.violations).toEqual([
      { code: 'node-limit', message: 'Workflows support up to 2000 nodes. Remove 1 node.' },
    ]);
    const listed = await request(t.url).get(`/api/workflows?workspace=${ws}`).set(owner.auth).expect(200);
    expect(listed.body.workflows.some((w: { name: string }) => w.name === name)).toBe(false);

    const saved = (await create(owner, { name, data: chain(2000), workspace_id: ws }).expect(201)).body.workflow;
    await put(owner, saved.id, { name, data: chain(2001), updated_at: saved.updated_at }, ws).expect(403);
  });
});
