import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager, In, LessThan, MoreThanOrEqual } from 'typeorm';
import { asRow, Db, deleteInChunks, isUniqueViolation, PURGE_CHUNK } from '../db.service';
import { DeadLetterEntity } from '../entities/dead-letter.entity';
import { NodeRunEntity, NodeRunStatus } from '../entities/node-run.entity';
import { RunEventEntity } from '../entities/run-event.entity';
import { ACTIVE_RUN_STATUSES, RunEntity, RunStatus } from '../entities/run.entity';
import { WorkflowEntity } from '../entities/workflow.entity';

export type NewRun = Pick<
  RunEntity,
  'userId' | 'workflowId' | 'workspaceId' | 'snapshot' | 'idempotencyKey' | 'triggeredBy' | 'queuePriority'
> & {
  resumeAt?: Date;
};

export interface RunPage {
  runs: RunEntity[];
}

/** The run row is the queue (DESIGN §4). Every state change here is conditional on the current state. */
@Injectable()
export class RunRepository {
  constructor(private readonly db: Db) {}

  private get runs() {
    return this.db.manager.getRepository(RunEntity);
  }

  /**
   * Inserts a queued run. With an idempotency key that is already used in the scope, returns the
   * most recent run for it instead (`duplicate: true`), as reference §4.8 does.
   */
  async insert(
    values: NewRun,
    now: Date,
    events: { triggeredBy: string }[] = [],
  ): Promise<{ run: RunEntity; duplicate: boolean }> {
    try {
      const run = await this.db.transaction(async (em) => {
        const row = await this.insertQueued(em, values, now);
        await this.insertEvents(em, row, events, now);
        return row;
      });
      return { run, duplicate: false };
    } catch (error) {
      if (!values.idempotencyKey || !isUniqueViolation(error)) throw error;
      const existing = await this.runs.findOne({
        where: {
          idempotencyScope: values.workspaceId ?? values.userId,
          workflowId: values.workflowId,
          idempotencyKey: values.idempotencyKey,
        },
        order: { createdAt: 'DESC' },
      });
      if (!existing) throw error;
      return { run: existing, duplicate: true };
    }
  }

  private async insertQueued(em: EntityManager, values: NewRun, now: Date): Promise<RunEntity> {
    const row = em.getRepository(RunEntity).create({
      ...values,
      id: randomUUID(),
      idempotencyScope: values.workspaceId ?? values.userId,
      status: 'queued',
      error: null,
      leasedBy: null,
      leaseExpiresAt: null,
      heartbeatAt: null,
      attempt: 0,
      startedAt: now,
      resumeAt: values.resumeAt ?? now,
      firstClaimedAt: null,
      finishedAt: null,
      createdAt: now,
      updatedAt: now,
    });
    await em.getRepository(RunEntity).insert(asRow<RunEntity>(row));
    return row;
  }

  async setPriority(runId: string, priority: number): Promise<void> {
    await this.db.write((em) => em.getRepository(RunEntity).update({ id: runId }, { queuePriority: priority }));
  }

