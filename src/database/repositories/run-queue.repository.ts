import { Injectable, Logger, Optional } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { runEvent } from '../../common/events/app-events';
import { EventBus } from '../../common/events/event-bus';
import { withRunFacts } from '../../common/events/run-facts';
import { Db } from '../db.service';
import { DeadLetterEntity } from '../entities/dead-letter.entity';
import { RunEntity } from '../entities/run.entity';
import { Sql, SqlRunner } from '../sql';
import { NodeRunRecord, NodeRunUpserts } from './node-run.repository';
import {
  ABANDON_EXPIRED,
  CLAIM_CANDIDATES,
  CLAIM_RUNS,
  DEAD_LETTER_COLUMNS,
  EXPIRE_QUEUED,
  FINISH,
  FINISH_MANY,
  FINISH_PARAMETERS,
  FINISH_WITH_NODES,
  FIRST_TENANT,
  GROUPS_RUNNING,
  INSERT_DEAD_LETTER,
  TRY_LOCK_WORKFLOW,
  NEXT_PRIORITY,
  PAUSE,
  PEEK_CANDIDATES,
  PEEK_EXPIRED,
  PEEK_QUEUE_EXPIRED,
  PRIORITY_RANGE,
  RELEASE,
  RENEW_LEASE,
  REQUEUE_EXPIRED,
  SNAPSHOT_OF,
  TENANTS_AFTER,
  WORKFLOW_SLOTS,
} from './run-queue.sql';

/** Most runs, node runs and characters of node-run values one batched terminal write carries (FINISH_MANY). */
const FINISH_BATCH_RUNS = 256;
const FINISH_BATCH_NODE_RUNS = 4_096;
const FINISH_BATCH_CHARS = 256 * 1024;
/**
 * A terminal write whose node runs hold more goes alone: an array parameter is escaped character
 * by character on the event loop, a plain one is not (a run with a megabyte of outputs).
 */
const FINISH_ALONE_CHARS = 16 * 1024;

/** A terminal write waiting for the next batch. */
interface PendingFinish {
  runId: string;
  workerId: string;
  status: 'succeeded' | 'failed' | 'canceled';
  error: string | null;
  now: Date;
  records: NodeRunRecord[];
  /** The node runs' parameters (NodeRunUpserts.values), and how many characters their strings hold. */
  values: unknown[];
  chars: number;
  resolve: (held: boolean) => void;
  reject: (error: unknown) => void;
}

/** A queued run a claim may take, as CLAIM_CANDIDATES reads it. */
type Candidate = {
  id: string;
  workflow_id: string;
  concurrency_key: string | null;
  queue_priority: number;
  created_at: unknown;
};

/** How many claim candidates are read per wanted run: some may belong to workflows at their limit. */
const CANDIDATES_PER_SLOT = 4;

/** Snapshots up to this size come with the claim (SQLite: characters; PostgreSQL: stored, maybe compressed, bytes). */
const CLAIM_INLINE_SNAPSHOT = 16_384;

/**
 * A run as the claim returns it: a large snapshot is left out (`null`) and read with
 * `snapshotOf`, so one claim does not parse megabytes for a whole batch in one go.
 */
export type ClaimedRun = Omit<RunEntity, 'snapshot'> & { snapshot: RunEntity['snapshot'] | null };

/**
 * The queue and its leases (docs/contract.md §4.3): claim, renew, requeue, and the lease holder's
 * writes. Every state change is conditional on the current state (run-queue.sql.ts). Worker-internal
 * throughout: reads and writes are by run id, for runs a worker claimed.
 */
@Injectable()
export class RunQueueRepository {
  private claimSql?: Sql;
  private abandonSql?: Sql;
  private expireSql?: Sql;
  private readonly finishWithNodesSqls = new Map<number, Sql>();
  private readonly logger = new Logger(RunQueueRepository.name);
  private finishManySql?: Sql;
  /** PostgreSQL: terminal writes asked for while one is in flight, sent together next. */
  private finishes: PendingFinish[] = [];
  private finishing = false;
  private readonly nodeRuns: NodeRunUpserts;
  /** The last tenant a claim looked at: the next claim starts after it. */
  private tenantCursor = FIRST_TENANT;

  constructor(
    private readonly db: Db,
    /** For `run.finished` when a run is abandoned here (absent outside the application, e.g. in scripts). */
    @Optional() private readonly events?: EventBus,
  ) {
    this.nodeRuns = new NodeRunUpserts(db);
  }

