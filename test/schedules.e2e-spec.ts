import request from 'supertest';
import { DateTime } from 'luxon';
import { Clock } from '../src/common/clock';
import { Db } from '../src/database/db.service';
import { WorkflowScheduleEntity } from '../src/database/entities/workflow-schedule.entity';
import { RunEntity } from '../src/database/entities/run.entity';
import { Scheduler } from '../src/schedules/scheduler';
import { toScheduleResponse } from '../src/workflows/workflows.dto';
import { FakeClock } from './utils/clock';
import { createTestApp, TestApp } from './utils/app';
import { waitFor } from './utils/wait';
import { Actor, actor, createWorkflow, graph, trigger, uniqueName, upgrade } from './factories/workflow.factory';

const MINUTE = 60_000;
const EVERY_SECOND = { cron: '* * * * * *', timezone: 'UTC' };
/** Per-second schedules keep these tests fast; the default minimum interval (60 s) is tested below. */
const PER_SECOND_ALLOWED = { SCHEDULE_MIN_INTERVAL_SECONDS: '1' };

interface RunView {
  id: string;
  status: string;
  created_at: string;
  snapshot: { _trigger_context: Record<string, unknown>; _start_from_node?: string };
}

/** `YYYY-MM-DD` and `HH:MM` (UTC) of a minute boundary, for a DSentr scheduleConfig. */
function dsentrStart(at: Date) {
  const iso = at.toISOString();
  return { startDate: iso.slice(0, 10), startTime: iso.slice(11, 16), timezone: 'UTC' };
}

const minuteFloor = (ms: number) => Math.floor(ms / MINUTE) * MINUTE;

async function scheduled(t: TestApp, owner: Actor, ws: string, scheduleConfig: unknown) {
  const data = graph([
    trigger('manual-1'),
    trigger('schedule-1', { label: 'Every so often', triggerType: 'Schedule', scheduleConfig }),
  ]);
  return createWorkflow(t.url, owner, data, ws, uniqueName('Scheduled'));
}

async function runsOf(t: TestApp, owner: Actor, workflowId: string): Promise<RunView[]> {
  return (await request(t.url).get(`/api/workflows/${workflowId}/runs?per_page=100`).set(owner.auth).expect(200)).body
    .runs;
}

async function scheduleOf(t: TestApp, owner: Actor, workflowId: string) {
  return (await request(t.url).get(`/api/workflows/${workflowId}`).set(owner.auth).expect(200)).body.schedule as {
    enabled: boolean;
    next_run_at: string | null;
    last_run_at: string | null;
    last_error: string | null;
    last_skip_reason: string | null;
  };
}

/** As if every scheduler had been down since `dueAt`: the schedule's stored next time is in the past. */
async function missedSince(t: TestApp, workflowId: string, dueAt: Date): Promise<void> {
  await t.app.get(Db).manager.getRepository(WorkflowScheduleEntity).update({ workflowId }, { nextRunAt: dueAt });
}

