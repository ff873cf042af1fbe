import { Injectable, Optional } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { In } from 'typeorm';
import { runEvent } from '../../common/events/app-events';
import { EventBus } from '../../common/events/event-bus';
import { withRunFacts } from '../../common/events/run-facts';
import { asRow, Db, deleteInChunks, isUniqueViolation, PURGE_CHUNK } from '../db.service';
import { DeadLetterEntity } from '../entities/dead-letter.entity';
import { NodeRunEntity, NodeRunStatus } from '../entities/node-run.entity';
import { RunEventEntity } from '../entities/run-event.entity';
import { ACTIVE_RUN_STATUSES, RunEntity, RunStatus } from '../entities/run.entity';
import { sql, Sql, SqlRunner } from '../sql';

export type NewRun = Pick<
  RunEntity,
  'ownerId' | 'workflowId' | 'workspaceId' | 'snapshot' | 'idempotencyKey' | 'triggeredBy' | 'queuePriority'
> & {
  resumeAt?: Date;
  /** The HTTP request that started it, if any. */
  requestId?: string | null;
};

const RUN_COLUMNS: (keyof RunEntity & string)[] = [
  'id',
  'ownerId',
  'workflowId',
  'workspaceId',
  'snapshot',
  'status',
  'error',
  'idempotencyKey',
  'idempotencyScope',
  'triggeredBy',
  'requestId',
  'queuePriority',
  'leasedBy',
  'leaseExpiresAt',
  'heartbeatAt',
  'attempt',
  'lostAttempts',
  'startedAt',
  'resumeAt',
  'firstClaimedAt',
  'finishedAt',
  'createdAt',
  'updatedAt',
];
const EVENT_COLUMNS: (keyof RunEventEntity & string)[] = [
  'id',
  'runId',
  'workflowId',
  'workspaceId',
  'triggeredBy',
  'connectionType',
  'connectionId',
  'recordedAt',
];
const NODE_RUN_COLUMNS: (keyof NodeRunEntity & string)[] = [
  'id',
  'runId',
  'nodeId',
  'name',
  'nodeType',
  'inputs',
  'outputs',
  'status',
  'sequence',
  'error',
  'startedAt',
  'finishedAt',
  'createdAt',
  'updatedAt',
];

const DELETE_DEAD_LETTER = sql('DELETE FROM workflow_dead_letters WHERE id = ?');
const COUNT_FOR_WORKSPACE = sql('SELECT COUNT(*) AS n FROM workflow_runs WHERE workspace_id = ? AND created_at >= ?');
const COUNT_FOR_USER = sql('SELECT COUNT(*) AS n FROM workflow_runs WHERE user_id = ? AND created_at >= ?');
const CAPPED_COUNT_FOR_WORKSPACE = sql(
  'SELECT COUNT(*) AS n FROM (SELECT 1 FROM workflow_runs WHERE workspace_id = ? AND created_at >= ? LIMIT ?) capped',
);
const CAPPED_COUNT_FOR_USER = sql(
  'SELECT COUNT(*) AS n FROM (SELECT 1 FROM workflow_runs WHERE user_id = ? AND created_at >= ? LIMIT ?) capped',
);

/** Due queued runs of workflows below their concurrency limit (a pre-filter, re-checked under the workflow's lock). */
const ELIGIBLE = `FROM workflow_runs q
   JOIN workflows w ON w.id = q.workflow_id
   LEFT JOIN (SELECT workflow_id, COUNT(*) AS n FROM workflow_runs WHERE status = 'running' GROUP BY workflow_id) running
     ON running.workflow_id = q.workflow_id
   WHERE q.status = 'queued' AND q.resume_at <= ? AND COALESCE(running.n, 0) < w.concurrency_limit`;
/** The tenant before every other in tenant order (a uuid no tenant has). */
const FIRST_TENANT = '00000000-0000-0000-0000-000000000000';
/**
 * Tenants with queued runs after `?`, in tenant order, at most `?`: one step along the queue index
 * per tenant, however deep each tenant's backlog. The tenant is `idempotency_scope`: the
 * workspace, or the owner for a personal workflow.
 */
const NEXT_TENANT = (after: string) =>
  `SELECT x.idempotency_scope FROM workflow_runs x WHERE x.status = 'queued' AND x.idempotency_scope > ${after}
   ORDER BY x.idempotency_scope LIMIT 1`;
