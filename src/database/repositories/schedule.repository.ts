import { Injectable } from '@nestjs/common';
import { In } from 'typeorm';
import { Db } from '../db.service';
import { WorkflowScheduleEntity } from '../entities/workflow-schedule.entity';

/** How a firing ended, written with the schedule's next due time. */
export type FiringOutcome = { firedFor: Date } | { skipped: string };

@Injectable()
export class ScheduleRepository {
  constructor(private readonly db: Db) {}

  findForWorkflow(workflowId: string): Promise<WorkflowScheduleEntity | null> {
    return this.db.manager.getRepository(WorkflowScheduleEntity).findOneBy({ workflowId });
  }

  /**
   * Claims up to `limit` due schedules for `schedulerId` until `leaseUntil`, soonest first. On
   * PostgreSQL concurrent schedulers skip each other's rows (`SKIP LOCKED`); on SQLite the writer
   * lock serialises the transaction. A claim whose scheduler died lapses and is taken over.
   */
  claimDue(schedulerId: string, now: Date, leaseUntil: Date, limit: number): Promise<WorkflowScheduleEntity[]> {
    return this.db.transaction(async (em) => {
      const schedules = em.getRepository(WorkflowScheduleEntity);
      const query = schedules
        .createQueryBuilder('s')
        .select('s.id', 'id')
        .where('s.enabled')
        .andWhere('s.next_run_at <= :now', { now })
        .andWhere('(s.claim_expires_at IS NULL OR s.claim_expires_at < :now)', { now })
        .orderBy('s.next_run_at', 'ASC')
        .limit(limit);
      if (this.db.dialect === 'postgres')
        query.setLock('pessimistic_write', undefined, ['s']).setOnLocked('skip_locked');
      const ids = (await query.getRawMany<{ id: string }>()).map((row) => row.id);
      if (!ids.length) return [];
      await schedules.update({ id: In(ids) }, { claimedBy: schedulerId, claimExpiresAt: leaseUntil });
      return schedules.find({ where: { id: In(ids) }, order: { nextRunAt: 'ASC' } });
    });
  }

  /** The soonest due time of an enabled schedule, so the scheduler can wake for it. */
  async soonestDue(): Promise<Date | null> {
    const row = await this.db.manager
      .getRepository(WorkflowScheduleEntity)
      .createQueryBuilder('s')
      .select('MIN(s.next_run_at)', 'soonest')
      .where('s.enabled')
      .getRawOne<{ soonest: string | Date | null }>();
    if (!row?.soonest) return null;
    // Raw SQLite values are UTC text without a zone.
    return row.soonest instanceof Date ? row.soonest : new Date(`${row.soonest.replace(' ', 'T')}Z`);
  }

  /**
   * Records a firing (or a skipped due time), moves the schedule to `nextRunAt` (null disables a
   * finished one-shot) and releases the claim. Written only while the claim is ours and the
   * schedule unchanged since it was claimed: a save in between (new config, new next time) wins,
   * and the claim is simply released. Returns whether the schedule moved.
   */
  async finishFiring(
    claimed: WorkflowScheduleEntity,
    schedulerId: string,
    outcome: FiringOutcome,
    nextRunAt: Date | null,
    now: Date,
  ): Promise<boolean> {
    return this.db.write(async (em) => {
      const schedules = em.getRepository(WorkflowScheduleEntity);
      const result = await schedules
        .createQueryBuilder()
        .update()
        .set({
          nextRunAt,
          enabled: nextRunAt !== null,
          lastError: nextRunAt === null ? 'The schedule has no further runs' : null,
          ...('firedFor' in outcome
            ? { lastRunAt: outcome.firedFor }
            : { lastSkipReason: outcome.skipped, lastSkippedAt: now }),
          claimedBy: null,
          claimExpiresAt: null,
        })
        .where('id = :id AND claimed_by = :schedulerId AND updated_at = :updatedAt', {
          id: claimed.id,
          schedulerId,
          updatedAt: claimed.updatedAt,
        })
        .execute();
      if (result.affected) return true;
      await schedules.update({ id: claimed.id, claimedBy: schedulerId }, { claimedBy: null, claimExpiresAt: null });
      return false;
    });
  }

  /** Turns a schedule off with the reason shown to the user (its workflow is gone, its config broken…). */
  async disable(claimed: WorkflowScheduleEntity, schedulerId: string, reason: string): Promise<void> {
    await this.db.write((em) =>
      em
        .getRepository(WorkflowScheduleEntity)
        .update(
          { id: claimed.id, claimedBy: schedulerId, updatedAt: claimed.updatedAt },
          { enabled: false, nextRunAt: null, lastError: reason, claimedBy: null, claimExpiresAt: null },
        ),
    );
  }

  /** Gives a claim back untouched (the firing failed for a reason worth retrying). */
  async release(claimed: WorkflowScheduleEntity, schedulerId: string): Promise<void> {
    await this.db.write((em) =>
      em
        .getRepository(WorkflowScheduleEntity)
        .update({ id: claimed.id, claimedBy: schedulerId }, { claimedBy: null, claimExpiresAt: null }),
    );
  }
}
