import { Injectable } from '@nestjs/common';
import { In, IsNull, LessThan } from 'typeorm';
import { Db } from '../db.service';
import { DeliveryAttempt, DeliveryStatus, NotificationDeliveryEntity } from '../entities/notification-delivery.entity';
import { NotificationEndpointEntity, NotifiedStatus } from '../entities/notification-endpoint.entity';
import { RunEntity, TERMINAL_RUN_STATUSES } from '../entities/run.entity';
import { WorkflowEntity } from '../entities/workflow.entity';
import { sql, Sql, SqlRunner } from '../sql';

/** Attempts the delivery log keeps per message (the newest). */
const LOG_KEPT = 20;

const TERMINAL = TERMINAL_RUN_STATUSES.map((s) => `'${s}'`).join(', ');

/**
 * How long before the sweep window a run may have been created: a range on the (workflow, status,
 * created) index bounds the sweep's scan; a run that waited longer than this on a delay and whose
 * queueing an event missed is not swept.
 */
const SWEEP_RUN_AGE_MS = 7 * 24 * 3_600_000;

/**
 * Finished runs of workflows with endpoints that have no message to that endpoint yet (a crash
 * between the terminal write and the queueing, or a cache that had not seen the endpoint): the
 * sweep queues them. Only runs finished after the endpoint was made, within the window.
 */
const missing = (wants: string) =>
  `SELECT e.id AS endpoint_id, r.id AS run_id FROM workflow_notification_endpoints e
   JOIN workflow_runs r ON r.workflow_id = e.workflow_id
   WHERE r.status IN (${TERMINAL}) AND r.created_at >= ? AND r.finished_at >= ? AND r.finished_at >= e.created_at
     AND ${wants}
     AND NOT EXISTS (SELECT 1 FROM workflow_notification_deliveries d WHERE d.endpoint_id = e.id AND d.run_id = r.id)
   ORDER BY r.finished_at LIMIT ?`;
/** Only what the endpoint asked for: runs of statuses it does not want are never missing. */
const MISSING = sql(
  missing('EXISTS (SELECT 1 FROM json_each(e.statuses) s WHERE s.value = r.status)'),
  missing('e.statuses @> to_jsonb(r.status::text)'),
);

/** Messages delivered or given up on before a time: the delivery log's retention. */
const PRUNE_DELIVERIES = sql(
  `DELETE FROM workflow_notification_deliveries WHERE id IN (
     SELECT id FROM workflow_notification_deliveries WHERE status <> 'pending' AND updated_at < ? LIMIT 1000)`,
);

/** Whether anything is due, read before the claim (a write) is tried: most polls find nothing. */
const PEEK_DUE = sql(
  `SELECT id FROM workflow_notification_deliveries
   WHERE status = 'pending' AND next_attempt_at <= ? AND (claim_expires_at IS NULL OR claim_expires_at < ?) LIMIT 1`,
);

/** The columns a queued message is written with (all of them). */
const DELIVERY_COLUMNS: (keyof NotificationDeliveryEntity & string)[] = [
  'id',
  'endpointId',
  'workflowId',
  'runId',
  'event',
  'payload',
  'status',
  'attempts',
  'nextAttemptAt',
  'claimedBy',
  'claimExpiresAt',
  'log',
  'deliveredAt',
  'createdAt',
  'updatedAt',
];
/** Endpoint creations of one workflow, one at a time (PostgreSQL; the key space is this lock's own). */
const LOCK_ENDPOINTS = sql('SELECT pg_advisory_xact_lock(hashtextextended(?, 4243))');
const COUNT_ENDPOINTS = sql('SELECT COUNT(*) AS n FROM workflow_notification_endpoints WHERE workflow_id = ?');
const ENDPOINT_COLUMNS: (keyof NotificationEndpointEntity & string)[] = [
  'id',
  'workflowId',
  'url',
  'statuses',
  'secret',
  'previousSecret',
  'previousSecretExpiresAt',
  'createdBy',
  'createdAt',
  'updatedAt',
];
/** Messages per INSERT (15 parameters each). */
const ENQUEUE_CHUNK = 32;

