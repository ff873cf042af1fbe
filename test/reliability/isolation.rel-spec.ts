import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { createTestApp, TestApp } from '../utils/app';
import {
  Actor,
  actor,
  addMember,
  createWorkflow,
  simpleGraph,
  uniqueName,
  upgrade,
} from '../factories/workflow.factory';
import { signupBody } from '../factories/user.factory';
import { Outcome, send } from './reliability-utils';

/**
 * Tenant isolation: every documented route × {anonymous, other user, other workspace, viewer,
 * member, owner, removed member}, aimed at another tenant's resources → only the statuses the
 * route documents for an outsider (401 anonymous; 403/404 otherwise), nothing of the other tenant
 * in any body, and the other tenant's data unchanged afterwards.
 *
 * The callers: "other user" is a solo user; "other workspace" is the owner of workspace B acting in
 * B's context; viewer, member and owner of workspace B name the victim's workspace in `?workspace=`;
 * "removed member" was an admin of the victim's workspace, created a workflow there, and was removed.
 * What members of the victim's own workspace may do, role by role, is test/access.e2e-spec.ts.
 */
/** Path parameters that name the victim's resources (group/service/name of a secret name the caller's own store). */
const VICTIM_PARAMS = /\{(id|runId|deadId|logId|keyId|userId|inviteId|ws|token|n|nid|did)\}/;

const CALLERS = ['anonymous', 'other user', 'other workspace', 'viewer', 'member', 'owner', 'removed member'] as const;
type Caller = (typeof CALLERS)[number];

/** Routes with no tenant resource to aim at: public, or only about the caller. */
const PUBLIC = new Set([
  'GET /healthz',
  'GET /readyz',
  'POST /api/auth/signup',
  'POST /api/auth/login',
  'POST /api/auth/logout',
  'GET /api/auth/csrf-token',
  // Social login buttons (page navigations): a redirect to the login page, the same for everyone.
  'GET /api/auth/google-login',
  'GET /api/auth/github-login',
  // E-mailed links: the only input is an address (same answer for all) or the link's own token.
  'POST /api/auth/resend-verification',
  'POST /api/auth/verify',
  'POST /api/auth/forgot-password',
  'POST /api/auth/reset-password',
  // Operations: metrics carry no tenant data (METRICS_TOKEN may close them); the page signs in by itself.
  'GET /metrics',
  'GET /monitor',
  'GET /monitor/{file}',
]);

/** Authenticated by the secret token in the path, not by a caller: anyone with a wrong token gets 404. */
const TOKEN_ROUTES = /\/trigger\/\{token\}|^\/api\/invites\/\{token\}$|^\/api\/auth\/verify-reset-token\/\{token\}$/;

/**
 * Browser navigations for signed-in callers (the Connect button): every answer, a refusal
 * included, is a 303 back to the web app with the reason in its query, never the workspace's data.
 */
const NAVIGATIONS = new Set(['GET /api/oauth/{provider}/start']);

/** An OAuth connection id: none exists (no provider is configured), whoever asks. */
const NO_SUCH_CONNECTION = '0b7d3c1e-8f2a-4b6c-9d0e-1f2a3b4c5d6e';

/** Required query parameters besides `workspace`, so a refusal is about who asks, not what they sent. */
const QUERIES: Record<string, string> = {
  'DELETE /api/oauth/{provider}/disconnect': `connection_id=${NO_SUCH_CONNECTION}`,
};

/**
 * Routes about the caller's own account whose answer depends on it, not on the victim: deleting an
 * account is refused (409) while it owns a workspace with other members, as workspace B's owner does.
 */
const OWN_ACCOUNT: Record<string, number[]> = { 'POST /api/account/delete/request': [409] };

/**
 * `?workspace=` here selects the caller's own per-workspace setting (docs/contract.md §2.16, §8.7), not a
 * tenant's resource: it answers the caller's own value and shows nothing of the workspace.
 */
const CALLER_ONLY = new Set(['GET /api/options/user-settings']);

interface OpenApi {
  paths: Record<
    string,
    Record<string, { parameters?: { in: string; name: string }[]; responses: Record<string, unknown> }>
  >;
}

