import { Column, Entity, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from '../columns';

/**
 * The workspace-plan run quota per period (docs/contract.md §8.6); incremented atomically by ticket.
 * Counted per paying account, not per workspace: one row per (account, period), the account being
 * the user who owns the workspace-plan workspaces (and personal workflows) whose runs it counts, so
 * creating or upgrading more workspaces brings no fresh allowance. The column keeps the reference's
 * name, `workspace_id`; it holds that user's id (user and workspace ids are both random UUIDs).
 */
@Entity('workspace_run_usage')
export class RunUsageEntity {
  @PrimaryColumn('uuid', { name: 'workspace_id' })
  accountId: string;

  @PrimaryColumn('varchar', { name: 'period_start', length: 32 })
  periodStart: string;

  @Column('int', { name: 'run_count', default: 0 })
  runCount: number;

  @Column('int', { name: 'overage_count', default: 0 })
  overageCount: number;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt: Date;
}
