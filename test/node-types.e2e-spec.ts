import request from 'supertest';
import { NODE_TYPES } from '../src/engine/node-registry';
import { createTestApp, TestApp } from './utils/app';
import { actor, graph, trigger, uniqueName, upgrade } from './factories/workflow.factory';

interface Entry {
  kind: string;
  category: string;
  node_types: string[];
  action_types: string[];
  params_field: string;
  params_schema: { type: string; properties: Record<string, { type?: unknown }>; required?: string[] };
  outputs: Record<string, string>;
  plan_gate: string | null;
  available: boolean;
}

/** GET /api/node-types: the node-type catalogue (docs/nodes.md is written from the same source). */
describe('node-type catalogue', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ RUNLOOM_ROLES: 'api' });
  });
  afterAll(() => t.close());

  it('needs a session or an API key', async () => {
    const res = await request(t.url).get('/api/node-types').expect(401);
    expect(res.body).toMatchObject({ success: false, status: 'error' });
  });

  it('lists every registered kind with its params schema, outputs and plan gate', async () => {
    const a = await actor(t.url);
    const res = await request(t.url).get('/api/node-types').set(a.auth).expect(200);
    expect(res.body.success).toBe(true);
    const entries = res.body.node_types as Entry[];
    expect(entries.map((e) => e.kind)).toEqual(NODE_TYPES.map((info) => info.kind));
    for (const entry of entries) {
      expect(Object.keys(entry).sort()).toEqual(
        [
          'action_types',
          'available',
          'category',
          'description',
          'kind',
          'node_types',
          'outputs',
          'params_field',
          'params_schema',
          'plan_gate',
          'title',
        ].sort(),
      );
      expect(entry.params_schema.type).toBe('object');
    }
    const byKind = Object.fromEntries(entries.map((e) => [e.kind, e]));

    expect(byKind.http).toMatchObject({ category: 'action', action_types: ['http'], params_field: 'params' });
    expect(byKind.http.params_schema.properties.url).toMatchObject({ type: 'string' });
    expect(byKind.http.params_schema.required).toContain('url');
    expect(byKind.http.outputs).toHaveProperty('status');

    expect(byKind.delay).toMatchObject({ category: 'logic', params_field: 'config', plan_gate: null });
    expect(byKind.delay.params_schema.properties).toHaveProperty('wait_for');
    expect(byKind.condition).toMatchObject({ params_field: 'data', outputs: { result: expect.any(String) } });
    expect(byKind.trigger.plan_gate).toMatch(/Schedule/);
    expect(byKind.messaging.plan_gate).toMatch(/Slack/);
    expect(entries.filter((e) => !e.available).map((e) => e.kind)).toEqual(['sheets', 'notion', 'asana']);

    // The same bytes for everyone: nothing in it depends on the caller.
    const again = await request(t.url)
      .get('/api/node-types')
      .set((await actor(t.url)).auth)
      .expect(200);
    expect(again.text).toBe(res.text);
  });

  it('every kind it lists can be saved in a graph; a type it does not list still cannot', async () => {
    const a = await actor(t.url);
    // Workspace plan: Sheets, Notion, Slack and Teams are premium for Solo.
    const workspace = await upgrade(t.url, a);
    const entries = (await request(t.url).get('/api/node-types').set(a.auth).expect(200)).body.node_types as Entry[];
    const nodes = entries
      .filter((e) => e.kind !== 'trigger')
      .map((e, i) => ({
        id: `n${i}`,
        type: e.category === 'action' ? 'action' : e.node_types[0],
        data: { label: e.kind, ...(e.category === 'action' ? { actionType: e.action_types[0] } : {}) },
      }));
    await request(t.url)
      .post('/api/workflows')
      .set(a.auth)
      .send({ name: uniqueName(), workspace_id: workspace, data: graph([trigger(), ...nodes]) })
      .expect(201);

    const unknown = { id: 'x', type: 'action', data: { label: 'X', actionType: 'teleport' } };
    const refused = await request(t.url)
      .post('/api/workflows')
      .set(a.auth)
      .send({ name: uniqueName(), workspace_id: workspace, data: graph([trigger(), unknown]) })
      .expect(400);
    expect(refused.body).toMatchObject({ success: false, code: 'invalid_request' });
    expect(refused.body.message).toContain('x: unknown actionType "teleport"');
  });
});
