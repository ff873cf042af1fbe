import type { DeadLetterEntity } from '../entities/dead-letter.entity';
import { sql, Sql } from '../sql';

/*
 * The queue's SQL, named by intent. The run row is the queue (docs/contract.md §4.3): every write
 * here is conditional on the row's current state (and, for a leased run, on its lease holder), so
 * two workers, or a worker and a cancel, racing for one run change it at most once.
 */

/** The tenant before every other in tenant order (a uuid no tenant has). */
export const FIRST_TENANT = '00000000-0000-0000-0000-000000000000';

/**
 * Not expired (`queued_ttl_sec`: the sweep ends it soon, a claim must not start it meanwhile; the
 * parameter is now), and its concurrency group below the workflow's key limit (docs/contract.md §2.19).
 */
const WITHIN_GROUP = `(q.queue_expires_at IS NULL OR q.queue_expires_at > ?)
   AND (q.concurrency_key IS NULL OR w.concurrency_key_limit IS NULL
     OR (SELECT COUNT(*) FROM workflow_runs k WHERE k.workflow_id = q.workflow_id
           AND k.concurrency_key = q.concurrency_key AND k.status = 'running') < w.concurrency_key_limit)`;

/** Due queued runs of workflows below their concurrency limits (a pre-filter, re-checked under the workflow's lock). */
const ELIGIBLE = `FROM workflow_runs q
   JOIN workflows w ON w.id = q.workflow_id
   LEFT JOIN (SELECT workflow_id, COUNT(*) AS n FROM workflow_runs WHERE status = 'running' GROUP BY workflow_id) running
     ON running.workflow_id = q.workflow_id
   WHERE q.status = 'queued' AND q.resume_at <= ? AND COALESCE(running.n, 0) < w.concurrency_limit AND ${WITHIN_GROUP}`;

/** Whether anything is claimable, read before opening a transaction; a hint only, so no lock needed. */
export const PEEK_CANDIDATES = sql(`SELECT q.id ${ELIGIBLE} LIMIT 1`);

/** The next tenant with queued runs after `after`: one step along the queue index, however deep its backlog. */
const NEXT_TENANT = (after: string) =>
  `SELECT x.idempotency_scope FROM workflow_runs x WHERE x.status = 'queued' AND x.idempotency_scope > ${after}
   ORDER BY x.idempotency_scope LIMIT 1`;

/**
 * Up to `?` tenants with queued runs after `?`, in tenant order (the tenant is `idempotency_scope`:
 * the workspace, or the owner of a personal workflow). Read-only inside the claim transaction: a
 * stale answer only costs a turn.
 */
export const TENANTS_AFTER = sql(
  `WITH RECURSIVE t(tenant) AS (
     SELECT (${NEXT_TENANT('?')})
     UNION ALL
     SELECT (${NEXT_TENANT('t.tenant')}) FROM t WHERE t.tenant IS NOT NULL
   ) SELECT tenant FROM t WHERE tenant IS NOT NULL LIMIT ?`,
);

/** A tenant's highest and lowest queued priority, the levels to read in the index; read-only, a hint. */
export const PRIORITY_RANGE = sql(
  "SELECT MAX(queue_priority) AS p, MIN(queue_priority) AS lowest FROM workflow_runs WHERE status = 'queued' AND idempotency_scope = ?",
);

/** A tenant's next queued priority below `?`; read-only, a hint. */
export const NEXT_PRIORITY = sql(
  "SELECT MAX(queue_priority) AS p FROM workflow_runs WHERE status = 'queued' AND idempotency_scope = ? AND queue_priority < ?",
);

/** SQLite is told (`+`) not to range-scan `resume_at`: the tenant index's order is the one wanted. */
const tenantCandidates = (resumeAt: string) =>
  `SELECT q.id, q.workflow_id, q.concurrency_key, q.queue_priority, q.created_at FROM workflow_runs q
   JOIN workflows w ON w.id = q.workflow_id
   LEFT JOIN (SELECT workflow_id, COUNT(*) AS n FROM workflow_runs WHERE status = 'running' GROUP BY workflow_id) running
     ON running.workflow_id = q.workflow_id
   WHERE q.status = 'queued' AND ${resumeAt} <= ? AND COALESCE(running.n, 0) < w.concurrency_limit AND ${WITHIN_GROUP}
     AND q.idempotency_scope = ? AND q.queue_priority = ? ORDER BY q.created_at, q.id LIMIT ?`;

/**
 * One tenant's oldest due runs at one priority. PostgreSQL locks them `FOR UPDATE SKIP LOCKED`, so
 * concurrent claimers pass over each other's candidates instead of waiting; SQLite holds the writer.
 */
