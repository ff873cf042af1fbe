import { runEvent } from '../common/events/app-events';
import { EventBus } from '../common/events/event-bus';
import { withRunFacts } from '../common/events/run-facts';
import type { DisplacedRun } from '../database/repositories/run.repository';

/**
 * A canceled run's events: the worker executing it (in this process; others notice on their next
 * heartbeat) stops, and streams, notifications and the lifecycle log hear it finished, with why.
 */
export function announceCanceled(events: EventBus, run: DisplacedRun, reason: string): void {
  const event = runEvent(run);
  events.emit('run.cancel_requested', event);
  events.emit('run.finished', withRunFacts({ ...event, status: 'canceled', error: null }, run, reason));
}
