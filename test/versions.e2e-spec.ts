import request from 'supertest';
import { SOLO_VERSION_RETENTION } from '../src/plans/plan-assessment';
import { createTestApp, TestApp } from './utils/app';
import { TargetServer } from './utils/target-server';
import { waitFor } from './utils/wait';
import { Actor, actor, addMember, graph, http, trigger, uniqueName, upgrade } from './factories/workflow.factory';

describe('workflow versions (docs/contract.md §2.17, §2.11)', () => {
  let t: TestApp;
  let target: TargetServer;
  beforeAll(async () => {
    target = await new TargetServer().start();
    t = await createTestApp({ WORKER_POLL_INTERVAL_MS: '20' });
  });
  afterAll(async () => {
    await t.close();
    await target.stop();
  });

  const graphCalling = (path: string, extra: Record<string, unknown> = {}) =>
    graph([trigger('t', { label: 'In' }), http('call', { url: `${target.url}${path}`, ...extra })], [['t', 'call']]);

  async function create(a: Actor, data: unknown, body: Record<string, unknown> = {}) {
    const res = await request(t.url)
      .post('/api/workflows')
      .set(a.auth)
      .send({ name: uniqueName(), data, ...body })
      .expect(201);
    return res.body.workflow as { id: string; name: string; updated_at: string; version: number };
  }

  /** Saves `data` (and the rest of `body`) over the workflow as the client does, with the token it last saw. */
  async function save(a: Actor, id: string, data: unknown, body: Record<string, unknown> = {}, query = '') {
    const current = (await request(t.url).get(`/api/workflows/${id}${query}`).set(a.auth).expect(200)).body.workflow;
    const res = await request(t.url)
      .put(`/api/workflows/${id}${query}`)
      .set(a.auth)
      .send({ name: current.name, data, updated_at: current.updated_at, ...body })
      .expect(200);
    return res.body.workflow as { id: string; name: string; updated_at: string; version: number; data: unknown };
  }

  const versions = (a: Actor, id: string, query = '') =>
    request(t.url).get(`/api/workflows/${id}/versions${query}`).set(a.auth);
  const version = (a: Actor, id: string, n: number | string) =>
    request(t.url).get(`/api/workflows/${id}/versions/${n}`).set(a.auth);
  const diff = (a: Actor, id: string, n: number, query = '') =>
    request(t.url).get(`/api/workflows/${id}/versions/${n}/diff${query}`).set(a.auth);
  const restore = (a: Actor, id: string, n: number, body: Record<string, unknown>, query = '') =>
    request(t.url).post(`/api/workflows/${id}/versions/${n}/restore${query}`).set(a.auth).send(body);

  async function finished(a: Actor, workflowId: string, runId: string) {
    return waitFor(async () => {
      const res = await request(t.url).get(`/api/workflows/${workflowId}/runs/${runId}`).set(a.auth).expect(200);
      return ['succeeded', 'failed', 'canceled'].includes(res.body.run.status) ? res.body.run : undefined;
    }, `run ${runId} to finish`);
  }

  describe('every save makes a version', () => {
    it('create is version 1 and each PUT the next, listed newest first without graphs', async () => {
      const a = await actor(t.url);
      const wf = await create(a, graphCalling('/one'));
      expect(wf.version).toBe(1);
      const saved = await save(a, wf.id, graphCalling('/two'), { name: `${wf.name} renamed` });
      expect(saved.version).toBe(2);

      const list = await versions(a, wf.id).expect(200);
      expect(list.body).toEqual({
        success: true,
        versions: [
          {
            number: 2,
            name: `${wf.name} renamed`,
            description: null,
            created_by: a.userId,
            created_at: saved.updated_at,
            summary: `Renamed from "${wf.name}" to "${wf.name} renamed"; 1 node setting changed`,
            restored_from: null,
          },
          {
            number: 1,
            name: wf.name,
            description: null,
            created_by: a.userId,
            created_at: wf.updated_at,
            summary: 'Created',
            restored_from: null,
          },
        ],
        page: 1,
        per_page: 20,
        total: 2,
        latest: 2,
      });

      const one = await version(a, wf.id, 1).expect(200);
      expect(one.body.version).toMatchObject({ number: 1, name: wf.name, data: graphCalling('/one') });
      const two = await version(a, wf.id, 2).expect(200);
      expect(two.body.version.data).toEqual(graphCalling('/two'));
    });

    it('keeps the summary the saver gives, and pages', async () => {
      const a = await actor(t.url);
      const wf = await create(a, graphCalling('/a'), { change_summary: 'First draft' });
      await save(a, wf.id, graphCalling('/b'), { change_summary: '  Point at b  ' });
      await save(a, wf.id, graphCalling('/b'));
      const page = await versions(a, wf.id, '?per_page=2&page=1').expect(200);
      expect(page.body.versions.map((v: { number: number; summary: string }) => [v.number, v.summary])).toEqual([
        [3, 'No changes'],
        [2, 'Point at b'],
      ]);
      const next = await versions(a, wf.id, '?per_page=2&page=2').expect(200);
      expect(next.body.versions.map((v: { summary: string }) => v.summary)).toEqual(['First draft']);
      expect(next.body.total).toBe(3);
    });

    it('saves at the same moment get one version each, numbered without gaps', async () => {
      const a = await actor(t.url);
      const wf = await create(a, graphCalling('/race/0'));
      // A personal workflow may be saved without a token: every one of these saves wins in turn.
      const saved = await Promise.all(
        [1, 2, 3, 4, 5, 6].map((i) =>
          request(t.url)
            .put(`/api/workflows/${wf.id}`)
            .set(a.auth)
            .send({ name: wf.name, data: graphCalling(`/race/${i}`) })
            .expect(200),
        ),
      );
      expect(saved.map((r) => r.body.workflow.version).sort((x, y) => x - y)).toEqual([2, 3, 4, 5, 6, 7]);
      const list = await versions(a, wf.id).expect(200);
      expect(list.body.versions.map((v: { number: number }) => v.number)).toEqual([7, 6, 5, 4, 3, 2, 1]);
      // Each version holds the graph its own save wrote.
      for (const res of saved) {
        const v = await version(a, wf.id, res.body.workflow.version).expect(200);
        expect(v.body.version.data).toEqual(res.body.workflow.data);
      }
    });

    it('a change summary longer than 500 characters is a 400, emoji counted as the database counts them', async () => {
      const a = await actor(t.url);
      const wf = await create(a, graphCalling('/long'));
      const res = await request(t.url)
        .put(`/api/workflows/${wf.id}`)
        .set(a.auth)
        .send({ name: wf.name, data: graphCalling('/long'), change_summary: '\u2764\ufe0f'.repeat(300) })
        .expect(400);
      expect(JSON.stringify(res.body)).toContain('change_summary must be at most 500 characters');
      await save(a, wf.id, graphCalling('/long'), { change_summary: '\u2764\ufe0f'.repeat(250) });
    });

    it('a refused save makes no version (stale token, bad graph)', async () => {
      const { owner, ws } = await team();
      const wf = await create(owner, graphCalling('/x'), { workspace_id: ws });
      await request(t.url)
        .put(`/api/workflows/${wf.id}`)
        .set(owner.auth)
        .send({ name: wf.name, data: graphCalling('/y'), updated_at: '2001-01-01T00:00:00.000Z' })
        .expect(409);
      await request(t.url)
        .put(`/api/workflows/${wf.id}`)
        .set(owner.auth)
        .send({ name: wf.name, data: { nodes: 'no' }, updated_at: wf.updated_at })
        .expect(400);
      const list = await versions(owner, wf.id).expect(200);
      expect(list.body).toMatchObject({ total: 1, latest: 1 });
    });

    it('answers 400 for a version that is not a positive integer and 404 for one that does not exist', async () => {
      const a = await actor(t.url);
      const wf = await create(a, graphCalling('/n'));
      // Spellings a plain Number() would read as 1 are not version numbers either.
      for (const bad of ['0', '-1', 'abc', '1.5', '99999999999', '1e0', '0x1', '01', '%201']) {
        const res = await version(a, wf.id, bad).expect(400);
        expect(res.body).toMatchObject({ success: false, message: 'Invalid n: expected a version number (1 or more)' });
      }
      const missing = await version(a, wf.id, 7).expect(404);
      expect(missing.body).toMatchObject({ success: false, message: 'Version 7 not found' });
      await diff(a, wf.id, 1, '?against=x').expect(400);
      await diff(a, wf.id, 1, '?against=1e0').expect(400);
    });
  });

  describe('diff', () => {
    it('compares with the version before by default, or with `against`; version 1 with nothing', async () => {
      const a = await actor(t.url);
      const wf = await create(a, graphCalling('/d1'));
      await save(a, wf.id, graphCalling('/d2'), { description: 'now described' });
      await save(a, wf.id, graphCalling('/d3'), { description: 'now described' });

      const byDefault = await diff(a, wf.id, 3).expect(200);
      expect(byDefault.body).toEqual({
        success: true,
        from: 2,
        to: 3,
        diffs: [{ path: 'nodes[1].data.params.url', from: `${target.url}/d2`, to: `${target.url}/d3` }],
      });
      const against = await diff(a, wf.id, 3, '?against=1').expect(200);
      expect(against.body.from).toBe(1);
      expect(against.body.diffs).toEqual([
        { path: 'description', from: null, to: 'now described' },
        { path: 'nodes[1].data.params.url', from: `${target.url}/d1`, to: `${target.url}/d3` },
      ]);
      const first = await diff(a, wf.id, 1).expect(200);
      expect(first.body.from).toBeNull();
      expect(first.body.diffs[0]).toEqual({ path: 'name', from: null, to: wf.name });
      expect(first.body.diffs).toContainEqual({ path: 'nodes[1].data.params.url', from: null, to: `${target.url}/d1` });
      await diff(a, wf.id, 3, '?against=9').expect(404);
    });

    it('never shows a credential in plaintext (versions, diffs)', async () => {
      const a = await actor(t.url);
      const header = (value: string) => ({ headers: [{ key: 'Authorization', value }] });
      const wf = await create(a, graphCalling('/c', header('Bearer first-secret-value-1')));
      // Credentials under keys of other shapes: one with a dash, one under a sensitive parent.
      await save(
        a,
        wf.id,
        graphCalling('/c', {
          ...header('Bearer second-secret-value-2'),
          'api-key': 'dashed-key-value-3',
          secrets: { prod: 'nested-secret-value-4' },
        }),
      );
      const bodies = [
        (await version(a, wf.id, 1).expect(200)).body,
        (await version(a, wf.id, 2).expect(200)).body,
        (await diff(a, wf.id, 2).expect(200)).body,
        (await diff(a, wf.id, 1).expect(200)).body,
        (await versions(a, wf.id).expect(200)).body,
      ];
      for (const body of bodies) {
        for (const plain of [
          'first-secret-value-1',
          'second-secret-value-2',
          'dashed-key-value-3',
          'nested-secret-value-4',
        ])
          expect(JSON.stringify(body)).not.toContain(plain);
      }
      // Still a change the diff reports, masked.
      expect((await diff(a, wf.id, 2).expect(200)).body.diffs).toContainEqual({
        path: 'nodes[1].data.params.api-key',
        from: null,
        to: '********',
      });
    });
  });

  describe('restore', () => {
    it('makes a new version equal to the one restored, with optimistic concurrency as PUT', async () => {
      const { owner, ws } = await team();
      const wf = await create(owner, graphCalling('/r1'), { workspace_id: ws });
      const v2 = await save(owner, wf.id, graphCalling('/r2'), { name: `${wf.name} v2` });

      // A stale or missing token is the 409 with the current copy, and writes nothing.
      const stale = await restore(owner, wf.id, 1, { updated_at: wf.updated_at }).expect(409);
      expect(stale.body.workflow).toMatchObject({ id: wf.id, version: 2, name: `${wf.name} v2` });
      await restore(owner, wf.id, 1, {}).expect(409);
      expect((await versions(owner, wf.id).expect(200)).body.total).toBe(2);

      const restored = await restore(owner, wf.id, 1, { updated_at: v2.updated_at }).expect(200);
      expect(restored.body.workflow).toMatchObject({ version: 3, name: wf.name, data: graphCalling('/r1') });
      const latest = (await versions(owner, wf.id, '?per_page=1').expect(200)).body.versions[0];
      expect(latest).toMatchObject({ number: 3, summary: 'Restored version 1', restored_from: 1 });
      const got = await request(t.url).get(`/api/workflows/${wf.id}`).set(owner.auth).expect(200);
      expect(got.body.workflow).toMatchObject({ version: 3, data: graphCalling('/r1') });
      expect((await diff(owner, wf.id, 3, '?against=1').expect(200)).body.diffs).toEqual([]);

      await restore(owner, wf.id, 42, { updated_at: restored.body.workflow.updated_at }).expect(404);
    });

    it('a restore whose name is taken now is the 409 of a duplicate name', async () => {
      const a = await actor(t.url);
      const wf = await create(a, graphCalling('/dup'));
      const v2 = await save(a, wf.id, graphCalling('/dup'), { name: `${wf.name} moved` });
      await create(a, graphCalling('/other'), { name: wf.name });
      const res = await restore(a, wf.id, 1, { updated_at: v2.updated_at }).expect(409);
      expect(res.body.message).toBe('A workflow with this name already exists');
    });
  });

  describe('access', () => {
    it('viewers read versions but may not restore; outsiders and removed members see nothing', async () => {
      const { owner, viewer, user, outsider, ws } = await team();
      const wf = await create(owner, graphCalling('/acc'), { workspace_id: ws });
      await versions(viewer, wf.id).expect(200);
      await version(viewer, wf.id, 1).expect(200);
      await diff(viewer, wf.id, 1).expect(200);
      await restore(viewer, wf.id, 1, { updated_at: wf.updated_at }).expect(403);
      for (const res of [
        await versions(outsider, wf.id),
        await version(outsider, wf.id, 1),
        await diff(outsider, wf.id, 1),
        await restore(outsider, wf.id, 1, { updated_at: wf.updated_at }),
      ]) {
        expect(res.status).toBe(404);
        expect(res.body.message).toBe('Workflow not found');
      }
      await versions(user, wf.id).expect(200);
      await request(t.url).delete(`/api/workspaces/${ws}/members/${user.userId}`).set(owner.auth).expect(200);
      await versions(user, wf.id).expect(404);
    });
  });

  describe('retention by plan', () => {
    it(`a Solo workflow keeps its newest ${SOLO_VERSION_RETENTION} versions`, async () => {
      const a = await actor(t.url);
      const wf = await create(a, graphCalling('/keep/0'));
      for (let i = 1; i <= SOLO_VERSION_RETENTION + 1; i++) await save(a, wf.id, graphCalling(`/keep/${i}`));
      const latest = SOLO_VERSION_RETENTION + 2;
      const list = await versions(a, wf.id, '?per_page=100').expect(200);
      expect(list.body.total).toBe(SOLO_VERSION_RETENTION);
      expect(list.body.latest).toBe(latest);
      expect(list.body.versions.map((v: { number: number }) => v.number)).toEqual(
        Array.from({ length: SOLO_VERSION_RETENTION }, (_, i) => latest - i),
      );
      await version(a, wf.id, 2).expect(404);
      await version(a, wf.id, 3).expect(200);
    });
  });

  describe('runs record their version; rerun on the same or the latest', () => {
    it('a run answers the version it ran; rerun defaults to the same graph, "latest" runs the current one', async () => {
      const a = await actor(t.url);
      const wf = await create(a, graphCalling('/ran/v1'));
      const first = (await request(t.url).post(`/api/workflows/${wf.id}/run`).set(a.auth).expect(202)).body.run;
      expect(first.version).toBe(1);
      expect((await finished(a, wf.id, first.id)).status).toBe('succeeded');
      await save(a, wf.id, graphCalling('/ran/v2'));

      const same = await request(t.url)
        .post(`/api/workflows/${wf.id}/runs/${first.id}/rerun`)
        .set(a.auth)
        .send({})
        .expect(202);
      expect(same.body.run.version).toBe(1);
      expect((await finished(a, wf.id, same.body.run.id)).status).toBe('succeeded');
      expect(target.count('/ran/v1')).toBe(2);

      const latest = await request(t.url)
        .post(`/api/workflows/${wf.id}/runs/${first.id}/rerun`)
        .set(a.auth)
        .send({ version: 'latest' })
        .expect(202);
      expect(latest.body.run.version).toBe(2);
      const done = await finished(a, wf.id, latest.body.run.id);
      expect(done).toMatchObject({ status: 'succeeded', version: 2 });
      expect(target.count('/ran/v2')).toBe(1);
      const listed = await request(t.url).get(`/api/workflows/${wf.id}/runs`).set(a.auth).expect(200);
      expect(listed.body.runs.map((r: { version: number }) => r.version)).toEqual([2, 1, 1]);

      const bad = await request(t.url)
        .post(`/api/workflows/${wf.id}/runs/${first.id}/rerun`)
        .set(a.auth)
        .send({ version: 'newest' })
        .expect(400);
      expect(bad.body.message).toContain('version must be "same" or "latest"');
      await request(t.url)
        .post(`/api/workflows/${wf.id}/runs/${first.id}/rerun-from-failed`)
        .set(a.auth)
        .send({ version: 'latest' })
        .expect(400);
    });
  });

  /** A workspace-plan workspace with an owner, a user, a viewer, and an outsider. */
  async function team() {
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const [user, viewer, outsider] = await Promise.all([actor(t.url), actor(t.url), actor(t.url)]);
    await addMember(t.url, owner, ws, user, 'user');
    await addMember(t.url, owner, ws, viewer, 'viewer');
    return { owner, user, viewer, outsider, ws };
  }
});
