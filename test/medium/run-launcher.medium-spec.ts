import { EventEmitter2 } from '@nestjs/event-emitter';
import { randomUUID } from 'node:crypto';
import { AppError, ErrorCode, PlanViolationError, RunawayProtectionError } from '../../src/common/errors/app-error';
import type { ArgOf } from '../../src/common/events/app-events';
import { Db } from '../../src/database/db.service';
import { DeadLetterEntity } from '../../src/database/entities/dead-letter.entity';
import { RunEntity } from '../../src/database/entities/run.entity';
import { WorkflowEntity } from '../../src/database/entities/workflow.entity';
import { RunUsageRepository } from '../../src/database/repositories/run-usage.repository';
import { RunRepository } from '../../src/database/repositories/run.repository';
import { periodStart } from '../../src/plans/run-quota.service';
import { LaunchRequest, RunLauncher } from '../../src/runs/run-launcher';
import { RunsModule } from '../../src/runs/runs.module';
import { createMedium, Medium, TestUser } from '../utils/medium';

/**
 * RunLauncher, the only way a run starts (docs/architecture.md, The run lifecycle): each trigger
 * kind's gates, the quota ticket and its release, idempotent replays, and the one `run.queued`.
 */
function harness(env: Record<string, string> = {}) {
  const h = {} as { m: Medium; launcher: RunLauncher; queued: ArgOf<'run.queued'>[]; paid: TestUser };
  beforeAll(async () => {
    h.m = await createMedium({ imports: [RunsModule], env: { WORKSPACE_MONTHLY_RUN_LIMIT: '100', ...env } });
    h.launcher = h.m.get(RunLauncher);
    h.queued = [];
    h.m.get(EventEmitter2).on('run.queued', (event: ArgOf<'run.queued'>) => h.queued.push(event));
    h.paid = await h.m.make.user({ plan: 'workspace' });
  });
  beforeEach(() => (h.queued.length = 0));
  afterAll(() => h.m?.close());
  return h;
}

/** A signed webhook's start of `wf`, owned by `paid`. */
const signedWebhook = (paid: TestUser, wf: WorkflowEntity, signature: string): LaunchRequest => ({
  workflow: wf,
  trigger: { kind: 'webhook', owner: paid.user, workspace: null },
  signature,
  snapshot: () => ({ ...wf.data }),
});