  /**
   * Claims up to `max` due runs in one transaction, in turns across tenants (within a tenant,
   * highest priority then oldest first), never taking a workflow or a concurrency group past its
   * limit. PostgreSQL: candidates `FOR UPDATE SKIP LOCKED`, then each workflow's advisory lock,
   * tried without waiting (a workflow whose lock is busy waits for the next claim), while its
   * running counts are re-checked; SQLite: the writer lock serialises the same steps. Returns the claimed runs in queue order.
   */
  async claimBatch(workerId: string, leaseMs: number, now: Date, max: number): Promise<ClaimedRun[]> {
    if (max < 1) return [];
    const codec = this.db.codec(RunEntity);
    const at = codec.param('updatedAt', now);
    const leaseUntil = codec.param('leaseExpiresAt', new Date(now.getTime() + leaseMs));
    this.claimSql ??= CLAIM_RUNS((size) =>
      codec.selectListWith({ snapshot: `CASE WHEN ${size} <= ${CLAIM_INLINE_SNAPSHOT} THEN snapshot END` }),
    );
    // Most polls find nothing: look before opening a transaction (and taking the SQLite writer).
    const { rows: due } = await this.db.read(PEEK_CANDIDATES, [at, at]);
    if (!due.length) return [];
    return this.db.atomic(async (tx) => {
      let candidates = await this.candidatesInTurns(tx, at, max * CANDIDATES_PER_SLOT);
      let workflowIds = [...new Set(candidates.map((c) => c.workflow_id))].sort();
      if (this.db.dialect === 'postgres') {
        const busy = new Set<string>();
        for (const id of workflowIds) {
          const { rows } = await tx.query<{ locked: boolean }>(TRY_LOCK_WORKFLOW, [id]);
          if (!rows[0].locked) busy.add(id);
        }
        if (busy.size) {
          candidates = candidates.filter((c) => !busy.has(c.workflow_id));
          workflowIds = workflowIds.filter((id) => !busy.has(id));
        }
      }
      if (!candidates.length) return [];
      const { rows: slots } = await tx.query<{ id: string; free: number | string; key_limit: number | null }>(
        WORKFLOW_SLOTS,
        [this.db.list(workflowIds)],
      );
      const free = new Map(slots.map((s) => [s.id, Number(s.free)]));
      // Concurrency groups (docs/contract.md §2.19): free places per (workflow, key), counted only
      // when a candidate has a group its workflow limits.
      const keyLimit = new Map(slots.filter((s) => s.key_limit !== null).map((s) => [s.id, Number(s.key_limit)]));
      const groupOf = (c: Candidate) =>
        c.concurrency_key !== null && keyLimit.has(c.workflow_id) ? `${c.workflow_id}\n${c.concurrency_key}` : null;
      const groupFree = new Map<string, number>();
      if (candidates.some((c) => groupOf(c) !== null)) {
        const limited = workflowIds.filter((id) => keyLimit.has(id));
        const { rows: running } = await tx.query<{ workflow_id: string; concurrency_key: string; n: number | string }>(
          GROUPS_RUNNING,
          [this.db.list(limited)],
        );
        const runningIn = new Map(running.map((r) => [`${r.workflow_id}\n${r.concurrency_key}`, Number(r.n)]));
        for (const c of candidates) {
          const group = groupOf(c);
          if (group !== null && !groupFree.has(group))
            groupFree.set(group, keyLimit.get(c.workflow_id)! - (runningIn.get(group) ?? 0));
        }
      }
      const chosen: string[] = [];
      for (const candidate of candidates) {
        if (chosen.length >= max) break;
        const left = free.get(candidate.workflow_id) ?? 0;
        if (left <= 0) continue;
        const group = groupOf(candidate);
        if (group !== null) {
          const places = groupFree.get(group)!;
          if (places <= 0) continue;
          groupFree.set(group, places - 1);
        }
        free.set(candidate.workflow_id, left - 1);
        chosen.push(candidate.id);
      }
      if (!chosen.length) return [];
      const { rows } = await tx.query(this.claimSql!, [workerId, leaseUntil, at, at, at, this.db.list(chosen)]);
      const order = new Map(chosen.map((id, i) => [id, i]));
      return rows.map((row): ClaimedRun => codec.fromRow(row)).sort((a, b) => order.get(a.id)! - order.get(b.id)!);
    });
  }

  /** A run's snapshot, for a claimed run whose snapshot was too large to come with the claim. */
  async snapshotOf(runId: string): Promise<RunEntity['snapshot'] | null> {
    const { rows } = await this.db.read<{ snapshot: unknown }>(SNAPSHOT_OF, [runId]);
    return rows.length ? this.db.codec(RunEntity).value('snapshot', rows[0].snapshot) : null;
  }

