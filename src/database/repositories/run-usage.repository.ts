import { Injectable } from '@nestjs/common';
import { Db } from '../db.service';
import { RunUsageEntity } from '../entities/run-usage.entity';
import { sql } from '../sql';

const CONSUME = sql(`
  INSERT INTO workspace_run_usage (workspace_id, period_start, run_count, overage_count, updated_at)
  VALUES (?, ?, 1, CASE WHEN 1 > ? THEN 1 ELSE 0 END, ?)
  ON CONFLICT (workspace_id, period_start) DO UPDATE SET
    run_count = workspace_run_usage.run_count + 1,
    overage_count = workspace_run_usage.overage_count + CASE WHEN workspace_run_usage.run_count + 1 > ? THEN 1 ELSE 0 END,
    updated_at = ?
  WHERE ? OR workspace_run_usage.run_count < ?
  RETURNING run_count, overage_count`);

export interface QuotaTicket {
  /** The paying account: the owner of the workspace-plan workspace, or of the personal workflow. */
  accountId: string;
  periodStart: string;
  /** This ticket took a run beyond the limit (overage mode only). */
  overage: boolean;
}

/**
 * Workspace-plan run quota counters, one per paying account and period (docs/contract.md §8.6).
 * One atomic upsert per ticket: N concurrent starts against R remaining slots get exactly
 * min(N, R) tickets, and the first ticket of a period cannot race into a duplicate-key error.
 */
@Injectable()
export class RunUsageRepository {
  constructor(private readonly db: Db) {}

  /** A ticket, or null when the limit is reached (never null with `allowOverage`). */
  async consume(
    accountId: string,
    periodStart: string,
    limit: number,
    allowOverage: boolean,
    now: Date,
  ): Promise<QuotaTicket | null> {
    if (!allowOverage && limit < 1) return null;
    const codec = this.db.codec(RunUsageEntity);
    const time = codec.param('updatedAt', now);
    const flag = this.db.dialect === 'postgres' ? allowOverage : allowOverage ? 1 : 0;
    const { rows } = await this.db.exec<{ run_count: number | string }>(CONSUME, [
      accountId,
      periodStart,
      limit,
      time,
      limit,
      time,
      flag,
      limit,
    ]);
    if (!rows.length) return null;
    return { accountId, periodStart, overage: Number(rows[0].run_count) > limit };
  }

  /** Gives a ticket back (idempotent duplicate, failed insert); the row goes when it reaches zero. */
  async release(ticket: QuotaTicket, now: Date): Promise<void> {
    await this.db.transaction(async (em) => {
      const repo = em.getRepository(RunUsageEntity);
      const row = await repo.findOneBy({ accountId: ticket.accountId, periodStart: ticket.periodStart });
      if (!row) return;
      const runCount = Math.max(0, row.runCount - 1);
      const overageCount = ticket.overage ? Math.max(0, row.overageCount - 1) : row.overageCount;
      if (runCount === 0 && overageCount === 0) {
        await repo.delete({ accountId: ticket.accountId, periodStart: ticket.periodStart, runCount: row.runCount });
      } else {
        await repo.update(
          { accountId: ticket.accountId, periodStart: ticket.periodStart },
          {
            runCount: () => 'CASE WHEN run_count > 0 THEN run_count - 1 ELSE 0 END',
            overageCount: ticket.overage
              ? () => 'CASE WHEN overage_count > 0 THEN overage_count - 1 ELSE 0 END'
              : undefined,
            updatedAt: now,
          },
        );
      }
    });
  }

  find(accountId: string, periodStart: string): Promise<RunUsageEntity | null> {
    return this.db.manager.getRepository(RunUsageEntity).findOneBy({ accountId, periodStart });
  }
}
