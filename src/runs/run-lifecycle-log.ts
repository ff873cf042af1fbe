import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/clock';
import type { ArgOf, RunEvent } from '../common/events/app-events';
import { OnAppEvent } from '../common/events/event-bus';
import { isRelayed } from '../common/events/relayed';
import { runFactsOf } from '../common/events/run-facts';
import { REDACTOR } from '../secrets/redactor';

/** Error texts can be long (a node's whole message); a log line keeps their start. */
const MAX_REASON_CHARS = 500;

/** How a run was started, from its `triggered_by` (`user:<id>`, `webhook`, `schedule:<id>`…). */
export function triggerKind(triggeredBy: string): string {
  const kind = triggeredBy.split(':', 1)[0];
  return kind === 'user' ? 'manual' : kind;
}

export interface RunLifecycleLine {
  event: string;
  run_id: string;
  workflow_id: string;
  workspace_id: string | null;
  status: string;
  trigger: string | null;
  triggered_by: string | null;
  request_id: string | null;
  duration_ms?: number;
  reason?: string;
  attempt?: number;
  resume_at?: string;
}

/**
 * One log line per run transition, written by the process that made it (docs/operations.md,
 * Logs): the API for queued and canceled, the worker for started, paused, succeeded and failed,
 * the scheduler for its runs' queued. Events relayed from other processes are theirs to log.
 */
@Injectable()
export class RunLifecycleLog {
  private readonly logger = new Logger('RunLifecycle');

  constructor(private readonly clock: Clock) {}

  @OnAppEvent('run.queued')
  onQueued(event: ArgOf<'run.queued'>): void {
    this.write(event, 'queued', {});
  }

  @OnAppEvent('run.started')
  onStarted(event: ArgOf<'run.started'>): void {
    this.write(event, 'running', { attempt: event.attempt });
  }

  @OnAppEvent('run.paused')
  onPaused(event: ArgOf<'run.paused'>): void {
    this.write(event, 'paused', { resume_at: event.resumeAt });
  }

  @OnAppEvent('run.finished')
  onFinished(event: ArgOf<'run.finished'>): void {
    const reason = event.error ?? runFactsOf(event)?.reason;
    this.write(event, event.status, reason ? { reason } : {});
  }

  /** The line for one transition; `status` is the run's status after it. */
  line(event: RunEvent, status: string, extra: Partial<RunLifecycleLine>): RunLifecycleLine {
    const facts = runFactsOf(event);
    const name = status === 'running' ? 'run.started' : `run.${status}`;
    const line: RunLifecycleLine = {
      event: name,
      run_id: event.runId,
      workflow_id: event.workflowId,
      workspace_id: event.workspaceId,
      status,
      trigger: facts ? triggerKind(facts.triggeredBy) : null,
      triggered_by: facts?.triggeredBy ?? null,
      request_id: facts?.requestId ?? null,
      ...extra,
    };
    if (facts && status !== 'queued') {
      // Started: how long it waited since queued. Later: how long since it first started (or was
      // queued, for a run canceled before it started).
      const since = status === 'running' ? facts.createdAt : (facts.firstClaimedAt ?? facts.createdAt);
      line.duration_ms = Math.max(0, this.clock.now().getTime() - since.getTime());
    }
    if (line.reason && line.reason.length > MAX_REASON_CHARS) {
      line.reason = `${line.reason.slice(0, MAX_REASON_CHARS)}…`;
    }
    return line;
  }

  private write(event: RunEvent, status: string, extra: Partial<RunLifecycleLine>): void {
    if (isRelayed(event)) return;
    // Error texts were redacted against the run's secrets when recorded; the line still goes
    // through the one redactor, as every log does.
    const line = REDACTOR.redact(this.line(event, status, extra));
    const message = line.event.replace('.', ' ');
    if (status === 'failed' || status === 'expired') this.logger.warn(line, message);
    else this.logger.log(line, message);
  }
}
