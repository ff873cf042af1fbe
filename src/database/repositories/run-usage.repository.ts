import { Injectable } from '@nestjs/common';
import { Db } from '../db.service';
import { RunUsageEntity } from '../entities/run-usage.entity';

/** The counter's upsert after its row source: taken while below the limit, or always with overage allowed. */
const TAKE_ON_CONFLICT = `
  ON CONFLICT (workspace_id, period_start) DO UPDATE SET
    run_count = workspace_run_usage.run_count + 1,
    overage_count = workspace_run_usage.overage_count + CASE WHEN workspace_run_usage.run_count + 1 > ? THEN 1 ELSE 0 END,
    updated_at = ?
  WHERE ? OR workspace_run_usage.run_count < ?
  RETURNING run_count`;

/** What a start asks of its paying account's counter; the ticket is taken with the run's insert. */
export interface TicketRequest {
  /** The paying account: the owner of the workspace-plan workspace, or of the personal workflow. */
  accountId: string;
  periodStart: string;
  limit: number;
  allowOverage: boolean;
}

/**
 * One ticket, as an upsert whose row comes from `SELECT … WHERE condition` (the run admission's
 * single statement, where the condition is that the signature was new) or from plain values.
 * N concurrent starts against R remaining slots get exactly min(N, R) tickets, and the first
 * ticket of a period cannot race into a duplicate-key error. A refusal returns no row. The limit
 * only guards the update: the period's first ticket is always granted, which WORKSPACE_MONTHLY_RUN_LIMIT
 * (at least 1) allows.
 */
export function takeTicketSql(condition?: string): string {
  const row = '?, ?, 1, CASE WHEN 1 > ? THEN 1 ELSE 0 END, ?';
  const source = condition ? `SELECT ${row} WHERE ${condition}` : `VALUES (${row})`;
  return `INSERT INTO workspace_run_usage (workspace_id, period_start, run_count, overage_count, updated_at)
    ${source} ${TAKE_ON_CONFLICT}`;
}

/** The parameters of `takeTicketSql`, in placeholder order. */
export function takeTicketParams(db: Db, request: TicketRequest, now: Date): unknown[] {
  const time = db.codec(RunUsageEntity).param('updatedAt', now);
  const { accountId, periodStart, limit, allowOverage } = request;
  const flag = db.dialect === 'postgres' ? allowOverage : allowOverage ? 1 : 0;
  return [accountId, periodStart, limit, time, limit, time, flag, limit];
}

/**
 * Workspace-plan run quota counters, one per paying account and period (docs/contract.md §8.6).
 * Tickets are taken by the run's insert (RunRepository.insertAdmitted), so a refused or
 * failed start never holds one and none has to be given back.
 */
@Injectable()
export class RunUsageRepository {
  constructor(private readonly db: Db) {}

  find(accountId: string, periodStart: string): Promise<RunUsageEntity | null> {
    return this.db.manager.getRepository(RunUsageEntity).findOneBy({ accountId, periodStart });
  }
}