  /**
   * Claim candidates in turns across tenants: the first run of every tenant before the second of
   * any (each turn by priority, then age), so one tenant's backlog does not hold up the others.
   * Each claim looks at up to `limit` tenants, starting after the last one it looked at before.
   */
  private async candidatesInTurns(tx: SqlRunner, at: unknown, limit: number): Promise<Candidate[]> {
    const tenants = await this.tenantsFrom(tx, this.tenantCursor, limit);
    if (tenants.length) this.tenantCursor = tenants[tenants.length - 1];
    const perTenant = Math.max(1, Math.ceil(limit / Math.max(1, tenants.length)));
    const lists: Candidate[][] = [];
    for (const tenant of tenants) {
      const list: Candidate[] = [];
      const range = (await tx.query<{ p: number | null; lowest: number | null }>(PRIORITY_RANGE, [tenant])).rows[0];
      let level = range?.p ?? null;
      while (level !== null && list.length < perTenant) {
        const { rows } = await tx.query<Candidate>(CLAIM_CANDIDATES, [at, at, tenant, level, perTenant - list.length]);
        list.push(...rows);
        // Most tenants use one priority: no look for a level below the lowest.
        if (Number(level) <= Number(range.lowest)) break;
        level = (await tx.query<{ p: number | null }>(NEXT_PRIORITY, [tenant, level])).rows[0]?.p ?? null;
      }
      lists.push(list);
    }
    const turns: Candidate[] = [];
    for (let turn = 0; turns.length < limit; turn += 1) {
      const round = lists.filter((list) => turn < list.length).map((list) => list[turn]);
      if (!round.length) break;
      round.sort(
        (a, b) =>
          Number(b.queue_priority) - Number(a.queue_priority) ||
          this.time(a.created_at) - this.time(b.created_at) ||
          (a.id < b.id ? -1 : 1),
      );
      turns.push(...round);
    }
    return turns.slice(0, limit);
  }

  /** Up to `limit` tenants with queued runs, in tenant order from just after `after`, wrapping round. */
  private async tenantsFrom(tx: SqlRunner, after: string, limit: number): Promise<string[]> {
    const read = async (from: string, n: number) =>
      (await tx.query<{ tenant: string }>(TENANTS_AFTER, [from, n])).rows.map((r) => r.tenant);
    const tenants = await read(after, limit);
    if (tenants.length < limit && after !== FIRST_TENANT) {
      for (const tenant of await read(FIRST_TENANT, limit - tenants.length)) {
        if (tenant > after || tenants.includes(tenant)) break;
        tenants.push(tenant);
      }
    }
    return tenants;
  }

  private time(value: unknown): number {
    return value instanceof Date ? value.getTime() : Date.parse(String(value));
  }

  /** Extends the lease if the run is still running under this worker; false = canceled or lost. */
  async renewLease(runId: string, workerId: string, leaseMs: number, now: Date): Promise<boolean> {
    // updated_at is the run's visible version (stream event ids): a heartbeat is not a change.
    const codec = this.db.codec(RunEntity);
    const { changes } = await this.db.exec(RENEW_LEASE, [
      codec.param('heartbeatAt', now),
      codec.param('leaseExpiresAt', new Date(now.getTime() + leaseMs)),
      runId,
      workerId,
    ]);
    return changes > 0;
  }

  /**
   * Runs whose lease expired (their worker crashed, stalled or lost the database) go back to the
   * queue, each loss counted; a run lost for the `maxAttempts`th time fails instead, with a dead
   * letter as a node failure leaves, so a run that kills its workers is not retried forever.
   * Returns the ids of both.
   */
  async requeueExpired(now: Date, maxAttempts: number): Promise<{ requeued: string[]; abandoned: string[] }> {
    const codec = this.db.codec(RunEntity);
    const at = codec.param('updatedAt', now);
    // Runs every few seconds in every worker: look before taking the writer.
    const { rows: expired } = await this.db.read(PEEK_EXPIRED, [at]);
    if (!expired.length) return { requeued: [], abandoned: [] };
    this.abandonSql ??= ABANDON_EXPIRED(codec.selectList);
    const { abandoned, requeued } = await this.db.atomic(async (tx) => {
      const { rows } = await tx.query(this.abandonSql!, [at, at, at, maxAttempts]);
      const failed = rows.map((row) => codec.fromRow(row));
      for (const run of failed) await this.insertDeadLetter(tx, run, run.error!, run.snapshot, now);
      const back = await tx.query<{ id: string }>(REQUEUE_EXPIRED, [at, at, at]);
      return { abandoned: failed, requeued: back.rows.map((r) => r.id) };
    });
    for (const run of abandoned) {
      this.events?.emit('run.finished', withRunFacts({ ...runEvent(run), status: 'failed', error: run.error }, run));
    }
    return { requeued, abandoned: abandoned.map((r) => r.id) };
  }