const TENANTS_AFTER = sql(
  `WITH RECURSIVE t(tenant) AS (
     SELECT (${NEXT_TENANT('?')})
     UNION ALL
     SELECT (${NEXT_TENANT('t.tenant')}) FROM t WHERE t.tenant IS NOT NULL
   ) SELECT tenant FROM t WHERE tenant IS NOT NULL LIMIT ?`,
);
/** A tenant's highest and lowest queue priority (the levels to read, in the index; below `?` for the next one). */
const PRIORITY_RANGE = sql(
  "SELECT MAX(queue_priority) AS p, MIN(queue_priority) AS lowest FROM workflow_runs WHERE status = 'queued' AND idempotency_scope = ?",
);
const NEXT_PRIORITY = sql(
  "SELECT MAX(queue_priority) AS p FROM workflow_runs WHERE status = 'queued' AND idempotency_scope = ? AND queue_priority < ?",
);
/** SQLite is told (`+`) not to range-scan `resume_at`: the tenant index's order is the one wanted. */
const tenantCandidates = (resumeAt: string) =>
  `SELECT q.id, q.workflow_id, q.queue_priority, q.created_at FROM workflow_runs q
   JOIN workflows w ON w.id = q.workflow_id
   LEFT JOIN (SELECT workflow_id, COUNT(*) AS n FROM workflow_runs WHERE status = 'running' GROUP BY workflow_id) running
     ON running.workflow_id = q.workflow_id
   WHERE q.status = 'queued' AND ${resumeAt} <= ? AND COALESCE(running.n, 0) < w.concurrency_limit
     AND q.idempotency_scope = ? AND q.queue_priority = ? ORDER BY q.created_at, q.id LIMIT ?`;
const TENANT_CANDIDATES = sql(
  tenantCandidates('+q.resume_at'),
  `${tenantCandidates('q.resume_at')} FOR UPDATE OF q SKIP LOCKED`,
);
/** Whether anything is claimable, to look before opening a transaction (no ranking needed). */
const PEEK_CANDIDATES = sql(`SELECT q.id ${ELIGIBLE} LIMIT 1`);
const LOCK_WORKFLOW = sql('SELECT pg_advisory_xact_lock(hashtextextended(?, 4242))');
const WORKFLOW_SLOTS = sql(
  `SELECT w.id, w.concurrency_limit - (SELECT COUNT(*) FROM workflow_runs x WHERE x.workflow_id = w.id AND x.status = 'running') AS free
   FROM workflows w WHERE w.id IN (SELECT value FROM json_each(?))`,
  `SELECT w.id, w.concurrency_limit - (SELECT COUNT(*) FROM workflow_runs x WHERE x.workflow_id = w.id AND x.status = 'running') AS free
   FROM workflows w WHERE w.id = ANY(?::uuid[])`,
);

const RENEW_LEASE = sql(
  "UPDATE workflow_runs SET heartbeat_at = ?, lease_expires_at = ? WHERE id = ? AND leased_by = ? AND status = 'running'",
);
/** The terminal write: only the lease holder of a running run (a canceled run stays canceled). */
const FINISH = sql(
  `UPDATE workflow_runs SET status = ?, error = ?, finished_at = ?, leased_by = NULL, lease_expires_at = NULL,
   updated_at = ? WHERE id = ? AND leased_by = ? AND status = 'running'`,
);
const FINISH_PARAMETERS = FINISH.sqlite.split('?').length - 1;
const STATUS_OF = sql('SELECT status FROM workflow_runs WHERE id = ?');
const FINISH_NODE = sql(
  `UPDATE workflow_node_runs SET status = ?, outputs = ?, error = ?, finished_at = ?, updated_at = ?
   WHERE run_id = ? AND node_id = ?`,
);

/** How many claim candidates are read per wanted run: some may belong to workflows at their limit. */
const CANDIDATES_PER_SLOT = 4;

/** Leases that expired: the worker died, stalled or lost the database. */
const PEEK_EXPIRED = sql("SELECT id FROM workflow_runs WHERE status = 'running' AND lease_expires_at < ? LIMIT 1");
const REQUEUE_EXPIRED = sql(
  `UPDATE workflow_runs SET status = 'queued', leased_by = NULL, lease_expires_at = NULL, resume_at = ?,
     lost_attempts = lost_attempts + 1, updated_at = ?
   WHERE status = 'running' AND lease_expires_at < ? RETURNING id`,
);
const DEAD_LETTER_COLUMNS: (keyof DeadLetterEntity & string)[] = [
  'id',
  'userId',
  'workflowId',
  'runId',
  'error',
  'snapshot',
  'createdAt',
];

/**
 * Most bound parameters one statement may carry: SQLite's SQLITE_MAX_VARIABLE_NUMBER (32,766) and
 * PostgreSQL's protocol limit (65,535). Node-run writes beyond that go in chunks.
 */
