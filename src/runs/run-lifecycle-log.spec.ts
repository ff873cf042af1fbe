import { Logger } from '@nestjs/common';
import { Clock } from '../common/clock';
import type { RunEvent } from '../common/events/app-events';
import { markRelayed } from '../common/events/relayed';
import { RunFacts, withRunFacts } from '../common/events/run-facts';
import { RunLifecycleLog, triggerKind } from './run-lifecycle-log';

class FixedClock extends Clock {
  constructor(private readonly at: Date) {
    super();
  }
  override now(): Date {
    return new Date(this.at);
  }
}

const QUEUED_AT = new Date('2026-03-01T10:00:00.000Z');
const STARTED_AT = new Date('2026-03-01T10:00:02.000Z');
const NOW = new Date('2026-03-01T10:00:05.500Z');

const BASE: RunEvent = { runId: 'run-1', workflowId: 'wf-1', workspaceId: 'ws-1', ownerId: 'owner-1' };

/** A run event with `extra`, and the run's facts unless `facts` is null. */
function event<T extends object>(extra: T, facts: Partial<RunFacts> | null = {}, reason?: string): RunEvent & T {
  const payload = { ...BASE, ...extra };
  if (!facts) return payload;
  const run = { triggeredBy: 'user:u-1', requestId: 'req-1', createdAt: QUEUED_AT, firstClaimedAt: STARTED_AT };
  return withRunFacts(payload, { ...run, ...facts }, reason);
}

describe('RunLifecycleLog', () => {
  let log: RunLifecycleLog;
  let written: { level: 'info' | 'warn'; line: Record<string, unknown>; message: unknown }[];
  beforeEach(() => {
    log = new RunLifecycleLog(new FixedClock(NOW));
    written = [];
    jest
      .spyOn(Logger.prototype, 'log')
      .mockImplementation(
        (line: unknown, message: unknown) =>
          void written.push({ level: 'info', line: line as Record<string, unknown>, message }),
      );
    jest
      .spyOn(Logger.prototype, 'warn')
      .mockImplementation(
        (line: unknown, message: unknown) =>
          void written.push({ level: 'warn', line: line as Record<string, unknown>, message }),
      );
  });
  afterEach(() => jest.restoreAllMocks());

  it('names how a run was started', () => {
    expect(triggerKind('user:abc')).toBe('manual');
    expect(triggerKind('webhook')).toBe('webhook');
    expect(triggerKind('schedule:s-1')).toBe('schedule');
    expect(triggerKind('rerun:r-1')).toBe('rerun');
    expect(triggerKind('dead_letter:d-1')).toBe('dead_letter');
  });

  it('queued: ids, trigger and request id, no duration', () => {
    log.onQueued(event({}, { firstClaimedAt: null }));
    expect(written).toEqual([
      {
        level: 'info',
        message: 'run queued',
        line: {
          event: 'run.queued',
          run_id: 'run-1',
          workflow_id: 'wf-1',
          workspace_id: 'ws-1',
          status: 'queued',
          trigger: 'manual',
          triggered_by: 'user:u-1',
          request_id: 'req-1',
        },
      },
    ]);
  });

  it('started: the time it waited since queued; finished: the time since it first started', () => {
    log.onStarted(event({ attempt: 2 }));
    log.onFinished(event({ status: 'succeeded' as const, error: null }));
    expect(written.map((w) => [w.line.event, w.line.duration_ms, w.line.attempt])).toEqual([
      ['run.started', 5_500, 2],
      ['run.succeeded', 3_500, undefined],
    ]);
  });

  it('failed is a warning with the error as the reason, cut when long', () => {
    log.onFinished(event({ status: 'failed' as const, error: `boom ${'x'.repeat(1_000)}` }));
    expect(written[0]).toMatchObject({ level: 'warn', message: 'run failed', line: { status: 'failed' } });
    const reason = written[0].line.reason as string;
    expect(reason.startsWith('boom xxx')).toBe(true);
    expect(reason.length).toBe(501);
  });

  it('canceled before it started: the reason who canceled it, the duration since queued', () => {
    log.onFinished(
      event({ status: 'canceled' as const, error: null }, { firstClaimedAt: null }, 'canceled by user:u-2'),
    );
    expect(written[0]).toMatchObject({
      level: 'info',
      message: 'run canceled',
      line: { event: 'run.canceled', reason: 'canceled by user:u-2', duration_ms: 5_500 },
    });
  });

  it('an event without facts still gets its line, with what it has', () => {
    log.onFinished(event({ status: 'failed' as const, error: 'lost' }, null));
    expect(written[0].line).toEqual({
      event: 'run.failed',
      run_id: 'run-1',
      workflow_id: 'wf-1',
      workspace_id: 'ws-1',
      status: 'failed',
      trigger: null,
      triggered_by: null,
      request_id: null,
      reason: 'lost',
    });
  });

  it('events relayed from another process are that process’s to log', () => {
    const relayed = event({ status: 'succeeded' as const, error: null });
    markRelayed(relayed);
    log.onFinished(relayed);
    expect(written).toEqual([]);
  });
});