  /**
   * Ends runs still waiting to start past their workflow's `queued_ttl_sec` as `expired`, and
   * emits `run.finished` for each (streams, notifications and the lifecycle log hear of it).
   * Returns their ids.
   */
  async expireQueued(now: Date): Promise<string[]> {
    const codec = this.db.codec(RunEntity);
    const at = codec.param('finishedAt', now);
    // Runs every few seconds in every worker: look before taking the writer.
    const { rows: due } = await this.db.read(PEEK_QUEUE_EXPIRED, [at]);
    if (!due.length) return [];
    this.expireSql ??= EXPIRE_QUEUED(codec.selectListWith({ snapshot: 'NULL' }));
    const { rows } = await this.db.exec(this.expireSql!, [at, at, at]);
    const expired = rows.map((row) => codec.fromRow(row));
    for (const run of expired) {
      this.events?.emit('run.finished', withRunFacts({ ...runEvent(run), status: 'expired', error: run.error }, run));
    }
    return expired.map((r) => r.id);
  }

  /**
   * The lease holder's terminal write, with the node runs still to write; false when the run is no
   * longer its (canceled, or requeued after a stall). PostgreSQL: one statement, and runs finishing
   * while another terminal write is in flight go together in the next one (one commit for all:
   * the commit's WAL flush is most of such a statement's cost).
   */
  finish(
    runId: string,
    workerId: string,
    status: 'succeeded' | 'failed' | 'canceled',
    error: string | null,
    now: Date,
    /** Node runs still to write, with the terminal write (one statement on PostgreSQL). */
    records: NodeRunRecord[] = [],
  ): Promise<boolean> {
    const pending = { runId, workerId, status, error, now, records };
    if (this.db.dialect !== 'postgres' || records.length > FINISH_BATCH_NODE_RUNS) return this.finishOne(pending);
    const values = this.nodeRuns.values(runId, records, now);
    const chars = values.reduce<number>((sum, v) => sum + (typeof v === 'string' ? v.length : 0), 0);
    if (chars > FINISH_ALONE_CHARS) return this.finishOne(pending, values);
    return new Promise<boolean>((resolve, reject) => {
      this.finishes.push({ ...pending, values, chars, resolve, reject });
      if (!this.finishing) void this.flushFinishes();
    });
  }

  private async flushFinishes(): Promise<void> {
    this.finishing = true;
    try {
      while (this.finishes.length) {
        const batch = this.takeFinishes();
        if (batch.length === 1) {
          await this.finishOne(batch[0], batch[0].values).then(batch[0].resolve, batch[0].reject);
          continue;
        }
        try {
          const held = await this.finishMany(batch);
          for (const f of batch) f.resolve(held.has(f.runId));
        } catch (error) {
          // A batch fails as a whole (one unstorable value, a deadlock): each goes again alone, in
          // turn, so only a write that fails by itself fails.
          this.logger.warn(
            { runs: batch.length, err: { code: (error as { code?: string }).code, message: (error as Error).message } },
            'batched terminal write failed; writing its runs one by one',
          );
          for (const f of batch) await this.finishOne(f, f.values).then(f.resolve, f.reject);
        }
      }
    } finally {
      this.finishing = false;
    }
  }

  /**
   * The oldest waiting terminal writes that fit in one batch (always at least one), a run at most
   * once, in run id order: batches and multi-run cancels lock rows in the same order.
   */
  private takeFinishes(): PendingFinish[] {
    let nodeRuns = 0;
    let chars = 0;
    const runs = new Set<string>();
    for (const f of this.finishes) {
      const full =
        runs.size >= FINISH_BATCH_RUNS ||
        nodeRuns + f.records.length > FINISH_BATCH_NODE_RUNS ||
        chars + f.chars > FINISH_BATCH_CHARS ||
        runs.has(f.runId);
      if (runs.size > 0 && full) break;
      nodeRuns += f.records.length;
      chars += f.chars;
      runs.add(f.runId);
    }
    return this.finishes.splice(0, runs.size).sort((a, b) => (a.runId < b.runId ? -1 : 1));
  }