const MAX_PARAMETERS = { sqlite: 32_766, postgres: 65_535 } as const;

/** What identifies a node run and is known before the node executes. */
export interface NodeRunStart {
  nodeId: string;
  name: string;
  nodeType: string;
  inputs: unknown;
  sequence?: number;
}

/** A node run to write: its node, state and times. */
export interface NodeRunRecord extends Pick<
  NodeRunEntity,
  'status' | 'outputs' | 'error' | 'startedAt' | 'finishedAt'
> {
  node: NodeRunStart;
}

/**
 * A run as the claim returns it: a large snapshot is left out (`null`) and read with
 * `snapshotOf`, so one claim does not parse megabytes for a whole batch in one go.
 */
export type ClaimedRun = Omit<RunEntity, 'snapshot'> & { snapshot: RunEntity['snapshot'] | null };

/** Snapshots up to this size come with the claim (SQLite: characters; PostgreSQL: stored, maybe compressed, bytes). */
const CLAIM_INLINE_SNAPSHOT = 16_384;

export interface RunPage {
  runs: RunEntity[];
}

/** The run row is the queue (docs/contract.md §4.3). Every state change here is conditional on the current state. */
@Injectable()
export class RunRepository {
  private insertRunSql?: Sql;
  private insertEventSql?: Sql;
  private insertWithEventSql?: Sql;
  private claimSql?: Sql;
  private snapshotSql?: Sql;
  /** The last tenant a claim looked at: the next claim starts after it. */
  private tenantCursor = FIRST_TENANT;
  private readonly upsertNodesSqls = new Map<number, Sql>();
  private readonly finishWithNodesSqls = new Map<number, Sql>();

  private abandonSql?: Sql;
  private insertDeadLetterSql?: Sql;

  constructor(
    private readonly db: Db,
    /** For `run.finished` when a run is abandoned here (absent outside the application, e.g. in scripts). */
    @Optional() private readonly events?: EventBus,
  ) {}

  private get runs() {
    return this.db.manager.getRepository(RunEntity);
  }

  /**
   * Inserts a queued run. With an idempotency key that is already used in the scope, returns the
   * most recent run for it instead (`duplicate: true`), as docs/contract.md §4.8 says.
   */
  async insert(
    values: NewRun,
    now: Date,
    events: { triggeredBy: string }[] = [],
  ): Promise<{ run: RunEntity; duplicate: boolean }> {
    try {
      const run =
        this.db.dialect === 'postgres' && events.length === 1
          ? await this.insertWithEvent(values, now, events[0])
          : await this.db.atomic(async (tx) => {
              const row = await this.insertQueued(tx, values, now);
              await this.insertEvents(tx, row, events, now);
              return row;
            });
      return { run, duplicate: false };
    } catch (error) {
      if (!values.idempotencyKey || !isUniqueViolation(error)) throw error;
      const existing = await this.findByIdempotencyKey(values, values.idempotencyKey);
      if (!existing) throw error;
      return { run: existing, duplicate: true };
    }
  }

  /** The most recent run of the workflow with this idempotency key in its scope (workspace, else owner). */
  findByIdempotencyKey(
    workflow: Pick<NewRun, 'workflowId' | 'workspaceId' | 'ownerId'>,
    key: string,
  ): Promise<RunEntity | null> {
    return this.runs.findOne({
      where: {
        idempotencyScope: workflow.workspaceId ?? workflow.ownerId,
        workflowId: workflow.workflowId,
        idempotencyKey: key,
      },
      order: { createdAt: 'DESC' },
    });
  }

  /**
   * PostgreSQL, one event (every trigger): the run and its event in one statement, atomic without
   * BEGIN and COMMIT round trips.
   */
  private async insertWithEvent(values: NewRun, now: Date, event: { triggeredBy: string }): Promise<RunEntity> {
    const row = this.queuedRow(values, now);
    const runs = this.db.codec(RunEntity);
    const events = this.db.codec(RunEventEntity);
    this.insertWithEventSql ??= sql(
      `WITH run AS (${runs.insertSql(RUN_COLUMNS).sqlite} RETURNING id)
       INSERT INTO workflow_run_events (id, workflow_run_id, workflow_id, workspace_id, triggered_by, connection_type,
         connection_id, recorded_at)
       SELECT ?, run.id, ?, ?, ?, NULL, NULL, ? FROM run`,
    );
    await this.db.exec(this.insertWithEventSql, [
      ...runs.values(row, RUN_COLUMNS),
      randomUUID(),
      row.workflowId,
      row.workspaceId,
      event.triggeredBy,
      events.param('recordedAt', now),
    ]);
    return row;
  }