export const CLAIM_CANDIDATES = sql(
  tenantCandidates('+q.resume_at'),
  `${tenantCandidates('q.resume_at')} FOR UPDATE OF q SKIP LOCKED`,
);

/**
 * PostgreSQL: a workflow's transaction-scoped advisory lock, held while its running counts are
 * read and its runs admitted or claimed: two claimers cannot both fill its last slot, and a start
 * that counts its group sees every claim before or after it. Admissions wait for it.
 */
export const LOCK_WORKFLOW = sql('SELECT pg_advisory_xact_lock(hashtextextended(?, 4242))');

/**
 * The claim's form: never waits. A claim already holds its candidates' rows, and a start under
 * `cancel_oldest` holding the lock may be waiting to cancel exactly those rows; a workflow whose
 * lock is busy is left for the next claim.
 */
export const TRY_LOCK_WORKFLOW = sql('SELECT pg_try_advisory_xact_lock(hashtextextended(?, 4242)) AS locked');

const slots = (workflows: string) =>
  `SELECT w.id, w.concurrency_key_limit AS key_limit,
     w.concurrency_limit - (SELECT COUNT(*) FROM workflow_runs x WHERE x.workflow_id = w.id AND x.status = 'running') AS free
   FROM workflows w WHERE ${workflows}`;
/** Free concurrency slots per workflow and its key limit, read under LOCK_WORKFLOW (or SQLite's writer), so exact. */
export const WORKFLOW_SLOTS = sql(slots('w.id IN (SELECT value FROM json_each(?))'), slots('w.id = ANY(?::uuid[])'));

const groupsRunning = (workflows: string) =>
  `SELECT workflow_id, concurrency_key, COUNT(*) AS n FROM workflow_runs
   WHERE ${workflows} AND status = 'running' AND concurrency_key IS NOT NULL GROUP BY workflow_id, concurrency_key`;
/** Running runs per concurrency group of the given workflows; under the same locks as WORKFLOW_SLOTS. */
export const GROUPS_RUNNING = sql(
  groupsRunning('workflow_id IN (SELECT value FROM json_each(?))'),
  groupsRunning('workflow_id = ANY(?::uuid[])'),
);

/**
 * SQLite is told (`+status`) to find runs by id: without statistics its planner otherwise walks
 * the status index, every queued run, per claim.
 *
 * Leases the chosen runs to a worker, returning them (`columns(sizeExpression)` is the RETURNING
 * list, which leaves large snapshots out); only runs still `queued` change, so a run canceled or
 * claimed meanwhile is skipped.
 */
export const CLAIM_RUNS = (columns: (snapshotSize: string) => string): Sql =>
  sql(
    `UPDATE workflow_runs SET status = 'running', leased_by = ?, lease_expires_at = ?, heartbeat_at = ?,
       attempt = attempt + 1, first_claimed_at = COALESCE(first_claimed_at, ?), queue_expires_at = NULL, updated_at = ?
     WHERE id IN (SELECT value FROM json_each(?)) AND +status = 'queued' RETURNING ${columns('length(snapshot)')}`,
    `UPDATE workflow_runs SET status = 'running', leased_by = ?, lease_expires_at = ?, heartbeat_at = ?,
       attempt = attempt + 1, first_claimed_at = COALESCE(first_claimed_at, ?), queue_expires_at = NULL, updated_at = ?
     WHERE id = ANY(?::uuid[]) AND status = 'queued' RETURNING ${columns('pg_column_size(snapshot)')}`,
  );

/** A claimed run's snapshot, when too large to come with the claim; a plain read of an immutable-while-leased column. */
export const SNAPSHOT_OF = sql('SELECT snapshot FROM workflow_runs WHERE id = ?');

/**
 * Extends a lease; changes nothing unless this worker still holds the running run, so a canceled
 * or lost run is reported, never revived. Leaves `updated_at` (the run's visible version) alone.
 */
export const RENEW_LEASE = sql(
  "UPDATE workflow_runs SET heartbeat_at = ?, lease_expires_at = ? WHERE id = ? AND leased_by = ? AND status = 'running'",
);

/** Whether any lease expired, read before taking the writer (runs every few seconds in every worker); a hint. */
export const PEEK_EXPIRED = sql(
  "SELECT id FROM workflow_runs WHERE status = 'running' AND lease_expires_at < ? LIMIT 1",
);

/**
 * Fails expired runs on their last allowed loss, returning them (`columns`: the RETURNING list);
 * conditional on `running` with an expired lease, so a renewal or terminal write that won keeps its run.
 */
export const ABANDON_EXPIRED = (columns: string): Sql =>
  sql(
    `UPDATE workflow_runs SET status = 'failed',
       error = 'Run abandoned after ' || (lost_attempts + 1) || ' attempts: worker lease lost',
       lost_attempts = lost_attempts + 1, finished_at = ?, leased_by = NULL, lease_expires_at = NULL, updated_at = ?
     WHERE status = 'running' AND lease_expires_at < ? AND lost_attempts + 1 >= ? RETURNING ${columns}`,
  );

