import { ModulesContainer } from '@nestjs/core';
import request from 'supertest';
import { WorkerHeartbeat } from '../src/health/worker-heartbeat';
import { OpsServer } from '../src/health/ops-server';
import { RunWorker } from '../src/runs/run-worker';
import { Scheduler } from '../src/schedules/scheduler';
import { createTestApp, TestApp } from './utils/app';

jest.setTimeout(120_000);

/** Every controller registered in the app, whatever its module. */
function controllers(t: TestApp): string[] {
  return [...t.app.get(ModulesContainer).values()].flatMap((m) => [...m.controllers.values()].map((c) => c.name));
}

/**
 * The routes the server maps, but not the Swagger UI that configureApp serves in every test app.
 */
function routes(t: TestApp): string[] {
  return t.routes.filter((r) => !r.url.startsWith('/api/docs')).map((r) => r.url);
}

/** Whether the app has a provider of `type` (in any module). */
function has(t: TestApp, type: abstract new (...args: never[]) => unknown): boolean {
  try {
    t.app.get(type, { strict: false });
    return true;
  } catch {
    return false;
  }
}

// RUNLOOM_ROLES composes the application (src/app.module.ts): a role that is off has no module in it.
describe('roles compose the application', () => {
  describe.each(['worker', 'scheduler'])('a %s-only process', (role) => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ RUNLOOM_ROLES: role });
    });
    afterAll(() => t.close());

    it('registers no controller, maps no route and runs no HTTP middleware', async () => {
      expect(controllers(t)).toEqual([]);
      expect(routes(t)).toEqual([]);
      // The api's routes are not there; nor is the request middleware (pino-http sets x-request-id).
      for (const path of ['/healthz', '/readyz', '/metrics', '/api/workflows', '/api/auth/me']) {
        const res = await request(t.url).get(path).expect(404);
        expect(res.headers['x-request-id']).toBeUndefined();
      }
    });

    it(`has its own role's provider and not the other's, with the heartbeat and the operations listener`, () => {
      expect(has(t, RunWorker)).toBe(role === 'worker');
      expect(has(t, Scheduler)).toBe(role === 'scheduler');
      expect(has(t, WorkerHeartbeat)).toBe(true);
      expect(has(t, OpsServer)).toBe(true);
    });
  });

  describe('an api-only process', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ RUNLOOM_ROLES: 'api' });
    });
    afterAll(() => t.close());

    it('serves the routes through the HTTP middleware', async () => {
      expect(controllers(t)).toEqual(expect.arrayContaining(['HealthController', 'WorkflowsController']));
      expect(routes(t)).toEqual(expect.arrayContaining(['/healthz', '/api/workflows/:id']));
      const res = await request(t.url).get('/healthz').expect(200);
      expect(res.headers['x-request-id']).toEqual(expect.any(String));
    });

    it('has no RunWorker, Scheduler, heartbeat or operations listener', () => {
      expect(has(t, RunWorker)).toBe(false);
      expect(has(t, Scheduler)).toBe(false);
      expect(has(t, WorkerHeartbeat)).toBe(false);
      expect(has(t, OpsServer)).toBe(false);
    });
  });
});