  /** FINISH_MANY: the ids of the runs that were still held and are now finished. */
  private async finishMany(batch: PendingFinish[]): Promise<Set<string>> {
    this.finishManySql ??= FINISH_MANY(this.nodeRuns.arraySql());
    const codec = this.db.codec(RunEntity);
    const { rows } = await this.db.exec<{ id: string }>(this.finishManySql, [
      batch.map((f) => f.runId),
      batch.map((f) => f.workerId),
      batch.map((f) => f.status),
      batch.map((f) => f.error),
      batch.map((f) => codec.param('finishedAt', f.now)),
      ...this.nodeRuns.arrayValues(batch.map((f) => f.values)),
    ]);
    return new Set(rows.map((r) => r.id));
  }

  private async finishOne(
    f: Pick<PendingFinish, 'runId' | 'workerId' | 'status' | 'error' | 'now' | 'records'>,
    nodeRunValues?: unknown[],
  ): Promise<boolean> {
    const { runId, workerId, status, error, now, records } = f;
    const finish = this.finishParams(runId, workerId, status, error, now);
    if (!records.length) return (await this.db.exec(FINISH, finish)).changes > 0;
    const chunks = this.nodeRuns.chunks(records, FINISH_PARAMETERS);
    if (this.db.dialect === 'postgres' && chunks.length === 1) {
      let statement = this.finishWithNodesSqls.get(records.length);
      if (!statement) {
        statement = FINISH_WITH_NODES(this.nodeRuns.statement(records.length));
        this.finishWithNodesSqls.set(records.length, statement);
      }
      const values = nodeRunValues ?? this.nodeRuns.values(runId, records, now);
      return (await this.db.exec(statement, [...values, ...finish])).changes > 0;
    }
    // SQLite, or more node runs than one PostgreSQL statement carries: one transaction.
    return this.db.atomic(async (tx) => {
      await this.nodeRuns.write(tx, runId, chunks, now);
      return (await tx.query(FINISH, finish)).changes > 0;
    });
  }

  /** Fails a run with a dead letter in one transaction (docs/contract.md §5.7); only by its lease holder. */
  failWithDeadLetter(
    run: RunEntity,
    workerId: string,
    error: string,
    snapshot: Record<string, unknown>,
    now: Date,
  ): Promise<boolean> {
    return this.db.atomic(async (tx) => {
      const { changes } = await tx.query(FINISH, this.finishParams(run.id, workerId, 'failed', error, now));
      if (!changes) return false;
      await this.insertDeadLetter(tx, run, error, snapshot, now);
      return true;
    });
  }

  /** A delay: back to the queue until `resumeAt`, with the resume state in the snapshot. */
  async pause(
    runId: string,
    workerId: string,
    resumeAt: Date,
    snapshot: Record<string, unknown>,
    now: Date,
  ): Promise<boolean> {
    const codec = this.db.codec(RunEntity);
    const { changes } = await this.db.exec(PAUSE, [
      codec.param('resumeAt', resumeAt),
      codec.param('snapshot', snapshot),
      codec.param('updatedAt', now),
      runId,
      workerId,
    ]);
    return changes > 0;
  }

  /** Graceful shutdown: hand an in-flight run back to the queue at once. */
  async release(runId: string, workerId: string, now: Date): Promise<boolean> {
    const at = this.db.codec(RunEntity).param('updatedAt', now);
    return (await this.db.exec(RELEASE, [at, at, runId, workerId])).changes > 0;
  }

  private finishParams(
    runId: string,
    workerId: string,
    status: 'succeeded' | 'failed' | 'canceled',
    error: string | null,
    now: Date,
  ): unknown[] {
    const at = this.db.codec(RunEntity).param('finishedAt', now);
    return [status, error, at, at, runId, workerId];
  }

  private async insertDeadLetter(
    tx: SqlRunner,
    run: Pick<RunEntity, 'id' | 'ownerId' | 'workflowId'>,
    error: string,
    snapshot: Record<string, unknown>,
    now: Date,
  ): Promise<void> {
    const letter: DeadLetterEntity = {
      id: randomUUID(),
      userId: run.ownerId,
      workflowId: run.workflowId,
      runId: run.id,
      error,
      snapshot,
      createdAt: now,
    };
    await tx.query(INSERT_DEAD_LETTER, this.db.codec(DeadLetterEntity).values(letter, DEAD_LETTER_COLUMNS));
  }
}
