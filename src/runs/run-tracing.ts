import { Attributes, Span, SpanStatusCode, trace } from '@opentelemetry/api';
import { contextFrom, tracer } from '../common/tracing/tracing';
import { RunEntity } from '../database/entities/run.entity';
import type { NodeRunRecord, NodeRunStart, RunJournal } from '../engine/run-journal';

/**
 * One execution of a run as a span, a child of the request that started the run (its recorded
 * `traceparent`), with a span per node: the engine reports each node once it finished, with its
 * start and end times, so node spans are written after the fact. A run that pauses (a delay) or
 * is handed back ends this execution's span; its next execution is another span in the same trace.
 */
export interface TracedJournal extends RunJournal {
  /**
   * Ends the execution's span if no journal write ended it: an execution stopped without one (a
   * cancel, a lost lease) or that threw. Idempotent; the worker calls it when an execution is over.
   */
  end(outcome: string): void;
}

/** Tracing must never change what a journal call answers: a failure in it is dropped. */
function quietly(trace: () => void): void {
  try {
    trace();
  } catch {
    // A span not written is a gap in a trace, not a failed run.
  }
}

export function tracedJournal(run: RunEntity, journal: RunJournal): TracedJournal {
  let span: Span | null = null;
  let ended = false;
  const open = (): Span => {
    span ??= tracer().startSpan(
      'workflow.run',
      {
        attributes: {
          'runloom.run.id': run.id,
          'runloom.workflow.id': run.workflowId,
          'runloom.run.attempt': run.attempt,
          ...(run.workflowVersion !== null ? { 'runloom.workflow.version': run.workflowVersion } : {}),
          ...(run.workspaceId ? { 'runloom.workspace.id': run.workspaceId } : {}),
        },
      },
      contextFrom(run.traceParent),
    );
    return span;
  };
  const close = (outcome: string, error: string | null = null) =>
    quietly(() => {
      if (ended) return;
      ended = true;
      const current = open();
      current.setAttribute('runloom.run.outcome', outcome);
      if (error !== null) current.setStatus({ code: SpanStatusCode.ERROR, message: error });
      else if (outcome === 'succeeded') current.setStatus({ code: SpanStatusCode.OK });
      current.end();
    });
  /** Node runs recorded with `nodeStarted`: their start, for the span written when they finish. */
  const starts = new Map<string, Date>();
  const nodeSpan = (node: NodeRunStart, status: string, error: string | null, startedAt: Date, finishedAt: Date) => {
    const attributes: Attributes = {
      'runloom.node.id': node.nodeId,
      'runloom.node.type': node.nodeType,
      'runloom.node.sequence': node.sequence,
      'runloom.node.status': status,
    };
    const child = tracer().startSpan(
      `node ${node.name || node.nodeId}`,
      { startTime: startedAt, attributes },
      trace.setSpan(contextFrom(run.traceParent), open()),
    );
    child.setStatus(
      status === 'failed' ? { code: SpanStatusCode.ERROR, message: error ?? 'failed' } : { code: SpanStatusCode.OK },
    );
    child.end(finishedAt);
  };
  /** A write that ends the execution ends its span too, with what it came to (`error` if it threw). */
  const settle = async <T>(write: () => Promise<T>, outcome: (result: T) => [string, string | null]): Promise<T> => {
    let result: T;
    try {
      result = await write();
    } catch (error) {
      close('error', error instanceof Error ? error.message : String(error));
      throw error;
    }
    close(...outcome(result));
    return result;
  };
  const recorded = (records: NodeRunRecord[]) =>
    quietly(() => {
      for (const r of records) nodeSpan(r.node, r.status, r.error, r.startedAt, r.finishedAt);
    });
  return {
    ...journal,
    end: (outcome) => close(outcome),
    started: () => {
      quietly(open);
      journal.started();
    },
    nodeStarted: (start, at) => {
      starts.set(start.nodeId, at);
      return journal.nodeStarted(start, at);
    },
    nodeFinished: async (start, status, outputs, error, at) => {
      await journal.nodeFinished(start, status, outputs, error, at);
      quietly(() => nodeSpan(start, status, error, starts.get(start.nodeId) ?? at, at));
      starts.delete(start.nodeId);
    },
    nodesFinished: async (records) => {
      await journal.nodesFinished(records);
      recorded(records);
    },
    paused: (until, snapshot) =>
      settle(
        () => journal.paused(until, snapshot),
        (paused) => [paused ? 'paused' : 'lost', null],
      ),
    finished: (status, error, records) =>
      settle(
        () => journal.finished(status, error, records),
        (done) => {
          recorded(records);
          return done ? [status, error] : ['lost', null];
        },
      ),
    failedWithDeadLetter: (error) =>
      settle(
        () => journal.failedWithDeadLetter(error),
        (done) => (done ? ['failed', error] : ['lost', null]),
      ),
    released: () =>
      settle(
        () => journal.released(),
        () => ['released', null],
      ),
  };
}