  private async insertQueued(tx: SqlRunner, values: NewRun, now: Date): Promise<RunEntity> {
    const row = this.queuedRow(values, now);
    const codec = this.db.codec(RunEntity);
    this.insertRunSql ??= codec.insertSql(RUN_COLUMNS);
    await tx.query(this.insertRunSql, codec.values(row, RUN_COLUMNS));
    return row;
  }

  private queuedRow(values: NewRun, now: Date): RunEntity {
    return Object.assign(new RunEntity(), {
      ...values,
      id: randomUUID(),
      idempotencyScope: values.workspaceId ?? values.ownerId,
      requestId: values.requestId ?? null,
      status: 'queued',
      error: null,
      leasedBy: null,
      leaseExpiresAt: null,
      heartbeatAt: null,
      attempt: 0,
      lostAttempts: 0,
      startedAt: now,
      resumeAt: values.resumeAt ?? now,
      firstClaimedAt: null,
      finishedAt: null,
      createdAt: now,
      updatedAt: now,
    });
  }

  async setPriority(runId: string, priority: number): Promise<void> {
    await this.db.write((em) => em.getRepository(RunEntity).update({ id: runId }, { queuePriority: priority }));
  }

  findById(runId: string): Promise<RunEntity | null> {
    return this.db.selectOne(RunEntity, 'id = ?', [runId]);
  }

  findForWorkflow(workflowId: string, runId: string): Promise<RunEntity | null> {
    return this.runs.findOneBy({ id: runId, workflowId });
  }

  /** Newest first; `statuses` empty = all. */
  listForWorkflow(workflowId: string, page: number, perPage: number, statuses: RunStatus[]): Promise<RunEntity[]> {
    return this.runs.find({
      where: { workflowId, ...(statuses.length ? { status: In(statuses) } : {}) },
      order: { createdAt: 'DESC', id: 'DESC' },
      skip: (page - 1) * perPage,
      take: perPage,
    });
  }

  /** Queued and running runs, oldest first: of one workflow, or of every workflow in `workflowIds`. */
  listActive(workflowIds: string[]): Promise<RunEntity[]> {
    if (!workflowIds.length) return Promise.resolve([]);
    return this.runs.find({
      where: { workflowId: In(workflowIds), status: In(ACTIVE_RUN_STATUSES) },
      order: { startedAt: 'ASC', id: 'ASC' },
    });
  }

  /**
   * Runs of a workspace, or of an owner, created at or after `since`. With `cap`, counting stops
   * there: limit checks only need to know whether the limit is reached, and a busy workspace's
   * five-minute window can hold hundreds of thousands of runs, once for every run started.
   */
  async countCreatedSince(
    filter: { workspaceId: string } | { userId: string },
    since: Date,
    cap?: number,
  ): Promise<number> {
    const byWorkspace = 'workspaceId' in filter;
    const [exact, capped] = byWorkspace
      ? [COUNT_FOR_WORKSPACE, CAPPED_COUNT_FOR_WORKSPACE]
      : [COUNT_FOR_USER, CAPPED_COUNT_FOR_USER];
    const statement = cap === undefined ? exact : capped;
    const params = [
      byWorkspace ? filter.workspaceId : filter.userId,
      this.db.codec(RunEntity).param('createdAt', since),
      ...(cap === undefined ? [] : [cap]),
    ];
    const { rows } = await this.db.read<{ n: number | string }>(statement, params);
    return Number(rows[0].n);
  }

  /** Every run by status (the metrics gauge; read at scrape time, not per request). */
  async countByStatus(): Promise<Record<string, number>> {
    const rows: { status: string; n: string | number }[] = await this.runs
      .createQueryBuilder('r')
      .select('r.status', 'status')
      .addSelect('COUNT(*)', 'n')
      .groupBy('r.status')
      .getRawMany();
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }

  /** Queued runs due at `now`: what workers have yet to claim (the queue-depth gauge). */
  async countDue(now: Date): Promise<number> {
    return this.runs
      .createQueryBuilder('r')
      .where("r.status = 'queued'")
      .andWhere('r.resume_at <= :now', { now: this.db.codec(RunEntity).param('resumeAt', now) })
      .getCount();
  }

  /** Runs of a workspace created since `since`, grouped by owner (usage page). */
  async countByOwnerSince(workspaceId: string, since: Date): Promise<{ userId: string; runs: number }[]> {
    const rows: { user_id: string; runs: string | number }[] = await this.runs
      .createQueryBuilder('r')
      .select('r.user_id', 'user_id')
      .addSelect('COUNT(*)', 'runs')
      .where('r.workspace_id = :workspaceId', { workspaceId })
      .andWhere('r.created_at >= :since', { since })
      .groupBy('r.user_id')
      .getRawMany();
    return rows.map((r) => ({ userId: r.user_id, runs: Number(r.runs) }));
  }