/**
 * A claimed batch's attempts in one statement, each only by the claim holder: SQLite reads the
 * batch from one JSON array (no transaction around one statement per message), PostgreSQL from one
 * array per field.
 */
const RECORD_ATTEMPTS = (() => {
  const set = `SET status = v.status, attempts = v.attempts, next_attempt_at = v.next_attempt_at, log = v.log,
     delivered_at = v.delivered_at, claimed_by = NULL, claim_expires_at = NULL, updated_at = ?`;
  const fields = ['id', 'status', 'attempts', 'next_attempt_at', 'log', 'delivered_at'];
  return sql(
    `UPDATE workflow_notification_deliveries AS d ${set}
     FROM (SELECT ${fields.map((f) => `json_extract(value, '$.${f}') AS ${f}`).join(', ')} FROM json_each(?)) AS v
     WHERE d.id = v.id AND d.claimed_by = ? RETURNING id`,
    `UPDATE workflow_notification_deliveries d ${set}
     FROM unnest(?::uuid[], ?::varchar[], ?::int[], ?::timestamptz[], ?::jsonb[], ?::timestamptz[])
       AS v(${fields.join(', ')})
     WHERE d.id = v.id AND d.claimed_by = ? RETURNING d.id`,
  );
})();

/** A finished run as its notification tells of it. */
export type NotifiedRun = Pick<
  RunEntity,
  'id' | 'workflowId' | 'workspaceId' | 'error' | 'workflowVersion' | 'triggeredBy' | 'startedAt'
> & { status: NotifiedStatus; finishedAt: Date };

/** What sending a workflow's messages needs of it: its name for the body, its owner and allowlist for egress. */
export type SendingContext = Pick<WorkflowEntity, 'name' | 'egressAllowlist'> & { ownerId: string };

/** What a dispatcher records of one attempt. */
export interface AttemptOutcome {
  status: DeliveryStatus;
  attempt: DeliveryAttempt;
  /** For a message still pending: when to try again. */
  nextAttemptAt: Date;
}

/** Run notifications: endpoints and their messages (docs/contract.md §2.18). */
@Injectable()
export class NotificationRepository {
  private claimSql?: Sql;
  private finishedSql?: Sql;
  private endpointSql?: Sql;
  /** INSERTs of 1…ENQUEUE_CHUNK messages. */
  private readonly enqueueSql = new Map<number, Sql>();

  constructor(private readonly db: Db) {}

  private get endpoints() {
    return this.db.manager.getRepository(NotificationEndpointEntity);
  }

  private get deliveries() {
    return this.db.manager.getRepository(NotificationDeliveryEntity);
  }

