import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Db, deleteInChunks, isUniqueViolation, PURGE_CHUNK } from '../db.service';
import { RunEventEntity } from '../entities/run-event.entity';
import { ACTIVE_RUN_STATUSES, RunEntity, RunStatus, TERMINAL_RUN_STATUSES } from '../entities/run.entity';
import type { ConcurrencyOnLimit } from '../entities/workflow.entity';
import { EntityCodec, sql, Sql, SqlRunner } from '../sql';
import { LOCK_WORKFLOW } from './run-queue.sql';
import { takeTicketParams, takeTicketSql, TicketRequest } from './run-usage.repository';
import { rememberSignatureParams, REMEMBER_SIGNATURE_SQL } from './webhook-replay.repository';

export type NewRun = Pick<
  RunEntity,
  'ownerId' | 'workflowId' | 'workspaceId' | 'snapshot' | 'idempotencyKey' | 'triggeredBy' | 'queuePriority'
> & {
  /** The workflow version the snapshot's graph is (absent or null: not known). */
  workflowVersion?: number | null;
  resumeAt?: Date;
  /** The HTTP request that started it, if any. */
  requestId?: string | null;
  /** The span that started it, when traced (W3C `traceparent`). */
  traceParent?: string | null;
  /** Its concurrency group (the rendered `concurrency_key`), if the workflow has one. */
  concurrencyKey?: string | null;
  /** Ends `expired` if not started by then (`queued_ttl_sec`). */
  queueExpiresAt?: Date | null;
};

/**
 * A workflow's backpressure, checked at admission under its lock (docs/contract.md §2.19). The
 * group is the run's concurrency key when the workflow has one, else the whole workflow; it counts
 * queued (delayed included) and running runs.
 */
export interface Backpressure {
  /** The run's group within the workflow; null: the workflow is the group. */
  key: string | null;
  /** The group's limit (the key limit, or the workflow's concurrency limit). */
  limit: number;
  /** `reject`: refused ('concurrency_limited') when the group is full; `cancel_oldest`: its oldest make room. */
  onLimit: ConcurrencyOnLimit;
  /** Refused ('queue_full') when this many runs of the workflow wait to start; null: no bound. */
  maxQueued: number | null;
}

/**
 * What must hold for a new run to be written, checked by the same statement (PostgreSQL) or
 * transaction (SQLite) that writes it: a failed check writes no run and takes no ticket.
 */
export interface Admission {
  /** A signed webhook's signature, used once per workflow: refused ('replay') when seen before. */
  signature?: { workflowId: string; value: string };
  /** The quota ticket the run takes: refused ('quota') when the period is used up. */
  ticket?: TicketRequest | null;
  /** Present when the workflow's backpressure has something to check (the run is then written in a transaction). */
  backpressure?: Backpressure;
}

/**
 * A run the admission refused. The signature of a run refused for its quota stays used; one
 * refused for backpressure is checked first and is not used, so the sender may retry it.
 */
export type AdmissionRefusal = 'replay' | 'quota' | 'concurrency_limited' | 'queue_full';

/** A run `cancel_oldest` canceled to make room (its log line's facts). */
/** A run canceled to make room or by a cancel-all: what its events and log line need, not its snapshot. */
export type DisplacedRun = Pick<
  RunEntity,
  'id' | 'workflowId' | 'workspaceId' | 'ownerId' | 'triggeredBy' | 'requestId' | 'createdAt' | 'firstClaimedAt'
>;

/** The columns `displacedRun` reads. */
const DISPLACED_COLUMNS =
  'id, user_id, workflow_id, workspace_id, triggered_by, request_id, created_at, first_claimed_at';

function displacedRun(codec: EntityCodec<RunEntity>, row: Record<string, unknown>): DisplacedRun {
  return {
    id: row.id as string,
    ownerId: row.user_id as string,
    workflowId: row.workflow_id as string,
    workspaceId: row.workspace_id as string | null,
    triggeredBy: row.triggered_by as string,
    requestId: row.request_id as string | null,
    createdAt: codec.value('createdAt', row.created_at),
    firstClaimedAt: codec.value('firstClaimedAt', row.first_claimed_at),
  };
}

export type InsertResult =
  { run: RunEntity; duplicate: boolean; displaced?: DisplacedRun[]; refused?: never } | { refused: AdmissionRefusal };

