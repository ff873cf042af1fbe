import request from 'supertest';
import { bearerToken } from './user.factory';

export interface Actor {
  userId: string;
  auth: { Authorization: string };
  /** The solo workspace created at signup. */
  soloWorkspaceId: string;
}

export async function actor(url: string): Promise<Actor> {
  const { token, userId } = await bearerToken(url);
  const auth = { Authorization: `Bearer ${token}` };
  const list = await request(url).get('/api/workspaces').set(auth).expect(200);
  return { userId, auth, soloWorkspaceId: list.body.workspaces[0].workspace.id };
}

/** Upgrades the actor's solo workspace to the workspace plan; returns its id. */
export async function upgrade(url: string, a: Actor): Promise<string> {
  const res = await request(url).post('/api/workspaces/plan').set(a.auth).send({ plan_tier: 'workspace' }).expect(200);
  return res.body.workspace.id;
}

/** Makes `member` a member the only way there is: `owner` (or an admin) invites, the member accepts. */
export async function addMember(
  url: string,
  owner: Actor,
  workspaceId: string,
  member: Actor,
  role: string,
): Promise<void> {
  const email = (await request(url).get('/api/auth/me').set(member.auth).expect(200)).body.user.email;
  const invited = await request(url)
    .post(`/api/workspaces/${workspaceId}/invites`)
    .set(owner.auth)
    .send({ email, role })
    .expect(200);
  await request(url)
    .post('/api/invites/accept')
    .set(member.auth)
    .send({ token: invited.body.invitation.token })
    .expect(200);
}

type Node = { id: string; type: string; data?: Record<string, unknown>; position?: { x: number; y: number } };

export function graph(nodes: Node[], edges: [string, string][] = []) {
  return {
    nodes: nodes.map((n, i) => ({ position: { x: i * 200, y: 0 }, ...n })),
    edges: edges.map(([source, target], i) => ({
      id: `e${i + 1}`,
      source,
      target,
      sourceHandle: null as string | null,
      type: 'nodeEdge',
    })),
  };
}

export const trigger = (id = 'trigger-1', data: Record<string, unknown> = {}): Node => ({
  id,
  type: 'trigger',
  data: { label: 'Trigger', triggerType: 'Manual', inputs: [], ...data },
});

export const http = (id = 'http-1', params: Record<string, unknown> = {}): Node => ({
  id,
  type: 'actionHttp',
  data: {
    label: 'HTTP Request',
    actionType: 'http',
    params: { url: 'https://example.com', method: 'GET', ...params },
    stopOnError: true,
  },
});

export const simpleGraph = () => graph([trigger(), http()], [['trigger-1', 'http-1']]);

/** Creates a workflow through the API as `a` (in `workspaceId`, or personal); expects 201. */
export async function createWorkflow(
  url: string,
  a: Pick<Actor, 'auth'>,
  data: unknown,
  workspaceId?: string,
  name = uniqueName(),
): Promise<{ id: string; updated_at: string; workspace_id: string | null }> {
  const res = await request(url)
    .post('/api/workflows')
    .set(a.auth)
    .send({ name, data, ...(workspaceId ? { workspace_id: workspaceId } : {}) })
    .expect(201);
  return res.body.workflow;
}

let n = 0;
export const uniqueName = (prefix = 'Workflow') => `${prefix} ${++n}-${Math.random().toString(36).slice(2, 7)}`;