/** Whether any run waited past its `queued_ttl_sec`, read before taking the writer; a hint. */
export const PEEK_QUEUE_EXPIRED = sql(
  "SELECT id FROM workflow_runs WHERE status = 'queued' AND queue_expires_at <= ? LIMIT 1",
);

/**
 * Ends runs still waiting to start past their `queued_ttl_sec` as `expired`, returning them
 * (`columns`); a claim clears `queue_expires_at`, so a run that started is never expired.
 */
export const EXPIRE_QUEUED = (columns: string): Sql =>
  sql(
    `UPDATE workflow_runs SET status = 'expired', error = 'Expired: not started within the workflow''s queued_ttl_sec',
       finished_at = ?, queue_expires_at = NULL, updated_at = ?
     WHERE status = 'queued' AND queue_expires_at <= ? RETURNING ${columns}`,
  );

/** Puts the other expired runs back in the queue, the loss counted; same condition as ABANDON_EXPIRED. */
export const REQUEUE_EXPIRED = sql(
  `UPDATE workflow_runs SET status = 'queued', leased_by = NULL, lease_expires_at = NULL, resume_at = ?,
     lost_attempts = lost_attempts + 1, updated_at = ?
   WHERE status = 'running' AND lease_expires_at < ? RETURNING id`,
);

/** The terminal write: only the lease holder of a running run, so a canceled run stays canceled. */
export const FINISH = sql(
  `UPDATE workflow_runs SET status = ?, error = ?, finished_at = ?, leased_by = NULL, lease_expires_at = NULL,
   updated_at = ? WHERE id = ? AND leased_by = ? AND status = 'running'`,
);
/** FINISH's parameter count: room a node-run upsert sent with it must leave (FINISH_WITH_NODES). */
export const FINISH_PARAMETERS = FINISH.sqlite.split('?').length - 1;

/** PostgreSQL: node-run upserts and FINISH in one statement, atomic without BEGIN/COMMIT round trips. */
export const FINISH_WITH_NODES = (upsertNodes: Sql): Sql =>
  sql(`WITH nodes AS (${upsertNodes.sqlite}) ${FINISH.sqlite}`);

/**
 * PostgreSQL: the terminal writes of several runs finishing together, each with its last node runs
 * (`upsertNodes`, the array form of the node-run upsert), in one statement and one commit. One
 * array per field holds the runs (id, lease holder, status, error, time); each changes only if its
 * lease holder still holds it running, as FINISH. RETURNING names the runs that changed.
 */
export const FINISH_MANY = (upsertNodes: string): Sql =>
  sql(
    `WITH v AS (SELECT * FROM unnest(?::uuid[], ?::varchar[], ?::varchar[], ?::text[], ?::timestamptz[])
       AS v(id, leased_by, status, error, at)),
     nodes AS (${upsertNodes})
     UPDATE workflow_runs r SET status = v.status, error = v.error, finished_at = v.at, leased_by = NULL,
       lease_expires_at = NULL, updated_at = v.at
     FROM v WHERE r.id = v.id AND r.leased_by = v.leased_by AND r.status = 'running' RETURNING r.id`,
  );

/** A dead letter, written in the same transaction as the failing terminal write (FINISH or ABANDON_EXPIRED). */
export const INSERT_DEAD_LETTER = sql(
  `INSERT INTO workflow_dead_letters (id, user_id, workflow_id, run_id, error, snapshot, created_at)
   VALUES (?, ?, ?, ?, ?, ?, ?)`,
);
/** INSERT_DEAD_LETTER's columns, in its order. */
export const DEAD_LETTER_COLUMNS: (keyof DeadLetterEntity & string)[] = [
  'id',
  'userId',
  'workflowId',
  'runId',
  'error',
  'snapshot',
  'createdAt',
];

/** A delay: back to the queue until `resume_at` with the resume state; only by the lease holder of a running run. */
export const PAUSE = sql(
  `UPDATE workflow_runs SET status = 'queued', resume_at = ?, snapshot = ?, leased_by = NULL, lease_expires_at = NULL,
   updated_at = ? WHERE id = ? AND leased_by = ? AND status = 'running'`,
);

/** Graceful shutdown: back to the queue, due at once; only by the lease holder of a running run. */
export const RELEASE = sql(
  `UPDATE workflow_runs SET status = 'queued', leased_by = NULL, lease_expires_at = NULL, resume_at = ?,
   updated_at = ? WHERE id = ? AND leased_by = ? AND status = 'running'`,
);
