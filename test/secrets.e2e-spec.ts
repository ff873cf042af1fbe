import request from 'supertest';
import { SecretRepository } from '../src/database/repositories/secret.repository';
import { createTestApp, TestApp } from './utils/app';
import { Actor, actor, addMember, simpleGraph, uniqueName, upgrade } from './factories/workflow.factory';

const MASKED = '*****************';

describe('secrets API (docs/contract.md §9.4) and user settings (§2.16)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const putSecret = (a: Actor, path: string, value: unknown, workspace?: string) =>
    request(t.url)
      .put(`/api/options/secrets/${path}${workspace ? `?workspace=${workspace}` : ''}`)
      .set(a.auth)
      .send({ value });

  it('personal store: created / updated / unchanged, masked listing, encrypted at rest', async () => {
    const a = await actor(t.url);
    const created = await putSecret(a, 'Email/SendGrid/prod', '  SG.first-value ').expect(200);
    expect(created.body).toEqual({
      success: true,
      outcome: 'created',
      secrets: { email: { sendgrid: { prod: { value: MASKED, owner_id: a.userId, workspace_id: null } } } },
    });
    expect((await putSecret(a, 'email/sendgrid/prod', 'SG.first-value').expect(200)).body.outcome).toBe('unchanged');
    expect((await putSecret(a, 'email/sendgrid/prod', '********').expect(200)).body.outcome).toBe('unchanged');
    expect((await putSecret(a, 'email/sendgrid/prod', 'SG.second').expect(200)).body.outcome).toBe('updated');
    const list = await request(t.url).get('/api/options/secrets').set(a.auth).expect(200);
    expect(list.body.secrets.email.sendgrid.prod).toEqual({ value: MASKED, owner_id: a.userId, workspace_id: null });
    expect(JSON.stringify(list.body)).not.toContain('SG.');

    const row = await t.app
      .get(SecretRepository)
      .find({ userId: a.userId, group: 'email', service: 'sendgrid', name: 'prod' });
    expect(row!.ciphertext).toMatch(/^enc:[A-Za-z0-9+/=]+$/);
    expect(row!.ciphertext).not.toContain('SG.second');
  });

  it('rejects empty parts and values with 400', async () => {
    const a = await actor(t.url);
    const section = await putSecret(a, '%20/sendgrid/prod', 'x').expect(400);
    expect(section.body.message).toBe('Section key cannot be empty');
    expect((await putSecret(a, 'email/sendgrid/%20', 'x').expect(400)).body.message).toBe(
      'Secret name cannot be empty',
    );
    expect((await putSecret(a, 'email/sendgrid/prod', '   ').expect(400)).body.message).toBe(
      'Secret value cannot be empty',
    );
    await putSecret(a, 'email/sendgrid/prod', 42).expect(400);
    await request(t.url).put('/api/options/secrets/email/sendgrid/prod').set(a.auth).expect(415);
  });

  it('a secret filed under "__proto__" is listed as such and pollutes nothing (found by the fuzz test: it used to write to Object.prototype)', async () => {
    const a = await actor(t.url);
    await putSecret(a, '__proto__/polluted-service/polluted-name', 'value-123').expect(200);
    await putSecret(a, 'constructor/prototype/x', 'value-456').expect(200);
    const list = await request(t.url).get('/api/options/secrets').set(a.auth).expect(200);
    expect(list.text).toContain('"__proto__":{"polluted-service":{"polluted-name":{"value":"*****************"');
    expect(({} as Record<string, unknown>)['polluted-service']).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted-service');
    // And the server still answers other users normally.
    await request(t.url)
      .get('/api/workflows')
      .set((await actor(t.url)).auth)
      .expect(200);
  });

  it('delete: own secret or 404', async () => {
    const a = await actor(t.url);
    await putSecret(a, 'http/bearer_token/api', 'tok-abcdef').expect(200);
    const res = await request(t.url).delete('/api/options/secrets/http/bearer_token/api').set(a.auth).expect(200);
    expect(res.body).toEqual({ success: true, secrets: {} });
    const again = await request(t.url).delete('/api/options/secrets/http/bearer_token/api').set(a.auth).expect(404);
    expect(again.body.message).toBe('Secret not found');
  });

  describe('workspace mode', () => {
    async function team() {
      const owner = await actor(t.url);
      const ws = await upgrade(t.url, owner);
      const [admin, user, viewer, outsider] = await Promise.all([
        actor(t.url),
        actor(t.url),
        actor(t.url),
        actor(t.url),
      ]);
      await addMember(t.url, owner, ws, admin, 'admin');
      await addMember(t.url, owner, ws, user, 'user');
      await addMember(t.url, owner, ws, viewer, 'viewer');
      return { owner, admin, user, viewer, outsider, ws };
    }

    it('lists only what members share with the workspace; membership required; viewers cannot write', async () => {
      const { owner, user, viewer, outsider, ws } = await team();
      await putSecret(owner, 'email/smtp/main', 'pw-owner', ws).expect(200);
      await putSecret(user, 'messaging/slack/bot', 'xoxb-user', ws).expect(200);
      await putSecret(user, 'http/bearer_token/private', 'tok-personal', undefined).expect(200);
      const list = await request(t.url).get(`/api/options/secrets?workspace=${ws}`).set(viewer.auth).expect(200);
      expect(list.body.secrets).toEqual({
        email: { smtp: { main: { value: MASKED, owner_id: owner.userId, workspace_id: ws } } },
        messaging: { slack: { bot: { value: MASKED, owner_id: user.userId, workspace_id: ws } } },
      });
      const denied = await request(t.url).get(`/api/options/secrets?workspace=${ws}`).set(outsider.auth).expect(403);
      expect(denied.body.message).toBe('Workspace membership required');
      const viewerWrite = await putSecret(viewer, 'email/smtp/mine', 'x', ws).expect(403);
      expect(viewerWrite.body.message).toBe('Workspace viewers cannot manage secrets.');
    });

    it('a secret created in workspace mode is logged on every workflow of the workspace', async () => {
      const { owner, user, ws } = await team();
      const w = (
        await request(t.url)
          .post('/api/workflows')
          .set(owner.auth)
          .send({ name: uniqueName(), data: simpleGraph(), workspace_id: ws })
          .expect(201)
      ).body.workflow;
      await putSecret(user, 'webhook/bearer_token/inbound', 'tok-xyz-123', ws).expect(200);
      const deadline = Date.now() + 5000;
      let diffs: unknown[] = [];
      while (Date.now() < deadline) {
        const logs = await request(t.url).get(`/api/workflows/${w.id}/logs`).set(owner.auth).expect(200);
        if (logs.body.logs.length) {
          diffs = logs.body.logs[0].diffs;
          break;
        }
      }
      expect(diffs).toEqual([
        { path: 'actor', from: null, to: expect.stringMatching(/^Ada Lovelace </) },
        { path: 'secret.created', from: null, to: 'webhook:bearer_token:inbound' },
      ]);
    });

    it('delete: the holder or an admin; others 403', async () => {
      const { owner, admin, user, viewer, ws } = await team();
      await putSecret(user, 'email/mailgun/eu', 'key-1', ws).expect(200);
      await putSecret(owner, 'email/mailgun/us', 'key-2', ws).expect(200);
      const denied = await request(t.url)
        .delete(`/api/options/secrets/email/mailgun/us?workspace=${ws}`)
        .set(user.auth)
        .expect(403);
      expect(denied.body.message).toBe("Only the secret's owner or a workspace admin can delete it.");
      await request(t.url).delete(`/api/options/secrets/email/mailgun/eu?workspace=${ws}`).set(viewer.auth).expect(403);
      const byAdmin = await request(t.url)
        .delete(`/api/options/secrets/email/mailgun/eu?workspace=${ws}`)
        .set(admin.auth)
        .expect(200);
      expect(byAdmin.body.secrets.email.mailgun).toEqual({
        us: { value: MASKED, owner_id: owner.userId, workspace_id: ws },
      });
      await request(t.url).delete(`/api/options/secrets/email/mailgun/us?workspace=${ws}`).set(owner.auth).expect(200);
      await request(t.url).delete(`/api/options/secrets/email/mailgun/us?workspace=${ws}`).set(owner.auth).expect(404);
    });

    it('GET /api/workspaces/:ws/secrets: who shares what, for admins on a workspace plan', async () => {
      const { owner, admin, user, viewer, ws } = await team();
      await putSecret(user, 'email/smtp/relay', 'pw', ws).expect(200);
      await putSecret(viewer, 'email/smtp/personal', 'pw').expect(200);
      const res = await request(t.url).get(`/api/workspaces/${ws}/secrets`).set(admin.auth).expect(200);
      expect(res.body).toEqual({
        success: true,
        ownership: {
          [owner.userId]: [],
          [admin.userId]: [],
          [user.userId]: [{ group: 'email', service: 'smtp', name: 'relay' }],
          [viewer.userId]: [],
        },
      });
      const notAdmin = await request(t.url).get(`/api/workspaces/${ws}/secrets`).set(user.auth).expect(403);
      expect(notAdmin.body.message).toBe('Admin permissions required');
      const solo = await actor(t.url);
      const planRequired = await request(t.url)
        .get(`/api/workspaces/${solo.soloWorkspaceId}/secrets`)
        .set(solo.auth)
        .expect(403);
      expect(planRequired.body.code).toBe('workspace_plan_required');
      await request(t.url).get(`/api/workspaces/${ws}/secrets`).set(solo.auth).expect(404);
    });
  });

  describe('user settings (runaway protection toggle)', () => {
    it('defaults to enabled, stores per workspace, validates the body', async () => {
      const a = await actor(t.url);
      const ws = a.soloWorkspaceId;
      const initial = await request(t.url).get(`/api/options/user-settings?workspace=${ws}`).set(a.auth).expect(200);
      expect(initial.body).toEqual({ success: true, settings: { workflows: { runaway_protection_enabled: true } } });
      const put = await request(t.url)
        .put('/api/options/user-settings')
        .set(a.auth)
        .send({ workspace_id: ws, runaway_protection_enabled: false })
        .expect(200);
      expect(put.body.settings.workflows.runaway_protection_enabled).toBe(false);
      expect(
        (await request(t.url).get(`/api/options/user-settings?workspace=${ws}`).set(a.auth)).body.settings.workflows,
      ).toEqual({
        runaway_protection_enabled: false,
      });
      expect(
        (await request(t.url).get('/api/options/user-settings').set(a.auth)).body.settings.workflows
          .runaway_protection_enabled,
      ).toBe(true);

      const noWs = await request(t.url)
        .put('/api/options/user-settings')
        .set(a.auth)
        .send({ runaway_protection_enabled: true })
        .expect(400);
      expect(noWs.body.message).toBe('Invalid request: workspace_id is required');
      const noFlag = await request(t.url)
        .put('/api/options/user-settings')
        .set(a.auth)
        .send({ workspace_id: ws })
        .expect(400);
      expect(noFlag.body.message).toBe('Invalid request: runaway_protection_enabled is required');
      const other = await actor(t.url);
      await request(t.url)
        .put('/api/options/user-settings')
        .set(a.auth)
        .send({ workspace_id: other.soloWorkspaceId, runaway_protection_enabled: true })
        .expect(403);
    });
  });
});
