/**
 * What the process making a run transition knows of the run, for its lifecycle log line
 * (src/runs/run-lifecycle-log.ts). Kept beside the event payload, not in it: payloads stay small
 * ids (the PostgreSQL relay sends them to other processes), and an event that came from another
 * process has none.
 */
export interface RunFacts {
  triggeredBy: string;
  requestId: string | null;
  createdAt: Date;
  firstClaimedAt: Date | null;
  /** Why it ended this way when the status alone does not say (who canceled it). */
  reason?: string;
}

const facts = new WeakMap<object, RunFacts>();

/** `event`, with the facts of `run` (copied: an event must not hold the row's snapshot). */
export function withRunFacts<T extends object>(event: T, run: Omit<RunFacts, 'reason'>, reason?: string): T {
  const { triggeredBy, requestId, createdAt, firstClaimedAt } = run;
  facts.set(event, { triggeredBy, requestId, createdAt, firstClaimedAt, ...(reason === undefined ? {} : { reason }) });
  return event;
}

export function runFactsOf(event: object): RunFacts | undefined {
  return facts.get(event);
}

/**
 * A finished run as the worker that finished it wrote it: with it, the run's notification is
 * queued without reading the run back (src/notifications). Absent from other emitters' events.
 */
export interface WrittenFinish {
  startedAt: Date;
  finishedAt: Date;
  workflowVersion: number | null;
  triggeredBy: string;
}

const writtenFinishes = new WeakMap<object, WrittenFinish>();

export function withWrittenFinish<T extends object>(event: T, finish: WrittenFinish): T {
  writtenFinishes.set(event, finish);
  return event;
}

export function writtenFinishOf(event: object): WrittenFinish | undefined {
  return writtenFinishes.get(event);
}
