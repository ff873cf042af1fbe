/**
 * The engine's port to persistence and live events: the executor reports what happens
 * to one execution here and never touches a repository, so it can be tested on an in-memory
 * journal and its nodes can run off the main thread. The runs module implements it (database
 * writes, lifecycle events, retries). Modelled on n8n's execution lifecycle hooks: one journal per
 * execution, bound to the run and the lease holder.
 */

/** The run being executed, as the engine needs it. */
export interface ExecutableRun {
  id: string;
  workflowId: string;
  workspaceId: string | null;
  /** The workflow owner: their secrets (and the workspace's shared ones) are hydrated. */
  ownerId: string;
  snapshot: Record<string, unknown>;
  /** Claims so far, this one included: a first execution has no checkpoints. */
  attempt: number;
}

/** What identifies a node run and is known before the node executes. */
export interface NodeRunStart {
  nodeId: string;
  name: string;
  nodeType: string;
  /** The node's `data` as saved (secret references, never hydrated values). */
  inputs: unknown;
  /** Execution order within the run. */
  sequence: number;
}

/** A node run that finished: written with the next write that needs it. */
export interface NodeRunRecord {
  node: NodeRunStart;
  status: 'succeeded' | 'failed';
  outputs: unknown;
  error: string | null;
  startedAt: Date;
  finishedAt: Date;
}

/** A node run recorded by an earlier attempt of the same run. */
export interface Checkpoint {
  nodeId: string;
  status: string;
  outputs: unknown;
  sequence: number;
  updatedAt: Date;
}

/**
 * Every method that changes the run's state is conditional on still holding the lease and
 * answers whether it applied (false: canceled or taken over meanwhile). Implementations retry
 * transient persistence errors and throw once they give up.
 */
export interface RunJournal {
  /** The execution began (live event only). */
  started(): void;
  /** Node runs of earlier attempts (resume after a crash, a delay or a hand-back). */
  checkpoints(): Promise<Checkpoint[]>;
  /** A node with effects outside the process is about to run: recorded as `running` first. */
  nodeStarted(start: NodeRunStart, at: Date): Promise<void>;
  /** Live event: a node began (in-memory nodes are not written until they finish). */
  nodeRunning(start: NodeRunStart): void;
  /** A node recorded with `nodeStarted` finished. */
  nodeFinished(
    start: NodeRunStart,
    status: 'succeeded' | 'failed',
    outputs: unknown,
    error: string | null,
    at: Date,
  ): Promise<void>;
  /** In-memory nodes that finished, written together. */
  nodesFinished(records: NodeRunRecord[]): Promise<void>;
  /** A delay: back to the queue until `until`, with the resume state in `snapshot`. */
  paused(until: Date, snapshot: Record<string, unknown>): Promise<boolean>;
  /** The terminal write, with the node runs not written yet (one statement where it can be). */
  finished(status: 'succeeded' | 'failed', error: string | null, records: NodeRunRecord[]): Promise<boolean>;
  /** Fails the run and files a dead letter (requeue starts it again from its snapshot). */
  failedWithDeadLetter(error: string): Promise<boolean>;
  /** Graceful shutdown: hands the run back to the queue. */
  released(): Promise<boolean>;
}