describe('tenant isolation: every route × seven callers against another tenant', () => {
  let t: TestApp;
  let victim: Actor;
  let victimWs: string;
  let victimData: Record<string, string>;
  let ids: Record<string, string>;
  let callers: Record<Exclude<Caller, 'anonymous'>, Actor>;
  /** Each caller's own e-mail (account routes confirm with it). */
  let emails: Partial<Record<Caller, string>>;
  let bWs: string;
  /** The link token of the victim's pending invitation: outsiders try to answer it. */
  let inviteToken: string;

  beforeAll(async () => {
    t = await createTestApp({ RUNLOOM_ROLES: 'api' });

    // The victim's tenant: a workspace with a member, a workflow with a run, a secret, an API key.
    victim = await actor(t.url);
    const workspaceName = uniqueName('Victim workspace');
    victimWs = (
      await request(t.url)
        .post('/api/workspaces/plan')
        .set(victim.auth)
        .send({ plan_tier: 'workspace', workspace_name: workspaceName })
        .expect(200)
    ).body.workspace.id;
    const victimMember = await actor(t.url);
    await addMember(t.url, victim, victimWs, victimMember, 'admin');
    const workflowName = uniqueName('Victim workflow');
    const wf = await createWorkflow(t.url, victim, simpleGraph(), victimWs, workflowName);
    const run = (await request(t.url).post(`/api/workflows/${wf.id}/run`).set(victim.auth).send({}).expect(202)).body
      .run;
    await request(t.url)
      .put('/api/options/secrets/http/bearer_token/victim-secret-name')
      .set(victim.auth)
      .send({ value: 'victim-secret-value-123' })
      .expect(200);
    const key = (
      await request(t.url).post('/api/auth/api-keys').set(victim.auth).send({ name: 'victim-key-name' }).expect(201)
    ).body;
    const me = (await request(t.url).get('/api/auth/me').set(victim.auth).expect(200)).body;
    const invitation = (
      await request(t.url)
        .post(`/api/workspaces/${victimWs}/invites`)
        .set(victim.auth)
        .send({ email: 'victim-invitee@example.com', role: 'user' })
        .expect(200)
    ).body.invitation;
    inviteToken = invitation.token;
    const issue = (
      await request(t.url)
        .post('/api/issues')
        .set(victim.auth)
        .send({ description: 'victim-issue-description', workspace_id: victimWs })
        .expect(200)
    ).body;
    ids = {
      workflow: wf.id,
      run: run.id,
      workspace: victimWs,
      user: victim.userId,
      member: victimMember.userId,
      apiKey: key.api_key.id,
      invitation: invitation.id,
      issue: issue.issue_id,
    };
    victimData = {
      ...ids,
      workflowName,
      workspaceName,
      email: me.user.email,
      secretName: 'victim-secret-name',
      keyName: 'victim-key-name',
      inviteToken,
      inviteeEmail: invitation.email,
      issueDescription: 'victim-issue-description',
    };

    // The other tenant: a solo user, and workspace B with an owner, a member and a viewer.
    const otherUser = await actor(t.url);
    const bOwner = await actor(t.url);
    bWs = await upgrade(t.url, bOwner);
    const bMember = await actor(t.url);
    const bViewer = await actor(t.url);
    await addMember(t.url, bOwner, bWs, bMember, 'user');
    await addMember(t.url, bOwner, bWs, bViewer, 'viewer');
    // A former admin of the victim's workspace, with a workflow of their own left there.
    const removed = await actor(t.url);
    await addMember(t.url, victim, victimWs, removed, 'admin');
    await createWorkflow(t.url, removed, simpleGraph(), victimWs, uniqueName('Left behind'));
    await request(t.url).delete(`/api/workspaces/${victimWs}/members/${removed.userId}`).set(victim.auth).expect(200);
    callers = {
      'other user': otherUser,
      'other workspace': bOwner,
      viewer: bViewer,
      member: bMember,
      owner: bOwner,
      'removed member': removed,
    };
    emails = {};
    for (const [name, a] of Object.entries(callers)) {
      emails[name as Caller] = (await request(t.url).get('/api/auth/me').set(a.auth).expect(200)).body.user.email;
    }
  });
  afterAll(() => t.close());

  it('answers only documented outsider statuses, shows nothing of the victim, changes nothing', async () => {
    const doc = (await request(t.url).get('/api/docs-json').expect(200)).body as OpenApi;
    const before = await victimView();
    const port = Number(new URL(t.url).port);
    const problems: string[] = [];
    let requests = 0;

    for (const [template, operations] of Object.entries(doc.paths)) {
      for (const [lower, op] of Object.entries(operations)) {
        const method = lower.toUpperCase();
        const route = `${method} ${template}`;
        if (PUBLIC.has(route)) continue;
        const documented = new Set(Object.keys(op.responses).map(Number));
        const takesWorkspace = (op.parameters ?? []).some((p) => p.in === 'query' && p.name === 'workspace');
        for (const caller of CALLERS) {
          const base = pathFor(template, caller, takesWorkspace);
          const path = QUERIES[route] ? `${base}${base.includes('?') ? '&' : '?'}${QUERIES[route]}` : base;
          const headers: Record<string, string> = { 'content-type': 'application/json' };
          if (caller !== 'anonymous') Object.assign(headers, lowerKeys(callers[caller].auth));
          const body = bodyFor(route, caller);
          // Aimed at the victim: their ids in the path, their workspace in the query or the body.
          const aimed =
            !CALLER_ONLY.has(route) &&
            (VICTIM_PARAMS.test(template) ||
              path.includes(`workspace=${ids.workspace}`) ||
              JSON.stringify(body).includes(ids.workspace));
          const res: Outcome = await send(undefined, port, {
            method,
            path,
            headers,
            body: method === 'GET' || method === 'DELETE' ? undefined : Buffer.from(JSON.stringify(body)),
          });
          requests += 1;
          const allowed = TOKEN_ROUTES.test(template)
            ? new Set([404])
            : NAVIGATIONS.has(route) && caller !== 'anonymous'
              ? new Set([303])
              : new Set([
                  ...expectedStatuses(caller, aimed),
                  ...(caller === 'anonymous' ? [] : (OWN_ACCOUNT[route] ?? [])),
                ]);
          if (typeof res.status !== 'number' || !allowed.has(res.status) || !documented.has(res.status)) {
            problems.push(
              `${caller}: ${method} ${path} → ${res.status} (allowed ${[...allowed].filter((s) => documented.has(s))})`,
            );
          }
          // What the caller sent (a name in the path) coming back is not the victim's.
          const sent = `${path} ${JSON.stringify(body)}`;
          const leaked = Object.entries(victimData).filter(
            ([, v]) => v && !sent.includes(v) && (res.detail ?? '').includes(v),
          );
          if (leaked.length)
            problems.push(`${caller}: ${method} ${path} → body shows the victim's ${leaked.map(([k]) => k)}`);
        }
      }
    }
    console.log(
      `isolation: ${requests} requests over ${Object.keys(doc.paths).length} paths × ${CALLERS.length} callers`,
    );
    expect(problems).toEqual([]);
    expect(requests).toBeGreaterThan(300);
    expect(await victimView()).toEqual(before);
  });

  function pathFor(template: string, caller: Caller, takesWorkspace: boolean): string {
    const filled = template
      .replace('{keyId}', ids.apiKey)
      .replace('{runId}', ids.run)
      .replace('{deadId}', ids.run)
      .replace('{logId}', ids.run)
      // The victim workflow's first version; a notification endpoint or message none has (404 for all).
      .replace('{n}', '1')
      .replace('{nid}', NO_SUCH_CONNECTION)
      .replace('{did}', NO_SUCH_CONNECTION)
      .replace('{userId}', ids.member)
      .replace('{inviteId}', ids.invitation)
      .replace('{token}', 'not-the-token')
      .replace('{label}', 'label')
      .replace('{group}', 'http')
      .replace('{service}', 'bearer_token')
      .replace('{name}', 'victim-secret-name')
      .replace('{ws}', ids.workspace)
      .replace('{provider}', 'google')
      .replace('{connectionId}', NO_SUCH_CONNECTION)
      // A provider's own ids (a spreadsheet, a Teams channel, an Asana gid): no tenant's resource.
      .replace(/\{(spreadsheetId|team|channel|gid)\}/g, 'abc123')
      .replace('{id}', idFor(template));
    if (!takesWorkspace) return filled;
    // Workspace B's owner acts in B's own context; B's roles claim the victim's workspace.
    const context = caller === 'other workspace' ? bWs : ids.workspace;
    return `${filled}?workspace=${context}`;
  }

  /** What `{id}` names: a workspace, a support thread, or a workflow. */
  function idFor(template: string): string {
    if (template.startsWith('/api/workspaces')) return ids.workspace;
    if (/^\/api(\/admin)?\/issues\//.test(template)) return ids.issue;
    return ids.workflow;
  }

  /** A valid body for each write route, so a refusal is about who asks, not what they sent. */
  function bodyFor(route: string, caller: Caller): unknown {
    // Every caller signed up with the factory's password.
    const password = signupBody().password;
    const bodies: Record<string, unknown> = {
      'PUT /api/options/user-settings': { workspace_id: ids.workspace, runaway_protection_enabled: false },
      'POST /api/auth/api-keys': { name: 'mine' },
      'POST /api/workspaces': { name: 'mine' },
      'POST /api/workspaces/plan': { plan_tier: 'workspace', workspace_name: 'mine' },
      'POST /api/workspaces/{id}/members': { email: 'someone@example.com', role: 'admin' },
      'POST /api/workspaces/{id}/invites': { email: 'someone@example.com', role: 'admin' },
      // The victim's real link: only a session for the invited e-mail may answer it.
      'POST /api/invites/accept': { token: inviteToken },
      'POST /api/invites/decline': { token: inviteToken },
      'PUT /api/workspaces/{id}/members/{userId}': { role: 'viewer' },
      'POST /api/workflows/{id}/egress': { allowlist: ['evil.example.com'] },
      'POST /api/workflows/{id}/run': { context: { x: 1 } },
      'POST /api/workflows/{id}/runs/{runId}/rerun': {},
      'POST /api/workflows/{id}/runs/{runId}/rerun-from-failed': {},
      'POST /api/workflows/{id}/concurrency': { limit: 5 },
      'POST /api/workflows/{id}/notifications': { url: 'https://evil.example.com/hook' },
      'POST /api/workflows/{id}/versions/{n}/restore': { updated_at: new Date().toISOString() },
      'POST /api/workflows/{id}/webhook/config': { require_hmac: false, replay_window_sec: 300 },
      'POST /api/workflows/{id}/trigger/{token}': { x: 1 },
      'POST /api/workflows/{id}/trigger/{token}/{label}': { x: 1 },
      'POST /api/workflows': { name: uniqueName('Mine'), data: simpleGraph(), workspace_id: ids.workspace },
      'PUT /api/workflows/{id}': { name: 'stolen', data: simpleGraph(), updated_at: new Date().toISOString() },
      'PUT /api/options/secrets/{group}/{service}/{name}': { value: 'overwritten-by-attacker' },
      'PUT /api/options/secrets/{group}/{service}/{name}/sharing': { workspace_id: ids.workspace },
      'PUT /api/workflows/{id}/owner': { user_id: ids.member },
      // The caller's own account, with their own credentials: it changes nothing of the victim's.
      'POST /api/auth/change-password': { current_password: password, new_password: password },
      'PUT /api/account/privacy': { allow: false },
      'POST /api/account/delete/request': { email: emails[caller], password },
      'POST /api/account/delete/confirm': { token: randomUUID(), email: emails[caller], password },
      // Sharing the victim's workflow into the caller's workspace.
      'POST /api/workspaces/onboarding': {
        plan_tier: 'workspace',
        workspace_name: 'mine',
        shared_workflow_ids: [ids.workflow],
      },
      'POST /api/workspaces/{id}/revoke': { member_id: ids.member, reason: 'outsider' },
      'POST /api/workspaces/{id}/connections/promote': { provider: 'google', user_oauth_token_id: NO_SUCH_CONNECTION },
      'POST /api/oauth/{provider}/refresh': { connection_id: NO_SUCH_CONNECTION },
      // A report about the victim's workspace, a reply in the victim's thread, operator routes.
      'POST /api/issues': { description: 'about your workspace', workspace_id: ids.workspace },
      'POST /api/issues/{id}/reply': { message: 'hijacked thread' },
      'POST /api/admin/issues/{id}/reply': { message: 'posing as support' },
      'POST /api/admin/purge-runs': { days: 1 },
    };
    return bodies[route] ?? {};
  }

  /** What the victim sees of their own tenant: must be the same after the matrix. */
  async function victimView() {
    const get = async (path: string) => (await request(t.url).get(path).set(victim.auth).expect(200)).body;
    const wf = await get(`/api/workflows/${ids.workflow}?workspace=${victimWs}`);
    const members = await get(`/api/workspaces/${victimWs}/members`);
    const invites = await get(`/api/workspaces/${victimWs}/invites`);
    return {
      workflow: { name: wf.workflow.name, updated_at: wf.workflow.updated_at, data: wf.workflow.data },
      runs: (await get(`/api/workflows/${ids.workflow}/runs`)).runs.map((r: { id: string }) => r.id),
      webhook: await get(`/api/workflows/${ids.workflow}/webhook-url`),
      egress: await get(`/api/workflows/${ids.workflow}/egress`),
      members,
      invites,
      secrets: await get('/api/options/secrets'),
      apiKeys: (await get('/api/auth/api-keys')).api_keys,
      workspaces: await get('/api/workspaces'),
      settings: await get(`/api/options/user-settings?workspace=${victimWs}`),
      issues: await get('/api/issues'),
      issue: await get(`/api/issues/${ids.issue}`),
    };
  }
});

function expectedStatuses(caller: Caller, aimed: boolean): Set<number> {
  if (caller === 'anonymous') return new Set([401]);
  // A route about the caller only (their own list, their own settings) may answer with their own data.
  return aimed ? new Set([403, 404]) : new Set([200, 201, 403, 404]);
}

function lowerKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}