  findById(runId: string): Promise<RunEntity | null> {
    return this.runs.findOneBy({ id: runId });
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

  countCreatedSince(filter: { workspaceId?: string; userId?: string }, since: Date): Promise<number> {
    return this.runs.countBy({ ...filter, createdAt: MoreThanOrEqual(since) });
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

  /** Cancels every active run of the workflow; returns their ids. */
  cancelAllActive(workflowId: string, now: Date): Promise<string[]> {
    return this.db.transaction(async (em) => {
      const repo = em.getRepository(RunEntity);
      const active = await repo.find({ select: { id: true }, where: { workflowId, status: In(ACTIVE_RUN_STATUSES) } });
      const ids = active.map((r) => r.id);
      if (ids.length) {
        await repo.update(
          { id: In(ids), status: In(ACTIVE_RUN_STATUSES) },
          { status: 'canceled', finishedAt: now, leasedBy: null, leaseExpiresAt: null, updatedAt: now },
        );
      }
      return ids;
    });
  }

  // --- the queue ------------------------------------------------------------------------------

  /**
   * Claims the next due run whose workflow is below its concurrency limit, highest priority then
   * oldest first. PostgreSQL: `FOR UPDATE SKIP LOCKED` on candidates plus a per-workflow advisory
   * lock while the running count is re-checked, so concurrent workers never exceed the limit.
   * SQLite: one writer at a time (Db), so the same checks run serialised.
   */
  async claimNext(workerId: string, leaseMs: number, now: Date): Promise<RunEntity | null> {
    const leaseUntil = new Date(now.getTime() + leaseMs);
    const claimedId = await this.db.transaction(async (em) => {
      const query = em
        .getRepository(RunEntity)
        .createQueryBuilder('r')
        .select(['r.id AS id', 'r.workflow_id AS workflow_id'])
        .innerJoin(WorkflowEntity, 'w', 'w.id = r.workflow_id')
        // Running runs counted once per workflow, not once per queued row (which made a claim
        // cost O(queued) subqueries: 21 runs/s on PostgreSQL with a thousand queued, bench/run.ts).
        .leftJoin(
          (running) =>
            running
              .select('x.workflow_id', 'workflow_id')
              .addSelect('COUNT(*)', 'n')
              .from(RunEntity, 'x')
              .where("x.status = 'running'")
              .groupBy('x.workflow_id'),
          'running',
          'running.workflow_id = r.workflow_id',
        )
        .where("r.status = 'queued'")
        .andWhere('r.resume_at <= :now', { now })
        // A cheap pre-filter; the count is checked again below under the workflow's lock.
        .andWhere('COALESCE(running.n, 0) < w.concurrency_limit')
        .orderBy('r.queue_priority', 'DESC')
        .addOrderBy('r.created_at', 'ASC')
        .limit(20);
      // SQLite has no row locks; the Db writer lock already serialises this transaction.
      if (this.db.dialect === 'postgres')
        query.setLock('pessimistic_write', undefined, ['r']).setOnLocked('skip_locked');
      const candidates: { id: string; workflow_id: string }[] = await query.getRawMany();
      const tried = new Set<string>();
      for (const candidate of candidates) {
        if (tried.has(candidate.workflow_id)) continue;
        tried.add(candidate.workflow_id);
        if (this.db.dialect === 'postgres') {
          await em.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 4242))', [candidate.workflow_id]);
        }
        const running = await em
          .getRepository(RunEntity)
          .countBy({ workflowId: candidate.workflow_id, status: 'running' });
        const workflow = await em
          .getRepository(WorkflowEntity)
          .findOne({ select: { concurrencyLimit: true }, where: { id: candidate.workflow_id } });
        if (!workflow || running >= workflow.concurrencyLimit) continue;
        const result = await em
          .getRepository(RunEntity)
          .createQueryBuilder()
          .update()
          .set({
            status: 'running',
            leasedBy: workerId,
            leaseExpiresAt: leaseUntil,
            heartbeatAt: now,
            attempt: () => 'attempt + 1',
            firstClaimedAt: () => 'COALESCE(first_claimed_at, :now)',
            updatedAt: now,
          })
          .where("id = :id AND status = 'queued'", { id: candidate.id })
          .setParameter('now', now)
          .execute();
        if (result.affected) return candidate.id;
      }
      return null;
    });
    return claimedId ? this.runs.findOneBy({ id: claimedId }) : null;
  }

  /** Extends the lease if the run is still running under this worker; false = canceled or lost. */
  async renewLease(runId: string, workerId: string, leaseMs: number, now: Date): Promise<boolean> {
    const result = await this.db.write((em) =>
      em.getRepository(RunEntity).update(
        { id: runId, leasedBy: workerId, status: 'running' },
        // updated_at is the run's visible version (stream event ids): a heartbeat is not a
        // change, so it keeps the value TypeORM would otherwise bump.
        { heartbeatAt: now, leaseExpiresAt: new Date(now.getTime() + leaseMs), updatedAt: () => '"updated_at"' },
      ),
    );
    return (result.affected ?? 0) > 0;
  }

