import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/clock';
import { runEvent } from '../common/events/app-events';
import { EventBus } from '../common/events/event-bus';
import { withRunFacts, withWrittenFinish } from '../common/events/run-facts';
import { RunEntity } from '../database/entities/run.entity';
import { NodeRunRepository } from '../database/repositories/node-run.repository';
import { RunQueueRepository } from '../database/repositories/run-queue.repository';
import type { Checkpoint, NodeRunRecord, NodeRunStart, RunJournal } from '../engine/run-journal';
import { TracedJournal, tracedJournal } from './run-tracing';

const WRITE_ATTEMPTS = 3;

/**
 * The runs module's side of the engine's journal port: each report becomes a conditional write
 * on the run's rows and, once it applied, the lifecycle event live streams follow. Persistence
 * errors are retried (3 attempts, 100 ms ×2 backoff); then they fail that execution only.
 */
@Injectable()
export class RunJournals {
  private readonly logger = new Logger(RunJournals.name);

  constructor(
    private readonly queue: RunQueueRepository,
    private readonly nodeRuns: NodeRunRepository,
    private readonly events: EventBus,
    private readonly clock: Clock,
  ) {}

  /** The journal of one execution of `run` under `workerId`'s lease, traced (run-tracing.ts). */
  open(run: RunEntity, workerId: string): TracedJournal {
    return tracedJournal(run, this.untraced(run, workerId));
  }

  private untraced(run: RunEntity, workerId: string): RunJournal {
    const event = runEvent(run);
    const announce = (records: NodeRunRecord[]) => {
      for (const record of records) {
        this.events.emit('node.finished', { ...event, nodeId: record.node.nodeId, status: record.status });
      }
    };
    // Lifecycle events come with the run's facts, for this process's log line; a finish also with
    // the row as written, for its notification.
    const finished = (status: 'succeeded' | 'failed', error: string | null, finishedAt: Date) =>
      this.events.emit(
        'run.finished',
        withWrittenFinish(withRunFacts({ ...event, status, error }, run), {
          startedAt: run.startedAt,
          finishedAt,
          workflowVersion: run.workflowVersion,
          triggeredBy: run.triggeredBy,
        }),
      );
    return {
      started: () => this.events.emit('run.started', withRunFacts({ ...event, attempt: run.attempt }, run)),
      checkpoints: (): Promise<Checkpoint[]> =>
        this.withRetry('load node runs', () => this.nodeRuns.nodeRuns(run.workflowId, run.id)),
      nodeStarted: (start: NodeRunStart, at: Date) =>
        this.withRetry('start node run', () => this.nodeRuns.startNode(run.id, start, at)),
      nodeRunning: (start: NodeRunStart) =>
        this.events.emit('node.started', { ...event, nodeId: start.nodeId, nodeType: start.nodeType }),
      nodeFinished: async (start, status, outputs, error, at) => {
        await this.withRetry('finish node run', () =>
          this.nodeRuns.finishNode(run.id, start.nodeId, status, outputs, error, at),
        );
        this.events.emit('node.finished', { ...event, nodeId: start.nodeId, status });
      },
      nodesFinished: async (records) => {
        await this.withRetry('record node runs', () => this.nodeRuns.recordNodes(run.id, records, this.clock.now()));
        announce(records);
      },
      paused: async (until, snapshot) => {
        const paused = await this.withRetry('pause run', () =>
          this.queue.pause(run.id, workerId, until, snapshot, this.clock.now()),
        );
        if (paused) this.events.emit('run.paused', withRunFacts({ ...event, resumeAt: until.toISOString() }, run));
        return paused;
      },
      finished: async (status, error, records) => {
        // The time the write that applied was made with (each retry takes its own).
        let finishedAt = this.clock.now();
        const done = await this.withRetry('complete run', () =>
          this.queue.finish(run.id, workerId, status, error, (finishedAt = this.clock.now()), records),
        );
        announce(records);
        if (done) finished(status, error, finishedAt);
        return done;
      },
      failedWithDeadLetter: async (error) => {
        let finishedAt = this.clock.now();
        const done = await this.withRetry('insert dead letter', () =>
          this.queue.failWithDeadLetter(run, workerId, error, run.snapshot, (finishedAt = this.clock.now())),
        );
        if (done) finished('failed', error, finishedAt);
        return done;
      },
      released: () => this.withRetry('release run', () => this.queue.release(run.id, workerId, this.clock.now())),
    };
  }

  private async withRetry<T>(operation: string, write: () => Promise<T>): Promise<T> {
    let delay = 100;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await write();
      } catch (error) {
        if (attempt >= WRITE_ATTEMPTS) {
          this.logger.error(
            { operation, err: { name: (error as Error).name, message: (error as Error).message } },
            'persistence failed',
          );
          throw new Error(`Failed to ${operation}`, { cause: error });
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay *= 2;
      }
    }
  }
}