describe('schedules fire (docs/contract.md §10.3)', () => {
  let t: TestApp;
  let owner: Actor;
  let ws: string;
  beforeAll(async () => {
    t = await createTestApp({ WORKER_POLL_INTERVAL_MS: '20', SCHEDULER_TICK_MS: '200', ...PER_SECOND_ALLOWED });
    owner = await actor(t.url);
    ws = await upgrade(t.url, owner);
  });
  afterAll(() => t.close());

  it('fires a schedule created by the client at its due time, from its schedule trigger', async () => {
    const createdAt = Date.parse(new Date().toISOString().slice(0, 19) + 'Z');
    const wf = await scheduled(t, owner, ws, EVERY_SECOND);
    const before = await scheduleOf(t, owner, wf.id);
    expect(before).toMatchObject({ enabled: true, last_error: null });
    expect(Date.parse(before.next_run_at!) % 1000).toBe(0);
    // A per-second schedule may have fired already on a busy machine, but never before it existed.
    expect(before.last_run_at === null || Date.parse(before.last_run_at) >= createdAt).toBe(true);

    const [run] = await waitFor(async () => {
      const runs = await runsOf(t, owner, wf.id);
      return runs.some((r) => r.status === 'succeeded') ? runs.filter((r) => r.status === 'succeeded') : undefined;
    }, 'a scheduled run to succeed');
    const context = run.snapshot._trigger_context;
    expect(context).toMatchObject({ scheduled: true, scheduleConfig: EVERY_SECOND });
    expect(typeof context.scheduleId).toBe('string');
    expect(context.scheduledFor).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(run.snapshot._start_from_node).toBe('schedule-1');
    // Never early.
    expect(Date.parse(run.created_at)).toBeGreaterThanOrEqual(Date.parse(context.scheduledFor as string));

    const after = await scheduleOf(t, owner, wf.id);
    expect(Date.parse(after.last_run_at!)).toBeGreaterThanOrEqual(Date.parse(context.scheduledFor as string));
    expect(Date.parse(after.next_run_at!)).toBeGreaterThan(Date.parse(after.last_run_at!));

    const recorded = await t.app
      .get(Db)
      .manager.query(`SELECT triggered_by FROM workflow_run_events WHERE workflow_run_id = '${run.id}'`);
    expect(recorded).toEqual([{ triggered_by: `schedule:${context.scheduleId as string}` }]);
    // Removing the schedule trigger stops it.
    await request(t.url)
      .put(`/api/workflows/${wf.id}`)
      .set(owner.auth)
      .send({ name: uniqueName(), data: graph([trigger('manual-1')]), updated_at: wf.updated_at })
      .expect(200);
    expect(await scheduleOf(t, owner, wf.id)).toBeNull();
  });

  it('a one-shot schedule fires once and turns itself off', async () => {
    const wf = await scheduled(t, owner, ws, dsentrStart(new Date(minuteFloor(Date.now()) - MINUTE)));
    const schedule = await waitFor(async () => {
      const s = await scheduleOf(t, owner, wf.id);
      return s.last_run_at ? s : undefined;
    }, 'the one-shot to fire');
    expect(schedule).toMatchObject({
      enabled: false,
      next_run_at: null,
      last_error: 'The schedule has no further runs',
    });
    const runs = await runsOf(t, owner, wf.id);
    expect(runs).toHaveLength(1);
    expect(runs[0].snapshot._trigger_context.scheduledFor).toBe(schedule.last_run_at);
  });

  it('after downtime fires once, for the most recent missed time, not a burst (default catch-up)', async () => {
    const start = minuteFloor(Date.now()) - 10 * MINUTE;
    const wf = await scheduled(t, owner, ws, {
      ...dsentrStart(new Date(start)),
      repeat: { every: 1, unit: 'minutes' },
    });
    await missedSince(t, wf.id, new Date(start + MINUTE));
    const schedule = await waitFor(async () => {
      const s = await scheduleOf(t, owner, wf.id);
      return s.last_run_at ? s : undefined;
    }, 'the catch-up firing');
    const runs = await runsOf(t, owner, wf.id);
    expect(runs).toHaveLength(1);
    const firedFor = Date.parse(runs[0].snapshot._trigger_context.scheduledFor as string);
    // The latest minute boundary at or before the firing, and the next one after it.
    expect(firedFor % MINUTE).toBe(0);
    expect(firedFor).toBeGreaterThanOrEqual(minuteFloor(Date.parse(runs[0].created_at)) - MINUTE);
    expect(Date.parse(schedule.next_run_at!)).toBe(firedFor + MINUTE);
  });

  // Boots its own app with worker threads: slow on a loaded machine, hence its own timeout.
  it('a due time the workspace quota cannot pay for is skipped with the reason, and the schedule moves on', async () => {
    const quota = await createTestApp({
      SCHEDULER_TICK_MS: '200',
      WORKSPACE_MONTHLY_RUN_LIMIT: '1',
      ...PER_SECOND_ALLOWED,
    });
    try {
      const someone = await actor(quota.url);
      const theirs = await upgrade(quota.url, someone);
      const wf = await scheduled(quota, someone, theirs, EVERY_SECOND);
      const schedule = await waitFor(async () => {
        const s = await scheduleOf(quota, someone, wf.id);
        return s.last_skip_reason ? s : undefined;
      }, 'a skipped due time');
      expect(schedule.last_skip_reason).toMatch(/used its 1 runs/);
      expect(schedule.enabled).toBe(true);
      // Exactly the one run the quota allowed; the skipped due times left no run row.
      expect(await runsOf(quota, someone, wf.id)).toHaveLength(1);
      const moved = await waitFor(async () => {
        const s = await scheduleOf(quota, someone, wf.id);
        return Date.parse(s.next_run_at!) > Date.parse(schedule.next_run_at!) ? s : undefined;
      }, 'the schedule to move on');
      expect(moved.enabled).toBe(true);
    } finally {
      await quota.close();
    }
  }, 120_000);

  it('a schedule on a workflow that went back to the Solo plan is skipped with the plan message', async () => {
    const someone = await actor(t.url);
    const theirs = await upgrade(t.url, someone);
    const wf = await scheduled(t, someone, theirs, EVERY_SECOND);
    await request(t.url).post('/api/workspaces/plan').set(someone.auth).send({ plan_tier: 'solo' }).expect(200);
    const reason = await waitFor(async () => {
      const row = await t.app.get(Db).manager.getRepository(WorkflowScheduleEntity).findOneBy({ workflowId: wf.id });
      return row?.lastSkipReason ?? undefined;
    }, 'a skipped due time');
    expect(reason).toMatch(/Scheduled triggers are available on workspace plans/);
  });
});

