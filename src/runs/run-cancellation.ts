import { runEvent } from '../common/events/app-events';
import { EventBus } from '../common/events/event-bus';
import { withRunFacts } from '../common/events/run-facts';
import type { RunEntity } from '../database/entities/run.entity';

/** What a cancel knows of each run it canceled (its log line's facts, not its snapshot). */
export type CanceledRun = Pick<
  RunEntity,
  'id' | 'workflowId' | 'workspaceId' | 'ownerId' | 'triggeredBy' | 'requestId' | 'createdAt' | 'firstClaimedAt'
>;

/**
 * A canceled run's events: the worker executing it (in this process; others notice on their next
 * heartbeat) stops, and streams, notifications and the lifecycle log hear it finished, with why.
 */
export function announceCanceled(events: EventBus, run: CanceledRun, reason: string): void {
  const event = runEvent(run);
  events.emit('run.cancel_requested', event);
  events.emit('run.finished', withRunFacts({ ...event, status: 'canceled', error: null }, run, reason));
}
