import request from 'supertest';
import { WORKFLOW_ACTIONS, WorkflowAction } from '../src/workflows/workflow-access';
import { Db } from '../src/database/db.service';
import { WorkflowScheduleEntity } from '../src/database/entities/workflow-schedule.entity';
import { createTestApp, TestApp } from './utils/app';
import { Actor, actor, addMember, createWorkflow, graph, trigger, upgrade } from './factories/workflow.factory';

/**
 * The access matrix of SECURITY.md, cell by cell: every role against a route of every action, on
 * a fresh workflow each time (the probes change what they touch).
 */
describe('workflow access matrix (role × action)', () => {
  let t: TestApp;
  let owner: Actor, admin: Actor, user: Actor, viewer: Actor, creator: Actor, removed: Actor, outsider: Actor;
  let ws: string;

  beforeAll(async () => {
    t = await createTestApp();
    owner = await actor(t.url);
    ws = await upgrade(t.url, owner);
    [admin, user, viewer, creator, removed, outsider] = await Promise.all(
      Array.from({ length: 6 }, () => actor(t.url)),
    );
    await addMember(t.url, owner, ws, admin, 'admin');
    await addMember(t.url, owner, ws, user, 'user');
    await addMember(t.url, owner, ws, viewer, 'viewer');
    await addMember(t.url, owner, ws, creator, 'user');
    await addMember(t.url, owner, ws, removed, 'user');
  });
  afterAll(() => t.close());

  const triggerOnly = () => graph([trigger()]);

  /** A workflow `author` created in the workspace, with one finished run. */
  async function fixture(author: Actor, workspace: string | null = ws) {
    const wf = await createWorkflow(t.url, author, triggerOnly(), workspace ?? undefined);
    const run = (await request(t.url).post(`/api/workflows/${wf.id}/run`).set(author.auth).send({}).expect(202)).body
      .run;
    return { wf, run };
  }

  /** The routes that take the client's plan context (`?workspace=`), as the web client sends it. */
  const inContext = (wf: { id: string; workspace_id?: string | null }, suffix = '') =>
    `/api/workflows/${wf.id}${suffix}${wf.workspace_id ? `?workspace=${wf.workspace_id}` : ''}`;
  type Probe = { label: string; call: (a: Actor, f: Awaited<ReturnType<typeof fixture>>) => request.Test };
  const get = (path: string) => (a: Actor) => request(t.url).get(path).set(a.auth);
  const PROBES: Record<WorkflowAction, Probe[]> = {
    read: [
      { label: 'GET /:id', call: (a, { wf }) => get(inContext(wf))(a) },
      { label: 'GET /:id/runs', call: (a, { wf }) => get(`/api/workflows/${wf.id}/runs`)(a) },
      { label: 'GET /:id/runs/:run', call: (a, { wf, run }) => get(`/api/workflows/${wf.id}/runs/${run.id}`)(a) },
      { label: 'GET /:id/logs', call: (a, { wf }) => get(`/api/workflows/${wf.id}/logs`)(a) },
      { label: 'GET /:id/egress', call: (a, { wf }) => get(`/api/workflows/${wf.id}/egress`)(a) },
    ],
    run: [
      {
        label: 'POST /:id/run',
        call: (a, { wf }) => request(t.url).post(`/api/workflows/${wf.id}/run`).set(a.auth).send({}),
      },
      {
        label: 'POST /:id/runs/:run/rerun',
        call: (a, { wf, run }) =>
          request(t.url).post(`/api/workflows/${wf.id}/runs/${run.id}/rerun`).set(a.auth).send({}),
      },
      {
        label: 'POST /:id/runs/cancel-all',
        call: (a, { wf }) => request(t.url).post(`/api/workflows/${wf.id}/runs/cancel-all`).set(a.auth),
      },
      { label: 'GET /:id/webhook-url', call: (a, { wf }) => get(`/api/workflows/${wf.id}/webhook-url`)(a) },
      { label: 'GET /:id/webhook/config', call: (a, { wf }) => get(`/api/workflows/${wf.id}/webhook/config`)(a) },
    ],
    edit: [
      {
        label: 'PUT /:id',
        call: (a, { wf }) =>
          request(t.url)
            .put(inContext(wf))
            .set(a.auth)
            .send({ name: `edited ${wf.id}`, data: triggerOnly(), updated_at: wf.updated_at }),
      },
    ],
    configure: [
      {
        label: 'POST /:id/concurrency',
        call: (a, { wf }) => request(t.url).post(`/api/workflows/${wf.id}/concurrency`).set(a.auth).send({ limit: 1 }),
      },
      {
        label: 'POST /:id/egress',
        call: (a, { wf }) => request(t.url).post(`/api/workflows/${wf.id}/egress`).set(a.auth).send({ allowlist: [] }),
      },
      { label: 'GET /:id/egress/blocks', call: (a, { wf }) => get(`/api/workflows/${wf.id}/egress/blocks`)(a) },
      { label: 'GET /:id/dead-letters', call: (a, { wf }) => get(`/api/workflows/${wf.id}/dead-letters`)(a) },
      {
        label: 'POST /:id/lock',
        call: (a, { wf }) => request(t.url).post(inContext(wf, '/lock')).set(a.auth),
      },
      {
        label: 'POST /:id/webhook/config',
        call: (a, { wf }) =>
          request(t.url)
            .post(`/api/workflows/${wf.id}/webhook/config`)
            .set(a.auth)
            .send({ require_hmac: false, replay_window_sec: 300 }),
      },
      {
        label: 'POST /:id/webhook/regenerate',
        call: (a, { wf }) => request(t.url).post(`/api/workflows/${wf.id}/webhook/regenerate`).set(a.auth),
      },
    ],
    delete: [{ label: 'DELETE /:id', call: (a, { wf }) => request(t.url).delete(inContext(wf)).set(a.auth) }],
    reassign: [
      {
        label: 'PUT /:id/owner',
        call: (a, { wf }) =>
          request(t.url).put(`/api/workflows/${wf.id}/owner`).set(a.auth).send({ user_id: admin.userId }),
      },
    ],
  };

  /** ✓ allowed, 403 seen but refused, 404 not seen at all. */
  type Cell = '✓' | 403 | 404;
  const row = (cells: Partial<Record<WorkflowAction, Cell>>, rest: Cell): Record<WorkflowAction, Cell> =>
    Object.fromEntries(WORKFLOW_ACTIONS.map((a) => [a, cells[a] ?? rest])) as Record<WorkflowAction, Cell>;
  const WORKSPACE_MATRIX: [string, () => Actor, Record<WorkflowAction, Cell>][] = [
    ['workspace owner', () => owner, row({}, '✓')],
    ['admin', () => admin, row({}, '✓')],
    // The workflow is the workspace's: its creator has a user's rights like any other user.
    ['user (its creator)', () => creator, row({ read: '✓', run: '✓', edit: '✓' }, 403)],
    ['user', () => user, row({ read: '✓', run: '✓', edit: '✓' }, 403)],
    ['viewer', () => viewer, row({ read: '✓' }, 403)],
    ['outsider', () => outsider, row({}, 404)],
  ];

  const expectCell = async (res: request.Response, cell: Cell, where: string) => {
    const ok = res.status >= 200 && res.status < 300;
    const got: Cell | number = ok ? '✓' : res.status;
    expect({ where, got, body: ok ? undefined : res.body }).toEqual({
      where,
      got: cell,
      body: ok ? undefined : expect.objectContaining({ success: false }),
    });
  };

  describe.each(WORKSPACE_MATRIX)('a workspace workflow, as %s', (_name, who, cells) => {
    it.each([...WORKFLOW_ACTIONS])('%s', async (action) => {
      for (const probe of PROBES[action]) {
        const f = await fixture(creator);
        await expectCell(await probe.call(who(), f), cells[action], `${action}: ${probe.label}`);
      }
    });
  });

  // Solo allows three personal workflows: each probe gets a new author.
  describe.each([
    ['its creator', (author: Actor) => author, row({ reassign: 403 }, '✓')],
    ['anyone else', () => owner, row({}, 404)],
  ] as [string, (author: Actor) => Actor, Record<WorkflowAction, Cell>][])(
    'a personal workflow, as %s',
    (_name, who, cells) => {
      it.each([...WORKFLOW_ACTIONS])('%s', async (action) => {
        for (const probe of PROBES[action]) {
          const author = await actor(t.url);
          const f = await fixture(author, null);
          await expectCell(await probe.call(who(author), f), cells[action], `${action}: ${probe.label}`);
        }
      });
    },
  );

  it('a removed member loses their own workflows at once; the owner deletes them', async () => {
    const { wf } = await fixture(removed);
    const other = await fixture(creator);
    await request(t.url).get(inContext(wf)).set(removed.auth).expect(200);
    await request(t.url).delete(`/api/workspaces/${ws}/members/${removed.userId}`).set(owner.auth).expect(200);

    for (const action of WORKFLOW_ACTIONS) {
      for (const probe of PROBES[action]) {
        await expectCell(await probe.call(removed, { wf, run: other.run }), 404, `${action}: ${probe.label}`);
      }
    }
    const listed = await request(t.url).get('/api/workflows').set(removed.auth).expect(200);
    expect(listed.body.workflows.map((w: { id: string }) => w.id)).not.toContain(wf.id);
    const active = await request(t.url).get('/api/workflows/runs').set(removed.auth).expect(200);
    expect(active.body.runs.filter((r: { workflow_id: string }) => r.workflow_id === wf.id)).toEqual([]);

    await request(t.url).delete(inContext(wf)).set(owner.auth).expect(200);
    await request(t.url).get(inContext(wf)).set(owner.auth).expect(404);
  });

  it('a role change takes effect on the next request', async () => {
    const demoted = await actor(t.url);
    await addMember(t.url, owner, ws, demoted, 'user');
    const { wf } = await fixture(demoted);
    await request(t.url)
      .put(inContext(wf))
      .set(demoted.auth)
      .send({ name: 'before demotion', data: triggerOnly(), updated_at: wf.updated_at })
      .expect(200);

    await request(t.url)
      .put(`/api/workspaces/${ws}/members/${demoted.userId}`)
      .set(owner.auth)
      .send({ role: 'viewer' })
      .expect(200);
    const edit = await request(t.url)
      .put(inContext(wf))
      .set(demoted.auth)
      .send({ name: 'after demotion', data: triggerOnly(), updated_at: wf.updated_at })
      .expect(403);
    expect(edit.body.message).toBe('Workspace viewers cannot modify workflows.');
    const run = await request(t.url).post(`/api/workflows/${wf.id}/run`).set(demoted.auth).send({}).expect(403);
    expect(run.body.message).toBe('Workspace viewers cannot run workflows.');
    await request(t.url).get(inContext(wf)).set(demoted.auth).expect(200);
  });

  it('reassigning: to a member who may edit; the schedule follows; the run uses the new owner', async () => {
    const scheduleConfig = { cron: '0 0 * * * *', timezone: 'UTC' };
    const wf = await createWorkflow(
      t.url,
      creator,
      graph([trigger(), trigger('schedule-1', { triggerType: 'Schedule', scheduleConfig })]),
      ws,
    );
    const scheduleOwner = async () =>
      (await t.app.get(Db).manager.getRepository(WorkflowScheduleEntity).findOneByOrFail({ workflowId: wf.id })).userId;
    expect(await scheduleOwner()).toBe(creator.userId);
    const toViewer = await request(t.url)
      .put(`/api/workflows/${wf.id}/owner`)
      .set(owner.auth)
      .send({ user_id: viewer.userId })
      .expect(400);
    expect(toViewer.body.message).toBe('Workspace viewers cannot own workflows; change their role first.');
    const toOutsider = await request(t.url)
      .put(`/api/workflows/${wf.id}/owner`)
      .set(owner.auth)
      .send({ user_id: outsider.userId })
      .expect(400);
    expect(toOutsider.body.message).toBe('The new owner must be a member of the workspace.');
    await request(t.url).put(`/api/workflows/${wf.id}/owner`).set(owner.auth).send({ user_id: 'nope' }).expect(400);

    const done = await request(t.url)
      .put(`/api/workflows/${wf.id}/owner`)
      .set(admin.auth)
      .send({ user_id: user.userId })
      .expect(200);
    expect(done.body.workflow.user_id).toBe(user.userId);
    expect(await scheduleOwner()).toBe(user.userId);
    const run = (await request(t.url).post(`/api/workflows/${wf.id}/run`).set(user.auth).send({}).expect(202)).body.run;
    expect(run.user_id).toBe(user.userId);
  });
});