  /** Cancel wins: a queued or running run becomes `canceled` once; returns whether it did. */
  async cancel(workflowId: string, runId: string, now: Date): Promise<boolean> {
    const result = await this.db.write((em) =>
      em
        .getRepository(RunEntity)
        .update(
          { id: runId, workflowId, status: In(ACTIVE_RUN_STATUSES) },
          { status: 'canceled', finishedAt: now, leasedBy: null, leaseExpiresAt: null, updatedAt: now },
        ),
    );
    return (result.affected ?? 0) > 0;
  }

  /** Cancels every active run of the workflow; returns them (what their log lines say, not their snapshots). */
  cancelAllActive(
    workflowId: string,
    now: Date,
  ): Promise<Pick<RunEntity, 'id' | 'triggeredBy' | 'requestId' | 'createdAt' | 'firstClaimedAt'>[]> {
    return this.db.transaction(async (em) => {
      const repo = em.getRepository(RunEntity);
      const active = await repo.find({
        select: { id: true, triggeredBy: true, requestId: true, createdAt: true, firstClaimedAt: true },
        where: { workflowId, status: In(ACTIVE_RUN_STATUSES) },
      });
      if (active.length) {
        await repo.update(
          { id: In(active.map((r) => r.id)), status: In(ACTIVE_RUN_STATUSES) },
          { status: 'canceled', finishedAt: now, leasedBy: null, leaseExpiresAt: null, updatedAt: now },
        );
      }
      return active;
    });
  }

  // --- the queue ------------------------------------------------------------------------------

