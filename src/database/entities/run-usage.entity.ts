import { Column, Entity, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from '../columns';

/** Workspace run quota per period (reference §8.6); incremented atomically by ticket. */
@Entity('workspace_run_usage')
export class RunUsageEntity {
  @PrimaryColumn('uuid', { name: 'workspace_id' })
  workspaceId: string;

  @PrimaryColumn('varchar', { name: 'period_start', length: 32 })
  periodStart: string;

  @Column('int', { name: 'run_count', default: 0 })
  runCount: number;

  @Column('int', { name: 'overage_count', default: 0 })
  overageCount: number;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt: Date;
}