describe('RunLauncher', () => {
  const h = harness();
  const workflow = () => h.m.make.workflow(h.paid, { workspaceId: h.paid.soloWorkspaceId });
  const used = async () =>
    (await h.m.get(RunUsageRepository).find(h.paid.user.id, periodStart(h.m.clock.now()).toISOString()))?.runCount ?? 0;
  const manual = (wf: WorkflowEntity, extra: Partial<LaunchRequest> = {}): LaunchRequest => ({
    workflow: wf,
    trigger: { kind: 'manual', caller: h.paid.principal },
    snapshot: () => ({ ...wf.data }),
    ...extra,
  });
  const runsOf = (wf: WorkflowEntity) => h.m.get(RunRepository).listForWorkflow(wf.id, 1, 100, []);

  it('a manual start queues one run, takes one ticket and announces it once', async () => {
    const wf = await workflow();
    const before = await used();
    const { run, replayed } = await h.launcher.launch(manual(wf));
    expect(replayed).toBe(false);
    expect(run).toMatchObject({ status: 'queued', workflowId: wf.id, triggeredBy: `user:${h.paid.user.id}` });
    expect(await used()).toBe(before + 1);
    expect(h.queued.map((e) => e.runId)).toEqual([run.id]);
  });

  it('a repeated idempotency key answers the same run: nothing queued, nothing charged, no event', async () => {
    const wf = await workflow();
    const first = await h.launcher.launch(manual(wf, { idempotencyKey: 'order-7' }));
    const before = await used();
    h.queued.length = 0;
    const again = await h.launcher.launch(manual(wf, { idempotencyKey: 'order-7', priority: 5 }));
    expect(again).toMatchObject({ replayed: true, run: { id: first.run.id, queuePriority: 5 } });
    expect(await used()).toBe(before);
    expect(h.queued).toEqual([]);
    expect(await runsOf(wf)).toHaveLength(1);
  });

  it('concurrent starts with one idempotency key make one run', async () => {
    const wf = await workflow();
    const results = await Promise.all(
      Array.from({ length: 5 }, () => h.launcher.launch(manual(wf, { idempotencyKey: 'burst' }))),
    );
    expect(new Set(results.map((r) => r.run.id)).size).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect(await runsOf(wf)).toHaveLength(1);
  });

  it('a start refused while its run is built takes no ticket', async () => {
    const wf = await workflow();
    const before = await used();
    const refused = h.launcher.launch(
      manual(wf, {
        snapshot: () => {
          throw new AppError(ErrorCode.InvalidRequest, 'start_from_node_id must name a trigger node');
        },
      }),
    );
    await expect(refused).rejects.toThrow('start_from_node_id must name a trigger node');
    expect(await used()).toBe(before);
    expect(await runsOf(wf)).toEqual([]);
    expect(h.queued).toEqual([]);
  });

  it('a rerun is triggered by the run it reruns and recorded as asked by the user', async () => {
    const wf = await workflow();
    const { run } = await h.launcher.launch({
      workflow: wf,
      trigger: { kind: 'rerun', caller: h.paid.principal, baseRunId: 'base-run' },
      snapshot: () => ({ ...wf.data }),
    });
    expect(run.triggeredBy).toBe('rerun:base-run');
    const events = await h.m.get(RunRepository).eventsFor(wf.id, run.id);
    expect(events.map((e) => e.triggeredBy)).toEqual([`user:${h.paid.user.id}`]);
  });

  it('a schedule fires once per due time: a retried firing finds the run it queued', async () => {
    const wf = await workflow();
    const dueAt = new Date('2026-03-02T10:00:00Z');
    const launch = () =>
      h.launcher.launch({
        workflow: wf,
        trigger: { kind: 'schedule', scheduleId: 'sched-1', dueAt },
        snapshot: () => ({ ...wf.data }),
      });
    const first = await launch();
    const retried = await launch();
    expect(retried).toMatchObject({ replayed: true, run: { id: first.run.id } });
    expect(first.run).toMatchObject({ triggeredBy: 'schedule:sched-1', requestId: null });
  });

  it('a schedule on the Solo plan is refused as a premium trigger and queues nothing', async () => {
    const solo = await h.m.make.user({ plan: 'solo' });
    const wf = await h.m.make.workflow(solo, { workspaceId: solo.soloWorkspaceId });
    const refused = h.launcher.launch({
      workflow: wf,
      trigger: { kind: 'schedule', scheduleId: 'sched-solo', dueAt: new Date('2026-03-02T10:00:00Z') },
      snapshot: () => ({ ...wf.data }),
    });
    await expect(refused).rejects.toBeInstanceOf(PlanViolationError);
    expect(await runsOf(wf)).toEqual([]);
  });

  it('a dead letter is requeued without gates and deleted with the same write; a second requeue is a 404', async () => {
    const wf = await workflow();
    const { run } = await h.launcher.launch(manual(wf));
    const deadLetterId = randomUUID();
    await h.m
      .get(Db)
      .manager.getRepository(DeadLetterEntity)
      .save(
        Object.assign(new DeadLetterEntity(), {
          id: deadLetterId,
          userId: h.paid.user.id,
          workflowId: wf.id,
          runId: run.id,
          error: 'lease lost 3 times',
          snapshot: { ...wf.data },
          createdAt: h.m.clock.now(),
        }),
      );
    const before = await used();
    const requeue = () =>
      h.launcher.launch({
        workflow: wf,
        trigger: { kind: 'dead_letter', caller: h.paid.principal, deadLetterId },
        snapshot: () => ({ ...wf.data }),
      });
    const { run: requeued } = await requeue();
    expect(requeued).toMatchObject({ status: 'queued', triggeredBy: `dead_letter:${deadLetterId}` });
    expect(await used()).toBe(before);
    await expect(requeue()).rejects.toMatchObject({ status: 404, message: 'Dead letter not found' });
  });

  it('a webhook start is triggered by "webhook" and announced like any other', async () => {
    const wf = await workflow();
    const { run } = await h.launcher.launch({
      workflow: wf,
      trigger: { kind: 'webhook', owner: h.paid.user, workspace: null },
      snapshot: () => ({ ...wf.data }),
    });
    expect(run).toMatchObject({ triggeredBy: 'webhook' });
    expect(h.queued.map((e) => e.runId)).toEqual([run.id]);
  });

  it('a signed webhook signature starts one run: its second use is a replay that writes and charges nothing', async () => {
    const wf = await workflow();
    const hook = () => signedWebhook(h.paid, wf, 'v1=abc');
    const { run } = await h.launcher.launch(hook());
    const before = await used();
    h.queued.length = 0;
    await expect(h.launcher.launch(hook())).rejects.toMatchObject({ status: 401, message: 'Replay detected' });
    expect(await used()).toBe(before);
    expect((await runsOf(wf)).map((r) => r.id)).toEqual([run.id]);
    expect(h.queued).toEqual([]);
    // The same signature on another workflow is that workflow's first.
    const other = await workflow();
    await expect(h.launcher.launch({ ...hook(), workflow: other })).resolves.toMatchObject({ replayed: false });
  });

  it('concurrent deliveries of one signature make one run and take one ticket', async () => {
    const wf = await workflow();
    const before = await used();
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => h.launcher.launch(signedWebhook(h.paid, wf, 'v1=burst'))),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(
      results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.message),
    ).toEqual(Array(4).fill('Replay detected'));
    expect(await used()).toBe(before + 1);
    expect(await runsOf(wf)).toHaveLength(1);
  });
});

