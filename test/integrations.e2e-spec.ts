import request from 'supertest';
import { createTestApp, TestApp } from './utils/app';
import { Browser, signupAndLogin } from './factories/user.factory';

/**
 * OAuth connections and provider lookups as the DSentr web client makes them (Settings →
 * Integrations, the Connect button, node panels), on a server with no OAuth provider configured:
 * empty lists, a Connect navigation that comes back to the dashboard with the reason, and JSON
 * refusals whose `message` the client shows.
 */
describe('integrations without an OAuth provider (the web client’s Integrations tab and node panels)', () => {
  let t: TestApp;
  const WEB_APP = 'https://app.runloom.test/console';
  const PROVIDERS = ['google', 'microsoft', 'slack', 'asana', 'notion'] as const;
  const LABELS = { google: 'Google', microsoft: 'Microsoft', slack: 'Slack', asana: 'Asana', notion: 'Notion' };
  const EMPTY = { google: [], microsoft: [], slack: [], asana: [], notion: [] };
  const CONNECTION = '0b7d3c1e-8f2a-4b6c-9d0e-1f2a3b4c5d6e';

  /** A workspace-plan owner with a member of each other role, all signed in with cookies. */
  let owner: Browser;
  let admin: Browser;
  let user: Browser;
  let viewer: Browser;
  let soloUser: Browser;
  let outsider: Browser;
  let ws: string;
  let soloWs: string;

  beforeAll(async () => {
    t = await createTestApp({ RUNLOOM_ROLES: 'api', PUBLIC_URL: WEB_APP });
    owner = await signupAndLogin(t.url);
    ws = (
      await owner.agent
        .post('/api/workspaces/plan')
        .set('x-csrf-token', owner.csrf)
        .send({ plan_tier: 'workspace', workspace_name: 'Integrators' })
        .expect(200)
    ).body.workspace.id;
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
    admin = await join('admin');
    user = await join('user');
    viewer = await join('viewer');
    soloUser = await signupAndLogin(t.url);
    soloWs = (soloUser.body.memberships as { workspace: { id: string } }[])[0].workspace.id;
    outsider = await signupAndLogin(t.url);
  });
  afterAll(() => t.close());

  const envelope = (message: string, code: string) => ({ success: false, status: 'error', message, code });

  describe('C1 GET /api/oauth/connections?workspace=', () => {
    it('every member, of any role or plan, gets the well-formed empty lists', async () => {
      const cases: [Browser, string][] = [
        [owner, ws],
        [admin, ws],
        [user, ws],
        [viewer, ws],
        [soloUser, soloWs],
      ];
      for (const [who, workspace] of cases) {
        const res = await who.agent.get(`/api/oauth/connections?workspace=${workspace}`).expect(200);
        expect(res.body).toEqual({
          success: true,
          personal: EMPTY,
          workspace: EMPTY,
          slack: { has_personal_auth: false, personal_auth_connected_at: null },
        });
      }
    });

    it('refuses non-members, and a workspace that is missing or not an id (the client sends "null")', async () => {
      const res = await outsider.agent.get(`/api/oauth/connections?workspace=${ws}`).expect(403);
      expect(res.body).toEqual(envelope('Workspace membership required', 'forbidden'));
      expect(res.text).not.toContain('Integrators');
      const missing = await owner.agent.get('/api/oauth/connections').expect(400);
      expect(missing.body).toEqual(envelope('Invalid request: workspace is required', 'invalid_request'));
      const literalNull = await owner.agent.get('/api/oauth/connections?workspace=null').expect(400);
      expect(literalNull.body).toEqual(envelope('Invalid request: workspace must be a UUID', 'invalid_request'));
      await request(t.url).get(`/api/oauth/connections?workspace=${ws}`).expect(401);
    });
  });

  describe('C2 GET /api/oauth/:provider/start (a browser navigation)', () => {
    /** The navigation; the dashboard reads `connected`, `provider` and `error` from where it lands. */
    const connect = async (who: Browser, provider: string, query: string) => {
      const res = await who.agent.get(`/api/oauth/${provider}/start${query}`).redirects(0).expect(303);
      const location = new URL(res.headers.location);
      expect(`${location.origin}${location.pathname}`).toBe(`${WEB_APP}/dashboard`);
      return location.searchParams;
    };

    it('past the workspace checks, comes back with "not configured" for each provider', async () => {
      for (const provider of PROVIDERS) {
        const q = await connect(owner, provider, `?workspace=${ws}`);
        expect(Object.fromEntries(q)).toEqual({
          connected: 'false',
          provider,
          error: `${LABELS[provider]} integration is not configured on this server.`,
          // Slack's dashboard handling also takes the workspace back.
          ...(provider === 'slack' ? { workspace: ws } : {}),
        });
      }
      // Spaces travel as %20, as the original's redirects did.
      const raw = await owner.agent.get(`/api/oauth/google/start?workspace=${ws}`).redirects(0).expect(303);
      expect(raw.headers.location).toContain('error=Google%20integration%20is%20not%20configured');
      // Slack's personal authorisation of a workspace connection lands the same way.
      const slack = await connect(admin, 'slack', `?workspace=${ws}&workspaceConnectionId=${CONNECTION}`);
      expect(slack.get('error')).toBe('Slack integration is not configured on this server.');
      expect((await connect(owner, 'asana', '')).get('error')).toBe(
        'Asana integration is not configured on this server.',
      );
    });

    it('refuses viewers, Solo-plan workspaces and non-members with a redirect, never JSON', async () => {
      const cases: [Browser, string, string][] = [
        [viewer, `?workspace=${ws}`, 'Workspace viewers cannot connect OAuth accounts for this workspace.'],
        [
          soloUser,
          `?workspace=${soloWs}`,
          'OAuth integrations are available on workspace plans and above. Upgrade to connect accounts.',
        ],
        [outsider, `?workspace=${ws}`, 'You do not have access to this workspace.'],
        [owner, '?workspace=null', 'You do not have access to this workspace.'],
        [owner, `?workspace=${ws}&workspace=${ws}`, 'You do not have access to this workspace.'],
      ];
      for (const [who, query, error] of cases) {
        const q = await connect(who, 'google', query);
        expect(Object.fromEntries(q)).toEqual({ connected: 'false', provider: 'google', error });
      }
    });

    it('without a session: the 401 envelope (as the original); an unknown provider: 400', async () => {
      const anonymous = await request(t.url).get(`/api/oauth/google/start?workspace=${ws}`).redirects(0).expect(401);
      expect(anonymous.body).toEqual(envelope('Session is required', 'unauthorized'));
      const unknown = await owner.agent.get(`/api/oauth/dropbox/start?workspace=${ws}`).redirects(0).expect(400);
      expect(unknown.body).toEqual(
        envelope('Invalid request: provider must be one of google, microsoft, slack, asana, notion', 'invalid_request'),
      );
    });
  });

  describe('C3 refresh, C4 disconnect', () => {
    const notConfigured = (provider: keyof typeof LABELS) =>
      envelope(`${LABELS[provider]} integration is not configured on this server.`, 'integration_not_configured');

    it('name a connection that cannot exist: 404 with the message the tab shows', async () => {
      for (const provider of PROVIDERS) {
        // The client's refresh: the id in the query, the CSRF header, no body.
        const refreshed = await owner.agent
          .post(`/api/oauth/${provider}/refresh?connection_id=${CONNECTION}`)
          .set('x-csrf-token', owner.csrf)
          .expect(404);
        expect(refreshed.body).toEqual(notConfigured(provider));
        const disconnected = await owner.agent
          .delete(`/api/oauth/${provider}/disconnect?connection_id=${CONNECTION}`)
          .set('x-csrf-token', owner.csrf)
          .expect(404);
        expect(disconnected.body).toEqual(notConfigured(provider));
      }
      // The id may come in a JSON body instead, which wins over the query.
      const inBody = await owner.agent
        .post('/api/oauth/slack/refresh?connection_id=not-an-id')
        .set('x-csrf-token', owner.csrf)
        .send({ connection_id: CONNECTION })
        .expect(400);
      expect(inBody.body.message).toBe('Invalid request: connection_id must be a UUID');
      const bodyOnly = await owner.agent
        .post('/api/oauth/slack/refresh')
        .set('x-csrf-token', owner.csrf)
        .send({ connection_id: CONNECTION })
        .expect(404);
      expect(bodyOnly.body).toEqual(notConfigured('slack'));
    });

    it('refuses bad input with 400, and cookie writes without the CSRF header with 403', async () => {
      const cases: [string, string, string][] = [
        ['post', '/api/oauth/google/refresh', 'connection_id is required'],
        ['delete', '/api/oauth/google/disconnect', 'connection_id is required'],
        ['delete', '/api/oauth/google/disconnect?connection_id=42', 'Invalid request: connection_id must be a UUID'],
        [
          'post',
          `/api/oauth/github/refresh?connection_id=${CONNECTION}`,
          'Invalid request: provider must be one of google, microsoft, slack, asana, notion',
        ],
      ];
      for (const [method, path, message] of cases) {
        const res = await (method === 'post' ? owner.agent.post(path) : owner.agent.delete(path)).set(
          'x-csrf-token',
          owner.csrf,
        );
        expect({ path, status: res.status, body: res.body }).toEqual({
          path,
          status: 400,
          body: envelope(message, 'invalid_request'),
        });
      }
      await owner.agent.post(`/api/oauth/google/refresh?connection_id=${CONNECTION}`).expect(403);
      await owner.agent.delete(`/api/oauth/google/disconnect?connection_id=${CONNECTION}`).expect(403);
    });
  });

  describe('C5 promote, C6 remove a workspace connection', () => {
    const promote = (who: Browser, workspace: string, body: Record<string, unknown>) =>
      who.agent.post(`/api/workspaces/${workspace}/connections/promote`).set('x-csrf-token', who.csrf).send(body);
    const remove = (who: Browser, workspace: string) =>
      who.agent.delete(`/api/workspaces/${workspace}/connections/${CONNECTION}`).set('x-csrf-token', who.csrf);

    it('admins and the owner reach the refusal the tab shows; others are refused first', async () => {
      const body = { provider: 'notion', user_oauth_token_id: CONNECTION };
      for (const who of [owner, admin]) {
        const res = await promote(who, ws, body).expect(404);
        expect(res.body).toEqual(
          envelope('Notion integration is not configured on this server.', 'integration_not_configured'),
        );
        // No `workspace_connection_id`: the client counts the call as failed and shows `message`.
        expect(res.body).not.toHaveProperty('workspace_connection_id');
        expect((await remove(who, ws).expect(404)).body).toEqual(
          envelope('Workspace connection not found', 'not_found'),
        );
      }
      for (const who of [user, viewer]) {
        expect((await promote(who, ws, body).expect(403)).body).toEqual(
          envelope('Admin permissions required', 'forbidden'),
        );
        expect((await remove(who, ws).expect(403)).body).toEqual(envelope('Admin permissions required', 'forbidden'));
      }
      expect((await promote(outsider, ws, body).expect(404)).body).toEqual(
        envelope('Workspace not found', 'not_found'),
      );
      expect((await remove(outsider, ws).expect(404)).body).toEqual(envelope('Workspace not found', 'not_found'));
    });

    it('refuses bad input with 400 naming the field', async () => {
      const res = await promote(owner, ws, { provider: 'dropbox', user_oauth_token_id: 'x' }).expect(400);
      expect(res.body.message).toBe(
        'Invalid request: provider must be one of google, microsoft, slack, asana, notion; user_oauth_token_id must be a UUID',
      );
      const badId = await owner.agent
        .delete(`/api/workspaces/${ws}/connections/not-an-id`)
        .set('x-csrf-token', owner.csrf)
        .expect(400);
      expect(badId.body.message).toBe('Invalid connectionId: expected a UUID');
      await owner.agent.post(`/api/workspaces/${ws}/connections/promote`).send({ provider: 'google' }).expect(403);
    });
  });

  describe('C7 provider lookups of the node panels', () => {
    const LOOKUPS: [keyof typeof LABELS, string][] = [
      ['google', `/api/google/spreadsheets/files?scope=personal&connection_id=${CONNECTION}`],
      ['google', `/api/google/spreadsheets/1BxiMVs0XRA5nFMd/sheets?scope=workspace&connection_id=${CONNECTION}`],
      ['google', `/api/google/token?scope=personal&connection_id=${CONNECTION}`],
      ['microsoft', `/api/microsoft/teams?scope=workspace&connection_id=${CONNECTION}`],
      ['microsoft', `/api/microsoft/teams/team-1/channels?scope=workspace&connection_id=${CONNECTION}`],
      ['microsoft', `/api/microsoft/teams/team-1/channels/19%3Aabc/members?connection_id=${CONNECTION}`],
      ['slack', `/api/slack/channels?workspace_connection_id=${CONNECTION}`],
      ['asana', `/api/asana/workspaces?scope=personal&connection_id=${CONNECTION}`],
      ...['projects', 'tags', 'users', 'teams', 'tasks?project_gid=42&x=1'].map((p): [keyof typeof LABELS, string] => [
        'asana',
        `/api/asana/workspaces/1200/${p}`,
      ]),
      ['asana', '/api/asana/projects/1200/sections'],
      ['asana', '/api/asana/tasks/1200'],
      ['asana', '/api/asana/tasks/1200/stories'],
      ['notion', `/api/integrations/notion/databases?connectionScope=personal&connectionId=${CONNECTION}&pageSize=25`],
      ['notion', `/api/integrations/notion/databases/d9824bdc/schema?connectionScope=workspace&connectionId=x`],
    ];

    it('answer the JSON envelope whose message the panel shows (never an HTML 404 page)', async () => {
      expect(LOOKUPS).toHaveLength(18);
      for (const [provider, path] of LOOKUPS) {
        const res = await user.agent.get(path);
        expect(res.headers['content-type']).toMatch(/application\/json/);
        expect({ path, status: res.status, body: res.body }).toEqual({
          path,
          status: 404,
          body: envelope(
            `${LABELS[provider]} integration is not configured on this server.`,
            'integration_not_configured',
          ),
        });
      }
    });

    it('need a session', async () => {
      const res = await request(t.url).get('/api/slack/channels').expect(401);
      expect(res.body).toEqual(envelope('Session is required', 'unauthorized'));
    });
  });
});