/** What a run's audit trail records of one trigger. */
export interface NewRunEvent {
  triggeredBy: string;
  connectionType?: string | null;
}

const RUN_COLUMNS: (keyof RunEntity & string)[] = [
  'id',
  'ownerId',
  'workflowId',
  'workspaceId',
  'snapshot',
  'workflowVersion',
  'status',
  'error',
  'idempotencyKey',
  'idempotencyScope',
  'triggeredBy',
  'requestId',
  'traceParent',
  'concurrencyKey',
  'queueExpiresAt',
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

const ACTIVE = `status IN (${ACTIVE_RUN_STATUSES.map((s) => `'${s}'`).join(', ')})`;

// Row filters for `Db.select` (SELECT of every run column … WHERE these).
const BY_ID = 'id = ?';
const BY_WORKFLOW_AND_ID = 'id = ? AND workflow_id = ?';
const BY_IDEMPOTENCY_KEY =
  'idempotency_scope = ? AND workflow_id = ? AND idempotency_key = ? ORDER BY created_at DESC LIMIT 1';
const PAGE_OF_WORKFLOW = 'workflow_id = ? ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?';
const PAGE_OF_WORKFLOW_IN_STATUSES = {
  sqlite:
    'workflow_id = ? AND status IN (SELECT value FROM json_each(?)) ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?',
  postgres: 'workflow_id = ? AND status = ANY(?::varchar[]) ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?',
};
const ACTIVE_OF_WORKFLOWS = {
  sqlite: `workflow_id IN (SELECT value FROM json_each(?)) AND ${ACTIVE} ORDER BY started_at ASC, id ASC`,
  postgres: `workflow_id = ANY(?::uuid[]) AND ${ACTIVE} ORDER BY started_at ASC, id ASC`,
};
const EVENTS_OF_RUN = 'workflow_run_id = ? AND workflow_id = ? ORDER BY recorded_at ASC';

const COUNT_FOR_WORKSPACE = sql('SELECT COUNT(*) AS n FROM workflow_runs WHERE workspace_id = ? AND created_at >= ?');
const COUNT_FOR_USER = sql('SELECT COUNT(*) AS n FROM workflow_runs WHERE user_id = ? AND created_at >= ?');
const CAPPED_COUNT_FOR_WORKSPACE = sql(
  'SELECT COUNT(*) AS n FROM (SELECT 1 FROM workflow_runs WHERE workspace_id = ? AND created_at >= ? LIMIT ?) capped',
);
const CAPPED_COUNT_FOR_USER = sql(
  'SELECT COUNT(*) AS n FROM (SELECT 1 FROM workflow_runs WHERE user_id = ? AND created_at >= ? LIMIT ?) capped',
);
const COUNT_BY_STATUS = sql('SELECT status, COUNT(*) AS n FROM workflow_runs GROUP BY status');
const COUNT_DUE = sql("SELECT COUNT(*) AS n FROM workflow_runs WHERE status = 'queued' AND resume_at <= ?");
const COUNT_BY_OWNER_SINCE = sql(
  'SELECT user_id, COUNT(*) AS runs FROM workflow_runs WHERE workspace_id = ? AND created_at >= ? GROUP BY user_id',
);
const STATUS_OF = sql('SELECT status FROM workflow_runs WHERE id = ?');
const SET_PRIORITY = sql('UPDATE workflow_runs SET queue_priority = ? WHERE id = ?');
/** Cancel wins over the worker: any active run, leased or not; the lease holder's writes then find it canceled. */
const CANCEL = sql(
  `UPDATE workflow_runs SET status = 'canceled', finished_at = ?, leased_by = NULL, lease_expires_at = NULL,
   queue_expires_at = NULL, updated_at = ? WHERE id = ? AND workflow_id = ? AND ${ACTIVE}`,
);
const ACTIVE_OF_WORKFLOW = sql(`SELECT ${DISPLACED_COLUMNS} FROM workflow_runs WHERE workflow_id = ? AND ${ACTIVE}`);
const CANCEL_ALL = sql(
  `UPDATE workflow_runs SET status = 'canceled', finished_at = ?, leased_by = NULL, lease_expires_at = NULL,
   queue_expires_at = NULL, updated_at = ? WHERE id IN (SELECT value FROM json_each(?)) AND +${ACTIVE}`,
  `UPDATE workflow_runs SET status = 'canceled', finished_at = ?, leased_by = NULL, lease_expires_at = NULL,
   queue_expires_at = NULL, updated_at = ? WHERE id = ANY(?::uuid[]) AND ${ACTIVE}`,
);

/** Runs waiting to start (queued and never claimed), counted up to `?`. */
const WAITING_OF_WORKFLOW = sql(
  `SELECT COUNT(*) AS n FROM (SELECT 1 FROM workflow_runs
     WHERE workflow_id = ? AND status = 'queued' AND first_claimed_at IS NULL LIMIT ?) waiting`,
);
const GROUP = (keyed: boolean) => `workflow_id = ?${keyed ? ' AND concurrency_key = ?' : ''} AND ${ACTIVE}`;
/** Active runs of a concurrency group, counted up to `?`. */
const ACTIVE_OF_GROUP = (keyed: boolean) =>
  sql(`SELECT COUNT(*) AS n FROM (SELECT 1 FROM workflow_runs WHERE ${GROUP(keyed)} LIMIT ?) active`);
/** Cancels a group's active runs but its newest `?` (`cancel_oldest`), returning them. */
const CANCEL_OLDEST_OF_GROUP = (keyed: boolean) => {
  const returning = `RETURNING ${DISPLACED_COLUMNS}`;
  const update = (newest: string) =>
    `UPDATE workflow_runs SET status = 'canceled', finished_at = ?, leased_by = NULL, lease_expires_at = NULL,
       queue_expires_at = NULL, updated_at = ?
     WHERE id IN (SELECT id FROM workflow_runs WHERE ${GROUP(keyed)} ORDER BY created_at DESC, id DESC ${newest})
       AND ${ACTIVE} ${returning}`;
  return sql(update('LIMIT -1 OFFSET ?'), update('OFFSET ?'));
};
const BACKPRESSURE_SQL = {
  activeOfGroup: [ACTIVE_OF_GROUP(false), ACTIVE_OF_GROUP(true)],
  cancelOldest: [CANCEL_OLDEST_OF_GROUP(false), CANCEL_OLDEST_OF_GROUP(true)],
};

/**
 * Writes a queued run and its trigger events: RunRepository's inserts, and a dead letter's
 * requeue (DeadLetterRepository), which inserts the run in its own transaction.
 */
export class RunInserts {
  private runSql?: Sql;
  private eventSql?: Sql;
  private signatureSql?: Sql;
  private ticketSql?: Sql;
  /** By which checks the admission makes ('s' signature, 't' ticket). */
  private readonly runWithEventSql = new Map<string, Sql>();

  constructor(private readonly db: Db) {}

  async queued(tx: SqlRunner, values: NewRun, now: Date): Promise<RunEntity> {
    const row = this.queuedRow(values, now);
    const codec = this.db.codec(RunEntity);
    this.runSql ??= codec.insertSql(RUN_COLUMNS);
    await tx.query(this.runSql, codec.values(row, RUN_COLUMNS));
    return row;
  }

  /**
   * PostgreSQL, one event (every trigger): the signature, the ticket, the run and its event in one
   * statement, atomic without BEGIN and COMMIT round trips. Each write happens only when the one
   * before it did (a data-modifying CTE returns rows only for what it wrote).
   */
  async queuedWithEvent(
    values: NewRun,
    now: Date,
    event: NewRunEvent,
    admission: Admission,
  ): Promise<RunEntity | AdmissionRefusal> {
    const row = this.queuedRow(values, now);
    const runs = this.db.codec(RunEntity);
    const events = this.db.codec(RunEventEntity);
    const { signature, ticket } = admission;
    const key = `${signature ? 's' : ''}${ticket ? 't' : ''}`;
    let statement = this.runWithEventSql.get(key);
    if (!statement) {
      const steps: string[] = [];
      let condition = '';
      if (signature) {
        steps.push(`signature AS (${REMEMBER_SIGNATURE_SQL})`);
        condition = 'EXISTS (SELECT 1 FROM signature)';
      }
      if (ticket) {
        steps.push(`ticket AS (${takeTicketSql(condition || undefined)})`);
        condition = 'EXISTS (SELECT 1 FROM ticket)';
      }
      const run = condition ? runs.insertWhereSql(RUN_COLUMNS, condition) : runs.insertSql(RUN_COLUMNS);
      steps.push(`run AS (${run.sqlite} RETURNING id)`);
      steps.push(
        `event AS (INSERT INTO workflow_run_events (id, workflow_run_id, workflow_id, workspace_id, triggered_by,
           connection_type, connection_id, recorded_at) SELECT ?, run.id, ?, ?, ?, ?, NULL, ? FROM run)`,
      );
      const outcome = [
        signature ? 'EXISTS (SELECT 1 FROM signature) AS signature' : 'TRUE AS signature',
        ticket ? 'EXISTS (SELECT 1 FROM ticket) AS ticket' : 'TRUE AS ticket',
      ];
      statement = sql(`WITH ${steps.join(',\n')} SELECT ${outcome.join(', ')}`);
      this.runWithEventSql.set(key, statement);
    }
    const { rows } = await this.db.exec<{ signature: boolean; ticket: boolean }>(statement, [
      ...(signature ? rememberSignatureParams(this.db, signature.workflowId, signature.value, now) : []),
      ...(ticket ? takeTicketParams(this.db, ticket, now) : []),
      ...runs.values(row, RUN_COLUMNS),
      randomUUID(),
      row.workflowId,
      row.workspaceId,
      event.triggeredBy,
      event.connectionType ?? null,
      events.param('recordedAt', now),
    ]);
    if (!rows[0].signature) return 'replay';
    if (!rows[0].ticket) return 'quota';
    return row;
  }

  /**
   * The admission's checks as statements of a transaction `tx` (SQLite, or several events, or
   * backpressure to check). Backpressure first, under the workflow's lock (PostgreSQL; SQLite holds
   * the writer), which claims take too: two starts cannot both take a group's last place.
   */
  async admit(tx: SqlRunner, workflowId: string, admission: Admission, now: Date): Promise<AdmissionRefusal | null> {
    const { signature, ticket, backpressure } = admission;
    if (backpressure) {
      if (this.db.dialect === 'postgres') await tx.query(LOCK_WORKFLOW, [workflowId]);
      const count = async (statement: Sql, params: unknown[]) =>
        Number((await tx.query<{ n: number | string }>(statement, params)).rows[0].n);
      const { key, limit, onLimit, maxQueued } = backpressure;
      if (maxQueued !== null && (await count(WAITING_OF_WORKFLOW, [workflowId, maxQueued])) >= maxQueued)
        return 'queue_full';
      if (onLimit === 'reject') {
        const group = key === null ? [workflowId] : [workflowId, key];
        const active = await count(BACKPRESSURE_SQL.activeOfGroup[key === null ? 0 : 1], [...group, limit]);
        if (active >= limit) return 'concurrency_limited';
      }
    }
    if (signature) {
      this.signatureSql ??= sql(REMEMBER_SIGNATURE_SQL);
      const fresh = await tx.query(
        this.signatureSql,
        rememberSignatureParams(this.db, signature.workflowId, signature.value, now),
      );
      if (!fresh.rows.length) return 'replay';
    }
    if (ticket) {
      this.ticketSql ??= sql(takeTicketSql());
      const taken = await tx.query(this.ticketSql, takeTicketParams(this.db, ticket, now));
      if (!taken.rows.length) return 'quota';
    }
    return null;
  }

  /**
   * `cancel_oldest`, once the run is admitted: cancels the group's oldest active runs so that with
   * the new run it holds at most its limit. Returns them, for their events.
   */
  async makeRoom(tx: SqlRunner, workflowId: string, backpressure: Backpressure, now: Date): Promise<DisplacedRun[]> {
    const { key, limit } = backpressure;
    const codec = this.db.codec(RunEntity);
    const at = codec.param('finishedAt', now);
    const group = key === null ? [workflowId] : [workflowId, key];
    const { rows } = await tx.query<Record<string, unknown>>(BACKPRESSURE_SQL.cancelOldest[key === null ? 0 : 1], [
      at,
      at,
      ...group,
      limit - 1,
    ]);
    return rows.map((row) => displacedRun(codec, row));
  }

  async events(tx: SqlRunner, run: RunEntity, events: NewRunEvent[], now: Date): Promise<void> {
    const codec = this.db.codec(RunEventEntity);
    this.eventSql ??= codec.insertSql(EVENT_COLUMNS);
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
      await tx.query(this.eventSql, codec.values(event, EVENT_COLUMNS));
    }
  }

  private queuedRow(values: NewRun, now: Date): RunEntity {
    return Object.assign(new RunEntity(), {
      ...values,
      id: randomUUID(),
      idempotencyScope: values.workspaceId ?? values.ownerId,
      requestId: values.requestId ?? null,
      traceParent: values.traceParent ?? null,
      workflowVersion: values.workflowVersion ?? null,
      concurrencyKey: values.concurrencyKey ?? null,
      queueExpiresAt: values.queueExpiresAt ?? null,
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
}

/**
 * Runs and their audit trail of trigger events. The queue's own writes (claim, lease, terminal
 * writes) are RunQueueRepository's; node runs NodeRunRepository's; dead letters DeadLetterRepository's.
 */
@Injectable()
export class RunRepository {
  private readonly inserts: RunInserts;

  constructor(private readonly db: Db) {
    this.inserts = new RunInserts(db);
  }

  /**
   * Inserts a queued run once its admission passed (signature new, ticket taken), all or nothing.
   * With an idempotency key that is already used in the scope, returns the most recent run for it
   * instead (`duplicate: true`, nothing written, no ticket taken), as docs/contract.md §4.8 says.
   */
  async insertAdmitted(values: NewRun, now: Date, events: NewRunEvent[], admission: Admission): Promise<InsertResult> {
    try {
      const { backpressure } = admission;
      if (this.db.dialect === 'postgres' && events.length === 1 && !backpressure) {
        const run = await this.inserts.queuedWithEvent(values, now, events[0], admission);
        return typeof run === 'string' ? { refused: run } : { run, duplicate: false };
      }
      return await this.db.atomic(async (tx): Promise<InsertResult> => {
        const refused = await this.inserts.admit(tx, values.workflowId, admission, now);
        if (refused) return { refused };
        const displaced =
          backpressure?.onLimit === 'cancel_oldest'
            ? await this.inserts.makeRoom(tx, values.workflowId, backpressure, now)
            : [];
        const run = await this.inserts.queued(tx, values, now);
        await this.inserts.events(tx, run, events, now);
        return { run, duplicate: false, displaced };
      });
    } catch (error) {
      if (!values.idempotencyKey || !isUniqueViolation(error)) throw error;
      const existing = await this.findByIdempotencyKey(values, values.idempotencyKey);
      if (!existing) throw error;
      return { run: existing, duplicate: true };
    }
  }

  /** `insertAdmitted` with nothing to check first. */
  async insert(values: NewRun, now: Date, events: NewRunEvent[] = []): Promise<{ run: RunEntity; duplicate: boolean }> {
    const result = await this.insertAdmitted(values, now, events, {});
    if (result.refused) throw new Error(`a run without an admission was refused (${result.refused})`);
    return result;
  }

  /** The most recent run of the workflow with this idempotency key in its scope (workspace, else owner). */
  findByIdempotencyKey(
    workflow: Pick<NewRun, 'workflowId' | 'workspaceId' | 'ownerId'>,
    key: string,
  ): Promise<RunEntity | null> {
    return this.db.selectOne(RunEntity, BY_IDEMPOTENCY_KEY, [
      workflow.workspaceId ?? workflow.ownerId,
      workflow.workflowId,
      key,
    ]);
  }

  /** Internal (the launcher, on a run it just inserted): by run id. */
  async setPriority(runId: string, priority: number): Promise<void> {
    await this.db.exec(SET_PRIORITY, [priority, runId]);
  }

  /** Internal (workers, stream refreshes of a run already checked): by run id, no scope. */
  findById(runId: string): Promise<RunEntity | null> {
    return this.db.selectOne(RunEntity, BY_ID, [runId]);
  }

  findForWorkflow(workflowId: string, runId: string): Promise<RunEntity | null> {
    return this.db.selectOne(RunEntity, BY_WORKFLOW_AND_ID, [runId, workflowId]);
  }

  /** Newest first; `statuses` empty = all. */
  listForWorkflow(workflowId: string, page: number, perPage: number, statuses: RunStatus[]): Promise<RunEntity[]> {
    const paging = [perPage, (page - 1) * perPage];
    if (!statuses.length) return this.db.select(RunEntity, PAGE_OF_WORKFLOW, [workflowId, ...paging]);
    const where = PAGE_OF_WORKFLOW_IN_STATUSES;
    return this.db.select(RunEntity, where.sqlite, [workflowId, this.db.list(statuses), ...paging], where.postgres);
  }

  /** Queued and running runs, oldest first: of one workflow, or of every workflow in `workflowIds`. */
  listActive(workflowIds: string[]): Promise<RunEntity[]> {
    if (!workflowIds.length) return Promise.resolve([]);
    const where = ACTIVE_OF_WORKFLOWS;
    return this.db.select(RunEntity, where.sqlite, [this.db.list(workflowIds)], where.postgres);
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

  /** Every run by status: internal, unscoped (the metrics gauge; read at scrape time, not per request). */
  async countByStatus(): Promise<Record<string, number>> {
    const { rows } = await this.db.read<{ status: string; n: string | number }>(COUNT_BY_STATUS);
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }

  /** Queued runs due at `now`, what workers have yet to claim: internal, unscoped (the queue-depth gauge). */
  async countDue(now: Date): Promise<number> {
    const { rows } = await this.db.read<{ n: string | number }>(COUNT_DUE, [
      this.db.codec(RunEntity).param('resumeAt', now),
    ]);
    return Number(rows[0].n);
  }

  /** Runs of a workspace created since `since`, grouped by owner (usage page). */
  async countByOwnerSince(workspaceId: string, since: Date): Promise<{ userId: string; runs: number }[]> {
    const { rows } = await this.db.read<{ user_id: string; runs: string | number }>(COUNT_BY_OWNER_SINCE, [
      workspaceId,
      this.db.codec(RunEntity).param('createdAt', since),
    ]);
    return rows.map((r) => ({ userId: r.user_id, runs: Number(r.runs) }));
  }

  /** Cancel wins: a queued or running run becomes `canceled` once; returns whether it did. */
  async cancel(workflowId: string, runId: string, now: Date): Promise<boolean> {
    const at = this.db.codec(RunEntity).param('finishedAt', now);
    return (await this.db.exec(CANCEL, [at, at, runId, workflowId])).changes > 0;
  }

  /** Cancels every active run of the workflow; returns them (what their log lines say, not their snapshots). */
  cancelAllActive(workflowId: string, now: Date): Promise<DisplacedRun[]> {
    const codec = this.db.codec(RunEntity);
    return this.db.atomic(async (tx) => {
      const { rows } = await tx.query<Record<string, unknown>>(ACTIVE_OF_WORKFLOW, [workflowId]);
      const active = rows.map((row) => displacedRun(codec, row));
      if (active.length) {
        const at = codec.param('finishedAt', now);
        await tx.query(CANCEL_ALL, [at, at, this.db.list(active.map((r) => r.id))]);
      }
      return active;
    });
  }

  /** Internal (the worker, for the run it holds): by run id. */
  async statusOf(runId: string): Promise<RunStatus | null> {
    const { rows } = await this.db.read<{ status: RunStatus }>(STATUS_OF, [runId]);
    return rows[0]?.status ?? null;
  }

  /**
   * Retention, internal: deletes finished runs created before `before` (their node runs, events and
   * dead letters go with them), `chunk` at a time: each chunk is its own short write, so a large
   * backlog never holds the writer (SQLite) or row locks (PostgreSQL) for long. Returns how many went.
   */
  async purgeFinishedBefore(before: Date, chunk = PURGE_CHUNK): Promise<number> {
    return deleteInChunks(this.db, RunEntity, chunk, (qb) =>
      qb.where('t.status IN (:...terminal)', { terminal: TERMINAL_RUN_STATUSES }).andWhere('t.created_at < :before', {
        before,
      }),
    );
  }

  // --- the run's audit trail ----------------------------------------------------------------------

  async recordEvents(run: RunEntity, events: NewRunEvent[], now: Date): Promise<void> {
    await this.db.atomic((tx) => this.inserts.events(tx, run, events, now));
  }

  /** The run's trigger events, oldest first; none unless the run is the workflow's. */
  eventsFor(workflowId: string, runId: string): Promise<RunEventEntity[]> {
    return this.db.select(RunEventEntity, EVENTS_OF_RUN, [runId, workflowId]);
  }
}