describe('RunLauncher with a monthly allowance of 2 runs', () => {
  const h = harness({ WORKSPACE_MONTHLY_RUN_LIMIT: '2' });

  it('the start past the allowance is a 429 that writes no run; its signature stays used', async () => {
    const wf = await h.m.make.workflow(h.paid, { workspaceId: h.paid.soloWorkspaceId });
    const hook = (signature: string) => signedWebhook(h.paid, wf, signature);
    await h.launcher.launch(hook('v1=one'));
    await h.launcher.launch(hook('v1=two'));
    await expect(h.launcher.launch(hook('v1=three'))).rejects.toMatchObject({
      status: 429,
      code: ErrorCode.WorkspaceRunLimit,
    });
    expect(await h.m.get(RunRepository).listForWorkflow(wf.id, 1, 100, [])).toHaveLength(2);
    const usage = await h.m.get(RunUsageRepository).find(h.paid.user.id, periodStart(h.m.clock.now()).toISOString());
    expect(usage).toMatchObject({ runCount: 2 });
    await expect(h.launcher.launch(hook('v1=three'))).rejects.toMatchObject({ message: 'Replay detected' });
  });
});

describe('RunLauncher with runaway protection at 2 runs per 5 minutes', () => {
  const h = harness({ RUNAWAY_LIMIT_5MIN: '2' });

  it('refuses the start past the limit before taking a ticket', async () => {
    const wf = await h.m.make.workflow(h.paid, { workspaceId: h.paid.soloWorkspaceId });
    const launch = () =>
      h.launcher.launch({
        workflow: wf,
        trigger: { kind: 'manual', caller: h.paid.principal },
        snapshot: () => ({ ...wf.data }),
      });
    await launch();
    await launch();
    await launch();
    const usage = h.m.get(RunUsageRepository);
    const period = periodStart(h.m.clock.now()).toISOString();
    const charged = (await usage.find(h.paid.user.id, period))!.runCount;
    await expect(launch()).rejects.toBeInstanceOf(RunawayProtectionError);
    expect((await usage.find(h.paid.user.id, period))!.runCount).toBe(charged);
    const runs: RunEntity[] = await h.m.get(RunRepository).listForWorkflow(wf.id, 1, 100, []);
    expect(runs).toHaveLength(3);
  });

  it('a replay of a signature this process recorded is refused as a replay before runaway protection', async () => {
    h.m.clock.advance(6 * 60_000);
    const wf = await h.m.make.workflow(h.paid, { workspaceId: h.paid.soloWorkspaceId });
    const hook = (signature: string) => signedWebhook(h.paid, wf, signature);
    for (const signature of ['v1=first', 'v1=second', 'v1=third']) await h.launcher.launch(hook(signature));
    await expect(h.launcher.launch(hook('v1=fourth'))).rejects.toBeInstanceOf(RunawayProtectionError);
    await expect(h.launcher.launch(hook('v1=first'))).rejects.toMatchObject({ message: 'Replay detected' });
    // A start refused by runaway protection did not use its signature.
    h.m.clock.advance(6 * 60_000);
    await expect(h.launcher.launch(hook('v1=fourth'))).resolves.toMatchObject({ replayed: false });
  });

  it('a rerun repeating a used idempotency key answers its run even when a new start is refused', async () => {
    // Past the window of the test above.
    h.m.clock.advance(6 * 60_000);
    const wf = await h.m.make.workflow(h.paid, { workspaceId: h.paid.soloWorkspaceId });
    const rerun = () =>
      h.launcher.launch({
        workflow: wf,
        trigger: { kind: 'rerun', caller: h.paid.principal, baseRunId: 'base-run' },
        idempotencyKey: 'retry-1',
        snapshot: () => ({ ...wf.data }),
      });
    const first = await rerun();
    for (let i = 0; i < 2; i += 1)
      await h.launcher.launch({
        workflow: wf,
        trigger: { kind: 'manual', caller: h.paid.principal },
        snapshot: () => ({ ...wf.data }),
      });
    expect(await rerun()).toMatchObject({ replayed: true, run: { id: first.run.id } });
    await expect(
      h.launcher.launch({ workflow: wf, trigger: { kind: 'manual', caller: h.paid.principal }, snapshot: () => ({}) }),
    ).rejects.toBeInstanceOf(RunawayProtectionError);
  });
});