describe('minimum schedule interval (SCHEDULE_MIN_INTERVAL_SECONDS, default 60 s)', () => {
  let t: TestApp;
  let owner: Actor;
  let ws: string;
  beforeAll(async () => {
    t = await createTestApp({ SCHEDULER_TICK_MS: '200', RUNLOOM_ROLES: 'api,scheduler' });
    owner = await actor(t.url);
    ws = await upgrade(t.url, owner);
  });
  afterAll(() => t.close());

  const withSchedule = (scheduleConfig: unknown) =>
    graph([
      trigger('manual-1'),
      trigger('schedule-1', { label: 'Every so often', triggerType: 'Schedule', scheduleConfig }),
    ]);

  it('a schedule firing more often is refused on save with a 403 naming the trigger; nothing is stored', async () => {
    const name = uniqueName('Too fast');
    for (const [config, every] of [
      [EVERY_SECOND, '1 second'],
      [{ cron: '0,30 * * * * *' }, '30 seconds'],
      [{ cron: '*/50 * * * * *' }, '10 seconds'], // :50, then :00 of the next minute
    ] as const) {
      const res = await request(t.url)
        .post('/api/workflows')
        .set(owner.auth)
        .send({ name, data: withSchedule(config), workspace_id: ws })
        .expect(403);
      expect(res.body).toEqual({
        success: false,
        status: 'error',
        message: `The schedule trigger "Every so often" would run every ${every}; schedules run at most once every 1 minute. Choose a longer interval.`,
        violations: [{ code: 'schedule-interval', message: res.body.message, nodeLabel: 'Every so often' }],
      });
    }
    const list = await request(t.url).get('/api/workflows').set(owner.auth).expect(200);
    expect(list.body.workflows.filter((w: { name: string }) => w.name === name)).toEqual([]);
  });

  it('exactly the minimum is fine (cron or DSentr repeat); an update to a faster one is refused and keeps the schedule', async () => {
    for (const config of [
      { cron: '* * * * *' },
      // 23:59:30 → 00:00:30 the next day: one minute apart across midnight.
      { cron: '30 0,59 0,23 * * *' },
      { ...dsentrStart(new Date(minuteFloor(Date.now()) + MINUTE)), repeat: { every: 1, unit: 'minute' } },
    ]) {
      await createWorkflow(t.url, owner, withSchedule(config), ws);
    }
    const wf = await createWorkflow(t.url, owner, withSchedule({ cron: '*/5 * * * *' }), ws);
    const before = await scheduleOf(t, owner, wf.id);
    const res = await request(t.url)
      .put(`/api/workflows/${wf.id}`)
      .set(owner.auth)
      .send({ name: uniqueName(), data: withSchedule({ cron: '*/10 * * * * *' }), updated_at: wf.updated_at })
      .expect(403);
    expect(res.body.violations).toEqual([
      { code: 'schedule-interval', message: expect.stringMatching(/every 10 seconds/), nodeLabel: 'Every so often' },
    ]);
    const after = await request(t.url).get(`/api/workflows/${wf.id}`).set(owner.auth).expect(200);
    expect(after.body.workflow.updated_at).toBe(wf.updated_at);
    expect(after.body.schedule).toEqual(before);
  });

  it('a stored schedule faster than the minimum (saved before it was raised) is turned off when due, with the reason', async () => {
    const wf = await createWorkflow(t.url, owner, withSchedule({ cron: '0 0 1 1 *' }), ws);
    await t.app
      .get(Db)
      .manager.getRepository(WorkflowScheduleEntity)
      .update({ workflowId: wf.id }, { config: EVERY_SECOND, nextRunAt: new Date(Date.now() - 1000) });
    const schedule = await waitFor(async () => {
      const s = await scheduleOf(t, owner, wf.id);
      return s.enabled ? undefined : s;
    }, 'the schedule to be turned off');
    expect(schedule).toMatchObject({
      next_run_at: null,
      last_error: expect.stringMatching(/"Every so often" would run every 1 second/),
    });
    expect(await runsOf(t, owner, wf.id)).toEqual([]);
  });
});

