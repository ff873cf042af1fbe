import { EventEmitter2 } from '@nestjs/event-emitter';
import request from 'supertest';
import type { AppEventMap } from '../src/common/events/app-events';
import { Clock } from '../src/common/clock';
import { AppConfig } from '../src/config/app-config';
import { DeadLetterRepository } from '../src/database/repositories/dead-letter.repository';
import { RunQueueRepository } from '../src/database/repositories/run-queue.repository';
import { RunRepository } from '../src/database/repositories/run.repository';
import { createTestApp, TestApp } from './utils/app';
import { FakeClock } from './utils/clock';
import { waitFor } from './utils/wait';
import { actor, createWorkflow, graph, trigger, upgrade } from './factories/workflow.factory';

type Finished = AppEventMap['run.finished'];

/** Collects `run.finished` events of this app. */
function finishedEvents(t: TestApp): Finished[] {
  const events: Finished[] = [];
  t.app.get(EventEmitter2).on('run.finished', (event: Finished) => events.push(event));
  return events;
}

/**
 * No poison runs (issue 17 item 4): a run whose executions keep ending in a crash or a lost lease
 * fails after RUN_MAX_ATTEMPTS of them, with a dead letter, instead of being requeued forever.
 */
describe('runs whose lease keeps being lost', () => {
  let t: TestApp;
  let runs: RunRepository;
  let queue: RunQueueRepository;
  beforeAll(async () => {
    // No worker loop: the test plays the workers that lose the run.
    t = await createTestApp({ RUNLOOM_ROLES: 'api' });
    runs = t.app.get(RunRepository);
    queue = t.app.get(RunQueueRepository);
  });
  afterAll(() => t.close());

  it('fail with a dead letter at the last allowed loss; hand-backs do not count', async () => {
    const max = t.app.get(AppConfig).runs.maxAttempts;
    expect(max).toBe(3);
    const events = finishedEvents(t);
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const wf = await createWorkflow(t.url, owner, graph([trigger()]), ws);
    const queued = (await request(t.url).post(`/api/workflows/${wf.id}/run`).set(owner.auth).expect(202)).body.run;

    // Each round: a worker claims the run under a one-second lease and vanishes.
    let now = Date.now() + 1_000;
    const claim = async (worker: string) => {
      const [run] = await queue.claimBatch(worker, 1_000, new Date(now), 1);
      expect(run?.id).toBe(queued.id);
    };
    const expire = () => {
      now += 2_000;
      return queue.requeueExpired(new Date(now), max);
    };

    await claim('worker-1');
    expect(await expire()).toEqual({ requeued: [queued.id], abandoned: [] });
    // A graceful hand-back (shutdown) is not a lost attempt.
    await claim('worker-2');
    expect(await queue.release(queued.id, 'worker-2', new Date(now))).toBe(true);
    await claim('worker-3');
    expect(await expire()).toEqual({ requeued: [queued.id], abandoned: [] });
    expect(await runs.findById(queued.id)).toMatchObject({ status: 'queued', lostAttempts: 2, attempt: 3 });

    await claim('worker-4');
    expect(await expire()).toEqual({ requeued: [], abandoned: [queued.id] });
    const failed = await runs.findById(queued.id);
    expect(failed).toMatchObject({
      status: 'failed',
      error: 'Run abandoned after 3 attempts: worker lease lost',
      lostAttempts: 3,
      attempt: 4,
      leasedBy: null,
      leaseExpiresAt: null,
      finishedAt: new Date(now),
    });
    expect(events).toEqual([
      {
        runId: queued.id,
        workflowId: wf.id,
        workspaceId: ws,
        ownerId: owner.userId,
        status: 'failed',
        error: 'Run abandoned after 3 attempts: worker lease lost',
      },
    ]);

    // The dead letter a failing node leaves: the run's snapshot, requeueable by hand.
    const letters = await request(t.url).get(`/api/workflows/${wf.id}/dead-letters`).set(owner.auth).expect(200);
    expect(letters.body.dead_letters).toEqual([
      {
        id: expect.any(String),
        user_id: owner.userId,
        workflow_id: wf.id,
        run_id: queued.id,
        error: 'Run abandoned after 3 attempts: worker lease lost',
        snapshot: failed!.snapshot,
        created_at: expect.any(String),
      },
    ]);
    expect(new Date(letters.body.dead_letters[0].created_at)).toEqual(new Date(now));
    const run = await request(t.url).get(`/api/workflows/${wf.id}/runs/${queued.id}`).set(owner.auth).expect(200);
    expect(run.body.run).toMatchObject({
      status: 'failed',
      error: 'Run abandoned after 3 attempts: worker lease lost',
    });

    // Not requeued again, and nothing left to claim.
    now += 60_000;
    expect(await queue.requeueExpired(new Date(now), max)).toEqual({ requeued: [], abandoned: [] });
    expect(await queue.claimBatch('worker-5', 1_000, new Date(now), 10)).toEqual([]);
  });
});

describe('the worker fails a run lost RUN_MAX_ATTEMPTS times', () => {
  let t: TestApp;
  const clock = new FakeClock(new Date());
  beforeAll(async () => {
    t = await createTestApp(
      { RUNLOOM_ROLES: 'api,worker', RUN_MAX_ATTEMPTS: '2', WORKER_POLL_INTERVAL_MS: '20' },
      { overrides: [{ provide: Clock, useValue: clock }] },
    );
  });
  afterAll(() => t.close());

  it('in its housekeeping, with run.finished and the failed-runs counter', async () => {
    const runs = t.app.get(RunRepository);
    const queue = t.app.get(RunQueueRepository);
    const events = finishedEvents(t);
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const wf = await createWorkflow(t.url, owner, graph([trigger()]), ws);
    // Due in an hour, so this app's worker leaves it to the vanishing workers below.
    const start = clock.now().getTime();
    const { run } = await runs.insert(
      {
        ownerId: owner.userId,
        workflowId: wf.id,
        workspaceId: ws,
        snapshot: graph([trigger()]),
        idempotencyKey: null,
        triggeredBy: `user:${owner.userId}`,
        queuePriority: 0,
        resumeAt: new Date(start + 3_600_000),
      },
      new Date(start),
      [{ triggeredBy: `user:${owner.userId}` }],
    );
    const later = (ms: number) => new Date(start + 3_600_000 + ms);
    expect(await queue.claimBatch('vanished-1', 1_000, later(0), 1)).toHaveLength(1);
    expect(await queue.requeueExpired(later(2_000), 2)).toEqual({ requeued: [run.id], abandoned: [] });
    expect(await queue.claimBatch('vanished-2', 1_000, later(2_000), 1)).toHaveLength(1);

    // The clock moves past the second lease: the worker's next look at expired leases fails the run.
    clock.set(later(10_000).toISOString());
    await waitFor(async () => (await runs.findById(run.id))?.status === 'failed', 'the run to fail');
    expect(await runs.findById(run.id)).toMatchObject({
      error: 'Run abandoned after 2 attempts: worker lease lost',
      lostAttempts: 2,
    });
    expect(events.filter((e) => e.runId === run.id)).toEqual([
      expect.objectContaining({ status: 'failed', error: 'Run abandoned after 2 attempts: worker lease lost' }),
    ]);
    expect((await t.app.get(DeadLetterRepository).list(wf.id, 1, 20)).map((d) => d.runId)).toEqual([run.id]);
    const metrics = await request(t.url).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/runloom_runs_finished_total\{status="failed"\} 1/);
  });
});
