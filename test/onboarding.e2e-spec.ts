import request from 'supertest';
import { DataSource } from 'typeorm';
import { UserEntity } from '../src/database/entities/user.entity';
import { createTestApp, TestApp } from './utils/app';
import { Browser, signupAndLogin, signupBody } from './factories/user.factory';
import { simpleGraph, uniqueName } from './factories/workflow.factory';

/**
 * The onboarding page and the Plan tab as the DSentr web client uses them: GET /api/workspaces/onboarding
 * (every time the Plan tab opens), POST /api/workspaces/onboarding (the onboarding page's submit),
 * the Plan tab's billing "Resume", and the server-only member revoke. Requests are the client's
 * (cookie session, `x-csrf-token` on writes); each test checks the fields the client reads.
 */
describe('workspace onboarding and plan choice (the web client’s onboarding page and Plan tab)', () => {
  let t: TestApp;
  const PASSWORD = signupBody().password;
  const PLAN_OPTIONS = [
    {
      tier: 'solo',
      name: 'Solo',
      description: 'Build personal automations with a single user account.',
      price: 'Free',
    },
    {
      tier: 'workspace',
      name: 'Workspace',
      description: 'Collaborate with your team inside one shared workspace.',
      price: '€19 per month',
    },
  ];

  beforeAll(async () => {
    t = await createTestApp({ RUNLOOM_ROLES: 'api', WORKSPACE_PLAN_PRICE: '€19 per month' });
  });
  afterAll(() => t.close());

  /** The canvas's save of a new workflow: personal, or in `workspaceId`. */
  const createWorkflow = async (b: Browser, workspaceId?: string, name = uniqueName()) =>
    (
      await b.agent
        .post('/api/workflows')
        .set('x-csrf-token', b.csrf)
        .send({ name, data: simpleGraph(), ...(workspaceId ? { workspace_id: workspaceId } : {}) })
        .expect(201)
    ).body.workflow as { id: string; workspace_id: string | null };
  const onboardingOf = (b: Browser) => b.agent.get('/api/workspaces/onboarding').expect(200);
  const submit = (b: Browser, body: Record<string, unknown>) =>
    b.agent.post('/api/workspaces/onboarding').set('x-csrf-token', b.csrf).send(body);
  const me = async (b: Browser) => (await b.agent.get('/api/auth/me').expect(200)).body;
  const login = (b: Browser) =>
    b.agent
      .post('/api/auth/login')
      .set('x-csrf-token', b.csrf)
      .send({ email: b.user.email, password: PASSWORD, remember: false })
      .expect(200);
  /** An account that has not chosen a plan yet (the state that sends the client to /onboarding). */
  const notOnboarded = async (b: Browser) => {
    await t.app.get(DataSource).getRepository(UserEntity).update({ id: b.user.id }, { onboardedAt: null });
  };
  const soloWorkspaceOf = (b: Browser) => (b.body.memberships as { workspace: { id: string } }[])[0].workspace.id;

  describe('B9 GET /api/workspaces/onboarding', () => {
    it('answers what the onboarding page and the Plan tab read, and is not taken for a workspace id', async () => {
      const b = await signupAndLogin(t.url, { first_name: 'Grace', company_name: 'Hopper Labs' });
      const wf = await createWorkflow(b, undefined, 'Personal one');
      const res = await onboardingOf(b);
      expect(res.headers['content-type']).toMatch(/application\/json/);
      expect(res.body).toEqual({
        success: true,
        user: expect.objectContaining({
          id: b.user.id,
          email: b.user.email,
          first_name: 'Grace',
          last_name: 'Lovelace',
          role: 'user',
          plan: 'solo',
          company_name: 'Hopper Labs',
          oauth_provider: 'email',
          onboarded_at: expect.any(String),
        }),
        workflows: [
          expect.objectContaining({ id: wf.id, name: 'Personal one', description: null, workspace_id: null }),
        ],
        memberships: [
          {
            workspace: expect.objectContaining({ id: soloWorkspaceOf(b), name: 'Hopper Labs', plan: 'solo' }),
            role: 'owner',
          },
        ],
        plan_options: PLAN_OPTIONS,
        billing: {},
      });
    });

    it('changes nothing: a workspace-plan owner opening the Plan tab keeps the plan (no billing → no downgrade)', async () => {
      const b = await signupAndLogin(t.url);
      const upgraded = await b.agent
        .post('/api/workspaces/plan')
        .set('x-csrf-token', b.csrf)
        .send({ plan_tier: 'workspace', workspace_name: 'Paid team' })
        .expect(200);
      const before = { me: await me(b), workspaces: (await b.agent.get('/api/workspaces').expect(200)).body };
      for (let i = 0; i < 3; i++) {
        const res = await onboardingOf(b);
        expect(res.body.user.plan).toBe('workspace');
        expect(res.body.billing).toEqual({});
        expect(res.body.memberships).toEqual(before.workspaces.workspaces);
      }
      expect({ me: await me(b), workspaces: (await b.agent.get('/api/workspaces').expect(200)).body }).toEqual(before);
      expect(before.me.user.plan).toBe('workspace');
      expect(before.workspaces.workspaces[0].workspace).toEqual(upgraded.body.workspace);
    });

    it('lists only workflows the caller owns and can still open', async () => {
      const owner = await signupAndLogin(t.url);
      const team = (
        await submit(owner, { plan_tier: 'workspace', workspace_name: 'Team', shared_workflow_ids: [] }).expect(200)
      ).body.workspace.id as string;
      const member = await signupAndLogin(t.url);
      const invited = await owner.agent
        .post(`/api/workspaces/${team}/invites`)
        .set('x-csrf-token', owner.csrf)
        .send({ email: member.user.email, role: 'user' })
        .expect(200);
      await member.agent.post('/api/invites/accept').send({ token: invited.body.invitation.token }).expect(200);
      const theirs = await createWorkflow(member, team);
      const ownersOwn = await createWorkflow(owner, team);
      expect((await onboardingOf(member)).body.workflows.map((w: { id: string }) => w.id)).toEqual([theirs.id]);
      expect((await onboardingOf(owner)).body.workflows.map((w: { id: string }) => w.id)).toEqual([ownersOwn.id]);
      // Removed, the member keeps nothing of the workspace: its workflows are not theirs to list.
      await owner.agent
        .delete(`/api/workspaces/${team}/members/${member.user.id}`)
        .set('x-csrf-token', owner.csrf)
        .expect(200);
      expect((await onboardingOf(member)).body.workflows).toEqual([]);
    });

    it('needs a session (401 in the envelope)', async () => {
      const anonymous = await request(t.url).get('/api/workspaces/onboarding').expect(401);
      expect(anonymous.body).toEqual(expect.objectContaining({ success: false, code: 'unauthorized' }));
    });
  });

  describe('B10 POST /api/workspaces/onboarding', () => {
    it('workspace plan: upgrades, shares the ticked workflows, and requires_onboarding turns false', async () => {
      const b = await signupAndLogin(t.url, { company_name: 'Analytical Engines' });
      const solo = soloWorkspaceOf(b);
      const personal = await createWorkflow(b, undefined, 'Move me');
      const unticked = await createWorkflow(b, undefined, 'Keep me personal');
      const inSolo = await createWorkflow(b, solo, 'Already there');
      await notOnboarded(b);
      expect((await login(b)).body.requires_onboarding).toBe(true);
      expect((await me(b)).requires_onboarding).toBe(true);

      // The page pre-ticks workflows with a workspace_id; the user ticks one personal workflow too.
      const page = (await onboardingOf(b)).body;
      expect(page.user.onboarded_at).toBeNull();
      const ticked = page.workflows
        .filter((w: { workspace_id: string | null; id: string }) => w.workspace_id !== null || w.id === personal.id)
        .map((w: { id: string }) => w.id);
      expect(ticked.sort()).toEqual([personal.id, inSolo.id].sort());

      const res = await submit(b, {
        plan_tier: 'workspace',
        workspace_name: 'Analytical Engines Workspace',
        shared_workflow_ids: ticked,
      }).expect(200);
      expect(res.body).toEqual({
        success: true,
        plan: 'workspace',
        workspace: expect.objectContaining({ id: solo, name: 'Analytical Engines Workspace', plan: 'workspace' }),
        memberships: [
          {
            workspace: expect.objectContaining({ id: solo, name: 'Analytical Engines Workspace', plan: 'workspace' }),
            role: 'owner',
          },
        ],
        shared_workflows: expect.any(Array),
      });
      expect(res.body).not.toHaveProperty('checkout_url');
      expect(
        res.body.shared_workflows.map((w: { id: string; workspace_id: string }) => [w.id, w.workspace_id]).sort(),
      ).toEqual(
        [
          [personal.id, solo],
          [inSolo.id, solo],
        ].sort(),
      );

      // What the client does next: GET /me, then the dashboard. No loop back to /onboarding.
      const after = await me(b);
      expect(after.requires_onboarding).toBe(false);
      expect(after.user).toEqual(expect.objectContaining({ plan: 'workspace', onboarded_at: expect.any(String) }));
      expect((await login(b)).body.requires_onboarding).toBe(false);
      const moved = await b.agent.get(`/api/workflows/${personal.id}?workspace=${solo}`).expect(200);
      expect(moved.body.workflow.workspace_id).toBe(solo);
      const stayed = await b.agent.get(`/api/workflows/${unticked.id}`).expect(200);
      expect(stayed.body.workflow.workspace_id).toBeNull();
    });

    it('solo plan: onboarded with the workspaces it owns moved back to solo', async () => {
      const b = await signupAndLogin(t.url);
      await b.agent
        .post('/api/workspaces/plan')
        .set('x-csrf-token', b.csrf)
        .send({ plan_tier: 'workspace', workspace_name: 'Was paid' })
        .expect(200);
      await notOnboarded(b);
      const res = await submit(b, { plan_tier: 'solo' }).expect(200);
      expect(res.body).toEqual({
        success: true,
        plan: 'solo',
        workspace: null,
        memberships: [{ workspace: expect.objectContaining({ name: 'Was paid', plan: 'solo' }), role: 'owner' }],
        shared_workflows: [],
      });
      const after = await me(b);
      expect(after.user).toEqual(expect.objectContaining({ plan: 'solo', onboarded_at: expect.any(String) }));
      expect((await login(b)).body.requires_onboarding).toBe(false);
    });

    it('solo plan for someone who owns no workspace: a solo workspace of their own, named as asked', async () => {
      const owner = await signupAndLogin(t.url);
      const other = await signupAndLogin(t.url);
      const ws = soloWorkspaceOf(owner);
      await submit(owner, { plan_tier: 'workspace', workspace_name: 'Handed over' }).expect(200);
      const invited = await owner.agent
        .post(`/api/workspaces/${ws}/invites`)
        .set('x-csrf-token', owner.csrf)
        .send({ email: other.user.email, role: 'admin' })
        .expect(200);
      await other.agent.post('/api/invites/accept').send({ token: invited.body.invitation.token }).expect(200);
      await owner.agent
        .put(`/api/workspaces/${ws}/members/${other.user.id}`)
        .set('x-csrf-token', owner.csrf)
        .send({ role: 'owner' })
        .expect(200);

      const res = await submit(owner, { plan_tier: 'solo', workspace_name: '  My corner  ' }).expect(200);
      expect(res.body.workspace).toEqual(
        expect.objectContaining({ name: 'My corner', plan: 'solo', owner_id: owner.user.id }),
      );
      expect(res.body.memberships).toEqual(
        expect.arrayContaining([
          { workspace: expect.objectContaining({ id: ws }), role: 'admin' },
          { workspace: expect.objectContaining({ id: res.body.workspace.id }), role: 'owner' },
        ]),
      );
    });

    it('the Plan tab’s Solo (POST /api/workspaces/plan) for someone who owns no workspace gives them one', async () => {
      const owner = await signupAndLogin(t.url);
      const other = await signupAndLogin(t.url);
      const ws = soloWorkspaceOf(owner);
      await owner.agent
        .post('/api/workspaces/plan')
        .set('x-csrf-token', owner.csrf)
        .send({ plan_tier: 'workspace', workspace_name: 'Given away' })
        .expect(200);
      const invited = await owner.agent
        .post(`/api/workspaces/${ws}/invites`)
        .set('x-csrf-token', owner.csrf)
        .send({ email: other.user.email, role: 'admin' })
        .expect(200);
      await other.agent.post('/api/invites/accept').send({ token: invited.body.invitation.token }).expect(200);
      await owner.agent
        .put(`/api/workspaces/${ws}/members/${other.user.id}`)
        .set('x-csrf-token', owner.csrf)
        .send({ role: 'owner' })
        .expect(200);
      const res = await owner.agent
        .post('/api/workspaces/plan')
        .set('x-csrf-token', owner.csrf)
        .send({ plan_tier: 'solo' })
        .expect(200);
      expect(res.body.workspace).toEqual(
        expect.objectContaining({ name: "Ada's Workspace", plan: 'solo', owner_id: owner.user.id }),
      );
      expect(res.body.memberships).toHaveLength(2);
    });

    it('a second submission finishes in the same workspace (no duplicate workspace)', async () => {
      const b = await signupAndLogin(t.url);
      const first = (await submit(b, { plan_tier: 'workspace', workspace_name: 'Once' }).expect(200)).body;
      const wf = await createWorkflow(b, undefined, 'Late arrival');
      const second = (
        await submit(b, {
          plan_tier: 'workspace',
          workspace_name: 'Once, renamed',
          shared_workflow_ids: [wf.id],
        }).expect(200)
      ).body;
      expect(second.workspace).toEqual(expect.objectContaining({ id: first.workspace.id, name: 'Once, renamed' }));
      expect(second.memberships).toHaveLength(1);
      expect(second.shared_workflows.map((w: { id: string }) => w.id)).toEqual([wf.id]);
    });

    it('refuses bad input with the messages the page shows, and changes nothing', async () => {
      const b = await signupAndLogin(t.url);
      const wf = await createWorkflow(b);
      const stranger = await signupAndLogin(t.url);
      const theirs = await createWorkflow(stranger);
      await notOnboarded(b);
      const cases: [Record<string, unknown>, number, string][] = [
        [
          { plan_tier: 'workspace', workspace_name: '   ' },
          400,
          'Workspace name is required for this subscription tier',
        ],
        [{ plan_tier: 'workspace' }, 400, 'Workspace name is required for this subscription tier'],
        [
          { plan_tier: 'solo', shared_workflow_ids: [wf.id] },
          400,
          'Solo plans do not support sharing workflows with a workspace',
        ],
        [{ plan_tier: 'enterprise' }, 400, 'Invalid request: plan_tier must be solo or workspace'],
        [
          { plan_tier: 'workspace', workspace_name: 'X', shared_workflow_ids: ['nope'] },
          400,
          'Invalid request: shared_workflow_ids must hold workflow ids (UUIDs)',
        ],
        [
          { plan_tier: 'workspace', workspace_name: 'X', shared_workflow_ids: 'all' },
          400,
          'Invalid request: shared_workflow_ids must be an array of workflow ids',
        ],
        [{ plan_tier: 'workspace', workspace_name: 'X', shared_workflow_ids: [theirs.id] }, 404, 'Workflow not found'],
      ];
      for (const [body, status, message] of cases) {
        const res = await submit(b, body);
        expect({ body, status: res.status, message: res.body.message }).toEqual({ body, status, message });
        expect(res.body.success).toBe(false);
      }
      expect((await b.agent.post('/api/workspaces/onboarding').set('x-csrf-token', b.csrf).send([1])).status).toBe(422);
      // The CSRF header is required (a cookie-authenticated write).
      await b.agent.post('/api/workspaces/onboarding').send({ plan_tier: 'solo' }).expect(403);
      const after = await me(b);
      expect(after.user).toEqual(expect.objectContaining({ plan: 'solo', onboarded_at: null }));
      expect(after.memberships).toEqual(b.body.memberships);
      expect((await b.agent.get(`/api/workflows/${wf.id}`).expect(200)).body.workflow.workspace_id).toBeNull();
    });

    it('a shared workflow whose name is taken in the workspace: 409, nothing changes', async () => {
      const b = await signupAndLogin(t.url);
      const solo = soloWorkspaceOf(b);
      const name = uniqueName('Twin');
      await createWorkflow(b, solo, name);
      const personal = await createWorkflow(b, undefined, name.toUpperCase());
      const res = await submit(b, {
        plan_tier: 'workspace',
        workspace_name: 'Twins',
        shared_workflow_ids: [personal.id],
      }).expect(409);
      expect(res.body).toEqual(
        expect.objectContaining({
          success: false,
          code: 'conflict',
          message: `A workflow named "${name.toUpperCase()}" already exists in the workspace. Rename one of them and try again.`,
        }),
      );
      expect((await me(b)).user.plan).toBe('solo');
      expect((await b.agent.get(`/api/workflows/${personal.id}`).expect(200)).body.workflow.workspace_id).toBeNull();
    });
  });

  describe('B11 POST /api/workspaces/billing/subscription/resume', () => {
    it('no payment provider: 404 with the message the Plan tab shows; no body needed', async () => {
      const b = await signupAndLogin(t.url);
      const res = await b.agent
        .post('/api/workspaces/billing/subscription/resume')
        .set('x-csrf-token', b.csrf)
        .expect(404);
      expect(res.body).toEqual({
        success: false,
        status: 'error',
        message: 'There is no subscription to resume: this server has no billing provider.',
        code: 'not_found',
      });
      await b.agent.post('/api/workspaces/billing/subscription/resume').expect(403);
    });
  });

  describe('B12 POST /api/workspaces/:id/revoke (server only: the client never calls it)', () => {
    it('removes a member like DELETE members/:userId, with its rules', async () => {
      const owner = await signupAndLogin(t.url);
      const ws = (await submit(owner, { plan_tier: 'workspace', workspace_name: 'Revokers' }).expect(200)).body
        .workspace.id as string;
      const join = async (role: string) => {
        const who = await signupAndLogin(t.url);
        const invited = await owner.agent
          .post(`/api/workspaces/${ws}/invites`)
          .set('x-csrf-token', owner.csrf)
          .send({ email: who.user.email, role })
          .expect(200);
        await who.agent.post('/api/invites/accept').send({ token: invited.body.invitation.token }).expect(200);
        return who;
      };
      const user = await join('user');
      const admin = await join('admin');
      const revoke = (by: Browser, body: Record<string, unknown>) =>
        by.agent.post(`/api/workspaces/${ws}/revoke`).set('x-csrf-token', by.csrf).send(body);

      expect((await revoke(user, { member_id: admin.user.id })).body.message).toBe('Admin permissions required');
      expect((await revoke(admin, { member_id: owner.user.id })).status).toBe(400);
      expect((await revoke(admin, { member_id: owner.user.id })).body.message).toBe(
        'The workspace owner cannot be removed',
      );
      expect((await revoke(admin, { member_id: '6f1c1b9e-3f7a-4d33-9c55-1b0e2f0a9a10' })).status).toBe(404);
      expect((await revoke(admin, { reason: 'no id' })).body.message).toBe('Invalid request: member_id is required');

      const res = await revoke(admin, { member_id: user.user.id, reason: 'Left the team' }).expect(200);
      expect(res.body).toEqual({ success: true });
      const members = (await owner.agent.get(`/api/workspaces/${ws}/members`).expect(200)).body.members;
      expect(members.map((m: { user_id: string }) => m.user_id)).not.toContain(user.user.id);
      // Their last workspace gone, the revoked member gets a solo one (as after a removal).
      expect((await me(user)).memberships).toEqual([
        { workspace: expect.objectContaining({ plan: 'solo', owner_id: user.user.id }), role: 'owner' },
      ]);
    });
  });
});