  /**
   * Claims up to `max` due runs in one transaction, in turns across tenants (within a tenant,
   * highest priority then oldest first), never taking a workflow past its concurrency limit.
   * PostgreSQL: candidates `FOR UPDATE SKIP LOCKED`, then each workflow's advisory lock (in id
   * order, so workers cannot deadlock) while its running count is re-checked; SQLite: the writer
   * lock serialises the same steps. Returns the claimed runs in queue order.
   */
  async claimBatch(workerId: string, leaseMs: number, now: Date, max: number): Promise<ClaimedRun[]> {
    if (max < 1) return [];
    const codec = this.db.codec(RunEntity);
    const at = codec.param('updatedAt', now);
    const leaseUntil = codec.param('leaseExpiresAt', new Date(now.getTime() + leaseMs));
    const inline = (size: string) =>
      codec.selectListWith({ snapshot: `CASE WHEN ${size} <= ${CLAIM_INLINE_SNAPSHOT} THEN snapshot END` });
    this.claimSql ??= sql(
      `UPDATE workflow_runs SET status = 'running', leased_by = ?, lease_expires_at = ?, heartbeat_at = ?,
         attempt = attempt + 1, first_claimed_at = COALESCE(first_claimed_at, ?), updated_at = ?
       WHERE id IN (SELECT value FROM json_each(?)) AND status = 'queued' RETURNING ${inline('length(snapshot)')}`,
      `UPDATE workflow_runs SET status = 'running', leased_by = ?, lease_expires_at = ?, heartbeat_at = ?,
         attempt = attempt + 1, first_claimed_at = COALESCE(first_claimed_at, ?), updated_at = ?
       WHERE id = ANY(?::uuid[]) AND status = 'queued' RETURNING ${inline('pg_column_size(snapshot)')}`,
    );
    // Most polls find nothing: look before opening a transaction (and taking the SQLite writer).
    const { rows: due } = await this.db.read(PEEK_CANDIDATES, [at]);
    if (!due.length) return [];
    return this.db.atomic(async (tx) => {
      const candidates = await this.candidatesInTurns(tx, at, max * CANDIDATES_PER_SLOT);
      if (!candidates.length) return [];
      const workflowIds = [...new Set(candidates.map((c) => c.workflow_id))].sort();
      if (this.db.dialect === 'postgres') {
        for (const id of workflowIds) await tx.query(LOCK_WORKFLOW, [id]);
      }
      const { rows: slots } = await tx.query<{ id: string; free: number | string }>(WORKFLOW_SLOTS, [
        this.db.list(workflowIds),
      ]);
      const free = new Map(slots.map((s) => [s.id, Number(s.free)]));
      const chosen: string[] = [];
      for (const candidate of candidates) {
        if (chosen.length >= max) break;
        const left = free.get(candidate.workflow_id) ?? 0;
        if (left <= 0) continue;
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
    this.snapshotSql ??= sql(`SELECT snapshot FROM workflow_runs WHERE id = ?`);
    const { rows } = await this.db.read<{ snapshot: unknown }>(this.snapshotSql, [runId]);
    return rows.length ? this.db.codec(RunEntity).value('snapshot', rows[0].snapshot) : null;
  }

  /**
   * Claim candidates in turns across tenants: the first run of every tenant before the second of
   * any (each turn by priority, then age), so one tenant's backlog does not hold up the others.
   * Each claim looks at up to `limit` tenants, starting after the last one it looked at before.
   */
  private async candidatesInTurns(
    tx: SqlRunner,
    at: unknown,
    limit: number,
  ): Promise<{ id: string; workflow_id: string }[]> {
    const tenants = await this.tenantsFrom(tx, this.tenantCursor, limit);
    if (tenants.length) this.tenantCursor = tenants[tenants.length - 1];
    const perTenant = Math.max(1, Math.ceil(limit / Math.max(1, tenants.length)));
    type Candidate = { id: string; workflow_id: string; queue_priority: number; created_at: unknown };
    const lists: Candidate[][] = [];
    for (const tenant of tenants) {
      const list: Candidate[] = [];
      const range = (await tx.query<{ p: number | null; lowest: number | null }>(PRIORITY_RANGE, [tenant])).rows[0];
      let level = range?.p ?? null;
      while (level !== null && list.length < perTenant) {
        const { rows } = await tx.query<Candidate>(TENANT_CANDIDATES, [at, tenant, level, perTenant - list.length]);
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
    this.abandonSql ??= sql(
      `UPDATE workflow_runs SET status = 'failed',
         error = 'Run abandoned after ' || (lost_attempts + 1) || ' attempts: worker lease lost',
         lost_attempts = lost_attempts + 1, finished_at = ?, leased_by = NULL, lease_expires_at = NULL, updated_at = ?
       WHERE status = 'running' AND lease_expires_at < ? AND lost_attempts + 1 >= ? RETURNING ${codec.selectList}`,
    );
    const letters = this.db.codec(DeadLetterEntity);
    this.insertDeadLetterSql ??= letters.insertSql(DEAD_LETTER_COLUMNS);
    const { abandoned, requeued } = await this.db.atomic(async (tx) => {
      const { rows } = await tx.query(this.abandonSql!, [at, at, at, maxAttempts]);
      const failed = rows.map((row) => codec.fromRow(row));
      for (const run of failed) {
        const letter: DeadLetterEntity = {
          id: randomUUID(),
          userId: run.ownerId,
          workflowId: run.workflowId,
          runId: run.id,
          error: run.error!,
          snapshot: run.snapshot,
          createdAt: now,
        };
        await tx.query(this.insertDeadLetterSql!, letters.values(letter, DEAD_LETTER_COLUMNS));
      }
      const back = await tx.query<{ id: string }>(REQUEUE_EXPIRED, [at, at, at]);
      return { abandoned: failed, requeued: back.rows.map((r) => r.id) };
    });
    for (const run of abandoned) {
      this.events?.emit('run.finished', withRunFacts({ ...runEvent(run), status: 'failed', error: run.error }, run));
    }
    return { requeued, abandoned: abandoned.map((r) => r.id) };
  }

  /** The terminal write: only the lease holder of a running run; a canceled run stays canceled. */
  async finish(
    runId: string,
    workerId: string,
    status: 'succeeded' | 'failed' | 'canceled',
    error: string | null,
    now: Date,
    /** Node runs still to write, with the terminal write (one statement on PostgreSQL). */
    records: NodeRunRecord[] = [],
  ): Promise<boolean> {
    const at = this.db.codec(RunEntity).param('finishedAt', now);
    const finish = [status, error, at, at, runId, workerId];
    if (!records.length) return (await this.db.exec(FINISH, finish)).changes > 0;
    const chunks = this.nodeRunChunks(records);
    if (this.db.dialect === 'postgres' && chunks.length === 1) {
      let statement = this.finishWithNodesSqls.get(records.length);
      if (!statement) {
        statement = sql(`WITH nodes AS (${this.upsertNodesSql(records.length).sqlite}) ${FINISH.sqlite}`);
        this.finishWithNodesSqls.set(records.length, statement);
      }
      return (await this.db.exec(statement, [...this.nodeRunValues(runId, records, now), ...finish])).changes > 0;
    }
    // SQLite, or more node runs than one PostgreSQL statement carries: one transaction.
    return this.db.atomic(async (tx) => {
      await this.upsertNodes(tx, runId, chunks, now);
      return (await tx.query(FINISH, finish)).changes > 0;
    });
  }

  /** Finishes a run with a dead letter in one transaction (docs/contract.md §5.7). */
  failWithDeadLetter(
    run: RunEntity,
    workerId: string,
    error: string,
    snapshot: Record<string, unknown>,
    now: Date,
  ): Promise<boolean> {
    return this.db.transaction(async (em) => {
      const result = await em
        .getRepository(RunEntity)
        .update(
          { id: run.id, leasedBy: workerId, status: 'running' },
          { status: 'failed', error, finishedAt: now, leasedBy: null, leaseExpiresAt: null, updatedAt: now },
        );
      if (!result.affected) return false;
      await em.getRepository(DeadLetterEntity).insert(
        asRow<DeadLetterEntity>({
          id: randomUUID(),
          userId: run.ownerId,
          workflowId: run.workflowId,
          runId: run.id,
          error,
          snapshot,
          createdAt: now,
        }),
      );
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
    const result = await this.db.write((em) =>
      em.getRepository(RunEntity).update(
        { id: runId, leasedBy: workerId, status: 'running' },
        asRow<RunEntity>({
          status: 'queued',
          resumeAt,
          snapshot,
          leasedBy: null,
          leaseExpiresAt: null,
          updatedAt: now,
        }),
      ),
    );
    return (result.affected ?? 0) > 0;
  }

  /** Graceful shutdown: hand an in-flight run back to the queue at once. */
  async release(runId: string, workerId: string, now: Date): Promise<boolean> {
    const result = await this.db.write((em) =>
      em
        .getRepository(RunEntity)
        .update(
          { id: runId, leasedBy: workerId, status: 'running' },
          { status: 'queued', leasedBy: null, leaseExpiresAt: null, resumeAt: now, updatedAt: now },
        ),
    );
    return (result.affected ?? 0) > 0;
  }

  async statusOf(runId: string): Promise<RunStatus | null> {
    const { rows } = await this.db.read<{ status: RunStatus }>(STATUS_OF, [runId]);
    return rows[0]?.status ?? null;
  }

  /** Retention: terminal runs created before `before` (node runs, dead letters, events cascade). */
  /**
   * Deletes finished runs created before `before` (their node runs, events and dead letters go
   * with them), `chunk` at a time: each chunk is its own short write, so a large backlog never
   * holds the writer (SQLite) or row locks (PostgreSQL) for long. Returns how many went.
   */
  async purgeFinishedBefore(before: Date, chunk = PURGE_CHUNK): Promise<number> {
    return deleteInChunks(this.db, RunEntity, chunk, (qb) =>
      qb.where("t.status IN ('succeeded', 'failed', 'canceled')").andWhere('t.created_at < :before', { before }),
    );
  }

  // --- node runs ------------------------------------------------------------------------------

  nodeRuns(runId: string): Promise<NodeRunEntity[]> {
    return this.db.select(NodeRunEntity, 'run_id = ? ORDER BY sequence, started_at, created_at', [runId]);
  }

  /** Upserts the node run as `running`, keeping its first `started_at` and place (docs/contract.md §5.2). */
  async startNode(runId: string, node: NodeRunStart, now: Date): Promise<void> {
    const record: NodeRunRecord = {
      node,
      status: 'running',
      outputs: null,
      error: null,
      startedAt: now,
      finishedAt: null,
    };
    await this.db.exec(this.upsertNodesSql(1), this.nodeRunValues(runId, [record], now));
  }

  /**
   * Node runs that already finished, in one statement (nodes that compute in memory: nobody could
   * watch them running, and they are recorded together before the next node with effects); more
   * than one statement carries go in chunks within one transaction.
   */
  async recordNodes(runId: string, records: NodeRunRecord[], now: Date): Promise<void> {
    if (!records.length) return;
    const chunks = this.nodeRunChunks(records);
    if (chunks.length === 1) {
      await this.db.exec(this.upsertNodesSql(records.length), this.nodeRunValues(runId, records, now));
      return;
    }
    await this.db.atomic((tx) => this.upsertNodes(tx, runId, chunks, now));
  }

  private async upsertNodes(tx: SqlRunner, runId: string, chunks: NodeRunRecord[][], now: Date): Promise<void> {
    for (const chunk of chunks) {
      await tx.query(this.upsertNodesSql(chunk.length), this.nodeRunValues(runId, chunk, now));
    }
  }

  /**
   * Records in statements below the database's parameter limit (room left for the terminal
   * write's own parameters, which PostgreSQL sends in the same statement).
   */
  private nodeRunChunks(records: NodeRunRecord[]): NodeRunRecord[][] {
    const rows = Math.floor((MAX_PARAMETERS[this.db.dialect] - FINISH_PARAMETERS) / NODE_RUN_COLUMNS.length);
    const chunks: NodeRunRecord[][] = [];
    for (let i = 0; i < records.length; i += rows) chunks.push(records.slice(i, i + rows));
    return chunks;
  }

  /** One upsert on (run_id, node_id) per row: a retried node keeps its row, id, first started_at and place. */
  private upsertNodesSql(rows: number): Sql {
    let statement = this.upsertNodesSqls.get(rows);
    if (!statement) {
      statement = this.db.codec(NodeRunEntity).insertSql(
        NODE_RUN_COLUMNS,
        `ON CONFLICT (run_id, node_id) DO UPDATE SET name = excluded.name, node_type = excluded.node_type,
           inputs = excluded.inputs, outputs = excluded.outputs, status = excluded.status, error = excluded.error,
           finished_at = excluded.finished_at, updated_at = excluded.updated_at`,
        rows,
      );
      this.upsertNodesSqls.set(rows, statement);
    }
    return statement;
  }

  private nodeRunValues(runId: string, records: NodeRunRecord[], now: Date): unknown[] {
    const codec = this.db.codec(NodeRunEntity);
    return records.flatMap(({ node, ...state }) =>
      codec.values(
        { sequence: 0, ...node, ...state, id: randomUUID(), runId, createdAt: now, updatedAt: state.finishedAt ?? now },
        NODE_RUN_COLUMNS,
      ),
    );
  }

  async finishNode(
    runId: string,
    nodeId: string,
    status: NodeRunStatus,
    outputs: unknown,
    error: string | null,
    now: Date,
  ): Promise<void> {
    const codec = this.db.codec(NodeRunEntity);
    const at = codec.param('finishedAt', now);
    await this.db.exec(FINISH_NODE, [status, codec.param('outputs', outputs), error, at, at, runId, nodeId]);
  }

  // --- run events and dead letters ------------------------------------------------------------

  async recordEvents(
    run: RunEntity,
    events: { triggeredBy: string; connectionType?: string | null }[],
    now: Date,
  ): Promise<void> {
    await this.db.atomic((tx) => this.insertEvents(tx, run, events, now));
  }

  private async insertEvents(
    tx: SqlRunner,
    run: RunEntity,
    events: { triggeredBy: string; connectionType?: string | null }[],
    now: Date,
  ) {
    const codec = this.db.codec(RunEventEntity);
    this.insertEventSql ??= codec.insertSql(EVENT_COLUMNS);
    for (const e of events) {
      const event: RunEventEntity = {
        id: randomUUID(),
        runId: run.id,
        workflowId: run.workflowId,
        workspaceId: run.workspaceId,
        triggeredBy: e.triggeredBy,
        connectionType: e.connectionType ?? null,
        connectionId: null,
        recordedAt: now,
      };
      await tx.query(this.insertEventSql, codec.values(event, EVENT_COLUMNS));
    }
  }

  eventsFor(runId: string): Promise<RunEventEntity[]> {
    return this.db.manager.getRepository(RunEventEntity).find({ where: { runId }, order: { recordedAt: 'ASC' } });
  }

  listDeadLetters(workflowId: string, page: number, perPage: number): Promise<DeadLetterEntity[]> {
    return this.db.manager.getRepository(DeadLetterEntity).find({
      where: { workflowId },
      order: { createdAt: 'DESC', id: 'DESC' },
      skip: (page - 1) * perPage,
      take: perPage,
    });
  }

  async clearDeadLetters(workflowId: string): Promise<number> {
    const result = await this.db.write((em) => em.getRepository(DeadLetterEntity).delete({ workflowId }));
    return result.affected ?? 0;
  }

  findDeadLetter(workflowId: string, id: string): Promise<DeadLetterEntity | null> {
    return this.db.manager.getRepository(DeadLetterEntity).findOneBy({ id, workflowId });
  }

  /** Requeue (docs/contract.md §2.13): a new queued run from the dead letter, which is deleted; atomic. */
  requeueDeadLetter(deadLetterId: string, values: NewRun, now: Date): Promise<RunEntity | null> {
    return this.db.atomic(async (tx) => {
      const deleted = await tx.query(DELETE_DEAD_LETTER, [deadLetterId]);
      if (!deleted.changes) return null;
      const row = await this.insertQueued(tx, values, now);
      await this.insertEvents(tx, row, [{ triggeredBy: values.triggeredBy }], now);
      return row;
    });
  }
}