  /** Puts runs whose lease expired (their worker died) back in the queue; returns their ids. */
  requeueExpired(now: Date): Promise<string[]> {
    return this.db.transaction(async (em) => {
      const repo = em.getRepository(RunEntity);
      const expired = await repo.find({
        select: { id: true },
        where: { status: 'running', leaseExpiresAt: LessThan(now) },
      });
      const ids = expired.map((r) => r.id);
      if (ids.length) {
        await repo
          .createQueryBuilder()
          .update()
          .set({ status: 'queued', leasedBy: null, leaseExpiresAt: null, resumeAt: now, updatedAt: now })
          .where("id IN (:...ids) AND status = 'running' AND lease_expires_at < :now", { ids, now })
          .execute();
      }
      return ids;
    });
  }

  /** The terminal write: only the lease holder of a running run; a canceled run stays canceled. */
  async finish(
    runId: string,
    workerId: string,
    status: 'succeeded' | 'failed' | 'canceled',
    error: string | null,
    now: Date,
  ): Promise<boolean> {
    const result = await this.db.write((em) =>
      em
        .getRepository(RunEntity)
        .update(
          { id: runId, leasedBy: workerId, status: 'running' },
          { status, error, finishedAt: now, leasedBy: null, leaseExpiresAt: null, updatedAt: now },
        ),
    );
    return (result.affected ?? 0) > 0;
  }

  /** Finishes a run with a dead letter in one transaction (reference §5.7). */
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
          userId: run.userId,
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
    const run = await this.runs.findOne({ select: { status: true }, where: { id: runId } });
    return run?.status ?? null;
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
    return this.db.manager
      .getRepository(NodeRunEntity)
      .find({ where: { runId }, order: { startedAt: 'ASC', createdAt: 'ASC' } });
  }

  /** Upserts the node run as `running`, keeping the first `started_at` (reference §5.2). */
  async startNode(
    runId: string,
    node: { nodeId: string; name: string; nodeType: string; inputs: unknown },
    now: Date,
  ): Promise<void> {
    // One upsert on (run_id, node_id): a retried node keeps its row, id and first started_at.
    await this.db.write((em) =>
      em
        .getRepository(NodeRunEntity)
        .createQueryBuilder()
        .insert()
        .values(
          asRow<NodeRunEntity>({
            ...node,
            id: randomUUID(),
            runId,
            outputs: null,
            status: 'running',
            error: null,
            startedAt: now,
            finishedAt: null,
            createdAt: now,
            updatedAt: now,
          }),
        )
        .orUpdate(
          ['name', 'node_type', 'inputs', 'outputs', 'status', 'error', 'finished_at', 'updated_at'],
          ['run_id', 'node_id'],
        )
        .execute(),
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
    await this.db.write((em) =>
      em
        .getRepository(NodeRunEntity)
        .update({ runId, nodeId }, asRow<NodeRunEntity>({ status, outputs, error, finishedAt: now, updatedAt: now })),
    );
  }

  // --- run events and dead letters ------------------------------------------------------------

  async recordEvents(
    run: RunEntity,
    events: { triggeredBy: string; connectionType?: string | null }[],
    now: Date,
  ): Promise<void> {
    await this.db.transaction((em) => this.insertEvents(em, run, events, now));
  }

  private async insertEvents(
    em: EntityManager,
    run: RunEntity,
    events: { triggeredBy: string; connectionType?: string | null }[],
    now: Date,
  ) {
    if (!events.length) return;
    await em.getRepository(RunEventEntity).insert(
      events.map((e) => ({
        id: randomUUID(),
        runId: run.id,
        workflowId: run.workflowId,
        workspaceId: run.workspaceId,
        triggeredBy: e.triggeredBy,
        connectionType: e.connectionType ?? null,
        connectionId: null,
        recordedAt: now,
      })),
    );
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

  /** Requeue (reference §2.13): a new queued run from the dead letter, which is deleted; atomic. */
  requeueDeadLetter(deadLetterId: string, values: NewRun, now: Date): Promise<RunEntity | null> {
    return this.db.transaction(async (em) => {
      const deleted = await em.getRepository(DeadLetterEntity).delete({ id: deadLetterId });
      if (!deleted.affected) return null;
      const row = await this.insertQueued(em, values, now);
      await this.insertEvents(em, row, [{ triggeredBy: values.triggeredBy }], now);
      return row;
    });
  }
}