describe.each([
  ['all', 'fires every missed time in order'],
  ['skip', 'fires none of the missed times and records why'],
] as const)('catch-up policy %s', (policy, behaviour) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ SCHEDULER_TICK_MS: '200', SCHEDULE_CATCH_UP: policy, RUNLOOM_ROLES: 'api,scheduler' });
  });
  afterAll(() => t.close());

  it(behaviour, async () => {
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const start = minuteFloor(Date.now()) - 5 * MINUTE;
    const wf = await scheduled(t, owner, ws, { ...dsentrStart(new Date(start)), repeat: { every: 1, unit: 'minute' } });
    await missedSince(t, wf.id, new Date(start));
    const schedule = await waitFor(async () => {
      const s = await scheduleOf(t, owner, wf.id);
      return Date.parse(s.next_run_at!) > Date.now() ? s : undefined;
    }, 'the schedule to catch up');
    const runs = await runsOf(t, owner, wf.id);
    const firedFor = runs.map((r) => Date.parse(r.snapshot._trigger_context.scheduledFor as string)).sort();
    const latest = Date.parse(schedule.next_run_at!) - MINUTE;
    if (policy === 'all') {
      const expected = [];
      for (let at = start; at <= latest; at += MINUTE) expected.push(at);
      expect(firedFor).toEqual(expected);
    } else {
      expect(firedFor).toEqual([]);
      expect(schedule.last_skip_reason).toMatch(/catch-up policy: skip/);
    }
  });
});

describe('firing across DST changes (a moved clock, deviation 19 in docs/deviations.md)', () => {
  let t: TestApp;
  const clock = new FakeClock(new Date('2025-03-29T07:00:00Z'));
  beforeAll(async () => {
    // No worker: the clock jumps by months, which would look like lapsed leases to one.
    t = await createTestApp({ RUNLOOM_ROLES: 'api,scheduler' }, { overrides: [{ provide: Clock, useValue: clock }] });
  });
  afterAll(() => t.close());

  it('a daily 09:00 Europe/Paris schedule fires at 09:00 local before and after each change', async () => {
    const owner = await actor(t.url);
    const ws = await upgrade(t.url, owner);
    const config = {
      startDate: '2025-03-28',
      startTime: '09:00',
      timezone: 'Europe/Paris',
      repeat: { every: 1, unit: 'day' },
    };
    const wf = await scheduled(t, owner, ws, config);
    const scheduler = t.app.get(Scheduler);
    const fired: string[] = [];
    // [clock, due time expected to fire, next due time] — 09:00 is 08:00Z in winter, 07:00Z in summer.
    const steps: [string, string, string][] = [
      ['2025-03-29T08:00:00.500Z', '2025-03-29T08:00:00Z', '2025-03-30T07:00:00Z'],
      ['2025-03-30T07:00:00.500Z', '2025-03-30T07:00:00Z', '2025-03-31T07:00:00Z'],
      // Months later (latest catch-up): the most recent 09:00, then the first one in winter time.
      ['2025-10-25T07:00:00.500Z', '2025-10-25T07:00:00Z', '2025-10-26T08:00:00Z'],
      ['2025-10-26T08:00:00.500Z', '2025-10-26T08:00:00Z', '2025-10-27T08:00:00Z'],
    ];
    expect((await scheduleOf(t, owner, wf.id)).next_run_at).toBe('2025-03-29T08:00:00Z');
    for (const [now, due, next] of steps) {
      clock.set(now);
      await scheduler.tick();
      // Read from the database: the session would have expired by the moved clock.
      const row = await t.app
        .get(Db)
        .manager.getRepository(WorkflowScheduleEntity)
        .findOneByOrFail({ workflowId: wf.id });
      expect(toScheduleResponse(row)).toMatchObject({ last_run_at: due, next_run_at: next, enabled: true });
      fired.push(due);
    }
    const runs = await t.app.get(Db).manager.getRepository(RunEntity).findBy({ workflowId: wf.id });
    expect(runs.map((r) => (r.snapshot._trigger_context as { scheduledFor: string }).scheduledFor).sort()).toEqual(
      fired,
    );
    for (const due of fired) expect(DateTime.fromISO(due, { zone: 'Europe/Paris' }).toFormat('HH:mm')).toBe('09:00');
  });
});