  listEndpoints(workflowId: string): Promise<NotificationEndpointEntity[]> {
    return this.endpoints.find({ where: { workflowId }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  /** Endpoints of any of these workflows (the dispatcher's cache fill). */
  endpointsOf(workflowIds: string[]): Promise<NotificationEndpointEntity[]> {
    return workflowIds.length ? this.endpoints.find({ where: { workflowId: In(workflowIds) } }) : Promise.resolve([]);
  }

  findEndpoint(workflowId: string, id: string): Promise<NotificationEndpointEntity | null> {
    return this.endpoints.findOneBy({ workflowId, id });
  }

  /**
   * Adds the endpoint unless its workflow has `max` already (false then). Creations for one
   * workflow are serialized (PostgreSQL: a lock of their own; SQLite's writes are serial), so
   * concurrent ones never pass the cap together.
   */
  async createEndpoint(endpoint: NotificationEndpointEntity, max: number): Promise<boolean> {
    return this.db.atomic(async (tx) => {
      if (this.db.dialect === 'postgres') await tx.query(LOCK_ENDPOINTS, [endpoint.workflowId]);
      const { rows } = await tx.query<{ n: number | string }>(COUNT_ENDPOINTS, [endpoint.workflowId]);
      if (Number(rows[0].n) >= max) return false;
      const codec = this.db.codec(NotificationEndpointEntity);
      this.endpointSql ??= codec.insertSql(ENDPOINT_COLUMNS);
      await tx.query(this.endpointSql, codec.values(endpoint, ENDPOINT_COLUMNS));
      return true;
    });
  }

  /** Deletes the endpoint and its delivery log; false when there is none. */
  async deleteEndpoint(workflowId: string, id: string): Promise<boolean> {
    const result = await this.db.write((em) => em.getRepository(NotificationEndpointEntity).delete({ workflowId, id }));
    return (result.affected ?? 0) > 0;
  }

  /** A new secret; the one it replaces keeps signing until `previousExpiresAt`. */
  async rotate(
    endpoint: NotificationEndpointEntity,
    secret: string,
    previousExpiresAt: Date,
    now: Date,
  ): Promise<NotificationEndpointEntity | null> {
    const result = await this.db.write((em) =>
      em
        .getRepository(NotificationEndpointEntity)
        .update(
          { id: endpoint.id, secret: endpoint.secret },
          { secret, previousSecret: endpoint.secret, previousSecretExpiresAt: previousExpiresAt, updatedAt: now },
        ),
    );
    return result.affected ? this.endpoints.findOneBy({ id: endpoint.id }) : null;
  }

  /**
   * Queues messages, up to ENQUEUE_CHUNK per statement (one transaction for all); one that exists
   * for its endpoint and run already is left as it is. Returns the ids written.
   */
  async enqueue(rows: NotificationDeliveryEntity[]): Promise<Set<string>> {
    const written = new Set<string>();
    if (!rows.length) return written;
    const codec = this.db.codec(NotificationDeliveryEntity);
    const insert = (n: number) => {
      let statement = this.enqueueSql.get(n);
      if (!statement) {
        statement = codec.insertSql(DELIVERY_COLUMNS, 'ON CONFLICT (endpoint_id, run_id) DO NOTHING RETURNING id', n);
        this.enqueueSql.set(n, statement);
      }
      return statement;
    };
    const write = async (runner: SqlRunner, chunk: NotificationDeliveryEntity[]) => {
      const { rows: inserted } = await runner.query<{ id: string }>(
        insert(chunk.length),
        chunk.flatMap((row) => codec.values(row, DELIVERY_COLUMNS)),
      );
      for (const row of inserted) written.add(row.id);
    };
    // One statement is atomic on its own: no BEGIN and COMMIT round trips for it.
    if (rows.length <= ENQUEUE_CHUNK) {
      await write({ query: (statement, params) => this.db.exec(statement, params) }, rows);
      return written;
    }
    await this.db.atomic(async (tx) => {
      for (let i = 0; i < rows.length; i += ENQUEUE_CHUNK) await write(tx, rows.slice(i, i + ENQUEUE_CHUNK));
    });
    return written;
  }

  /** Finished runs by id, as their notifications tell of them. */
  async finishedRuns(runIds: string[]): Promise<NotifiedRun[]> {
    if (!runIds.length) return [];
    const runs = this.db.codec(RunEntity);
    // `+status`: SQLite finds the runs by id, not by walking every finished run in the status index.
    const select = (ids: string, status: string) =>
      `SELECT id, workflow_id, workspace_id, status, error, workflow_version, triggered_by, started_at,
         COALESCE(finished_at, updated_at) AS finished_at
       FROM workflow_runs WHERE id IN (${ids}) AND ${status} IN (${TERMINAL})`;
    this.finishedSql ??= sql(
      select('SELECT value FROM json_each(?)', '+status'),
      select('SELECT unnest(?::uuid[])', 'status'),
    );
    const { rows } = await this.db.read(this.finishedSql, [this.db.list(runIds)]);
    return rows.map((row) => ({
      id: runs.value('id', row.id),
      workflowId: runs.value('workflowId', row.workflow_id),
      workspaceId: runs.value('workspaceId', row.workspace_id),
      status: runs.value('status', row.status) as NotifiedStatus,
      error: runs.value('error', row.error),
      workflowVersion: runs.value('workflowVersion', row.workflow_version),
      triggeredBy: runs.value('triggeredBy', row.triggered_by),
      startedAt: runs.value('startedAt', row.started_at),
      finishedAt: runs.value('finishedAt', row.finished_at)!,
    }));
  }

  /** (endpoint, run) pairs with no message yet, for runs finished since `since`. */
  async missing(since: Date, limit: number): Promise<{ endpointId: string; runId: string }[]> {
    const codec = this.db.codec(NotificationDeliveryEntity);
    const { rows } = await this.db.read<{ endpoint_id: string; run_id: string }>(MISSING, [
      codec.param('createdAt', new Date(since.getTime() - SWEEP_RUN_AGE_MS)),
      codec.param('createdAt', since),
      limit,
    ]);
    return rows.map((r) => ({ endpointId: r.endpoint_id, runId: r.run_id }));
  }

  /**
   * Takes up to `limit` due messages for `workerId` until `until`: pending, due, and not held by
   * another dispatcher whose claim is still good. Conditional on that, so two dispatchers never
   * send one message at once (a claim that expires, its dispatcher gone, is taken again).
   */
  async claimDue(workerId: string, now: Date, until: Date, limit: number): Promise<NotificationDeliveryEntity[]> {
    const codec = this.db.codec(NotificationDeliveryEntity);
    const due = codec.param('nextAttemptAt', now);
    if (!(await this.db.read(PEEK_DUE, [due, due])).rows.length) return [];
    const free = `status = 'pending' AND next_attempt_at <= ? AND (claim_expires_at IS NULL OR claim_expires_at < ?)`;
    this.claimSql ??= sql(
      `UPDATE workflow_notification_deliveries SET claimed_by = ?, claim_expires_at = ?
       WHERE id IN (SELECT id FROM workflow_notification_deliveries WHERE ${free} ORDER BY next_attempt_at LIMIT ?)
         AND ${free} RETURNING ${codec.selectList}`,
    );
    const at = codec.param('nextAttemptAt', now);
    const { rows } = await this.db.exec(this.claimSql, [
      workerId,
      codec.param('claimExpiresAt', until),
      at,
      at,
      limit,
      at,
      at,
    ]);
    return rows.map((row) => codec.fromRow(row));
  }

  /**
   * Records the attempts of one claimed batch, each only while `workerId` still holds its claim:
   * one statement (RECORD_ATTEMPTS). Returns the ids recorded.
   */
  async recordAttempts(
    workerId: string,
    attempts: { delivery: NotificationDeliveryEntity; outcome: AttemptOutcome }[],
    now: Date,
  ): Promise<Set<string>> {
    if (!attempts.length) return new Set();
    const codec = this.db.codec(NotificationDeliveryEntity);
    const at = codec.param('updatedAt', now);
    const rows = attempts.map(({ delivery, outcome }) => ({
      id: delivery.id,
      status: outcome.status,
      attempts: delivery.attempts + 1,
      nextAttemptAt: codec.param('nextAttemptAt', outcome.nextAttemptAt),
      log: codec.param('log', [...delivery.log, outcome.attempt].slice(-LOG_KEPT)),
      // A redelivered message that fails keeps the time it was first delivered.
      deliveredAt: codec.param('deliveredAt', outcome.status === 'delivered' ? now : delivery.deliveredAt),
    }));
    const params =
      this.db.dialect === 'postgres'
        ? [
            at,
            rows.map((r) => r.id),
            rows.map((r) => r.status),
            rows.map((r) => r.attempts),
            rows.map((r) => r.nextAttemptAt),
            rows.map((r) => r.log),
            rows.map((r) => r.deliveredAt),
            workerId,
          ]
        : [
            at,
            JSON.stringify(
              rows.map((r) => ({
                id: r.id,
                status: r.status,
                attempts: r.attempts,
                next_attempt_at: r.nextAttemptAt,
                log: r.log,
                delivered_at: r.deliveredAt,
              })),
            ),
            workerId,
          ];
    const { rows: recorded } = await this.db.exec<{ id: string }>(RECORD_ATTEMPTS, params);
    return new Set(recorded.map((r) => r.id));
  }

  /** Gives back every pending message `workerId` still holds (its shutdown), due as they were. */
  async releaseAll(workerId: string, now: Date): Promise<void> {
    await this.db.write((em) =>
      em
        .getRepository(NotificationDeliveryEntity)
        .update({ claimedBy: workerId, status: 'pending' }, { claimedBy: null, claimExpiresAt: null, updatedAt: now }),
    );
  }

  /** Gives a claimed message back without an attempt (shutdown, or a failure on this side). */
  async release(delivery: NotificationDeliveryEntity, workerId: string, nextAttemptAt: Date, now: Date) {
    await this.db.write((em) =>
      em
        .getRepository(NotificationDeliveryEntity)
        .update(
          { id: delivery.id, claimedBy: workerId },
          { claimedBy: null, claimExpiresAt: null, nextAttemptAt, updatedAt: now },
        ),
    );
  }

  /** What sending a workflow's messages needs of it now: its owner and egress allowlist. */
  async sendingContext(workflowId: string): Promise<SendingContext | null> {
    const workflow = await this.db.manager
      .getRepository(WorkflowEntity)
      .findOne({ select: { id: true, name: true, userId: true, egressAllowlist: true }, where: { id: workflowId } });
    return workflow
      ? { name: workflow.name, ownerId: workflow.userId, egressAllowlist: workflow.egressAllowlist }
      : null;
  }

  /** Deletes delivered and failed messages last changed before `before`, in chunks; returns how many. */
  async pruneBefore(before: Date): Promise<number> {
    const at = this.db.codec(NotificationDeliveryEntity).param('updatedAt', before);
    let total = 0;
    for (;;) {
      const { changes } = await this.db.exec(PRUNE_DELIVERIES, [at]);
      total += changes;
      if (changes < 1000) return total;
    }
  }

  /** Newest first. */
  async pageDeliveries(
    endpointId: string,
    page: number,
    perPage: number,
  ): Promise<{ deliveries: NotificationDeliveryEntity[]; total: number }> {
    const [deliveries, total] = await this.deliveries.findAndCount({
      where: { endpointId },
      order: { createdAt: 'DESC', id: 'DESC' },
      skip: (page - 1) * perPage,
      take: perPage,
    });
    return { deliveries, total };
  }

  findDelivery(endpointId: string, id: string): Promise<NotificationDeliveryEntity | null> {
    return this.deliveries.findOneBy({ endpointId, id });
  }

  /**
   * A manual redeliver: the message is due now again (pending), whatever it came to; one pending
   * already is left as it is. Returns the message as it now stands.
   */
  async redeliver(endpointId: string, id: string, now: Date): Promise<NotificationDeliveryEntity | null> {
    const due = {
      status: 'pending' as const,
      nextAttemptAt: now,
      claimedBy: null,
      claimExpiresAt: null,
      updatedAt: now,
    };
    await this.db.write(async (em) => {
      const deliveries = em.getRepository(NotificationDeliveryEntity);
      await deliveries.update({ endpointId, id, status: In(['delivered', 'failed']) }, due);
      // One waiting out its backoff is due now too; one being sent right now is left to that attempt.
      await deliveries.update({ endpointId, id, status: 'pending', claimExpiresAt: IsNull() }, due);
      await deliveries.update({ endpointId, id, status: 'pending', claimExpiresAt: LessThan(now) }, due);
    });
    return this.findDelivery(endpointId, id);
  }
}
