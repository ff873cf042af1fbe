import { Column, Entity, Index, JoinColumn, OneToOne, PrimaryColumn } from 'typeorm';
import { JsonColumn, TimestampColumn } from '../columns';
import { WorkflowEntity } from './workflow.entity';

/** One schedule per workflow (docs/contract.md §10.2), synced from its first schedule trigger on save. */
@Entity('workflow_schedules')
@Index('workflow_schedules_due_idx', ['enabled', 'nextRunAt'])
export class WorkflowScheduleEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Index('workflow_schedules_workflow_id_key', { unique: true })
  @Column('uuid', { name: 'workflow_id' })
  workflowId: string;

  @OneToOne(() => WorkflowEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'workflow_id' })
  workflow?: WorkflowEntity;

  /** The workflow owner: scheduled runs belong to them. */
  @Column('uuid', { name: 'user_id' })
  userId: string;

  @Column('uuid', { name: 'workspace_id', nullable: true })
  workspaceId: string | null;

  /** The trigger node the schedule came from (its start node when it fires). */
  @Column('varchar', { name: 'trigger_node_id', length: 200, nullable: true })
  triggerNodeId: string | null;

  @JsonColumn({ nullable: true })
  config: Record<string, unknown> | null;

  @TimestampColumn({ name: 'next_run_at', nullable: true })
  nextRunAt: Date | null;

  @TimestampColumn({ name: 'last_run_at', nullable: true })
  lastRunAt: Date | null;

  @Column('boolean', { default: true })
  enabled: boolean;

  /** Why the schedule is disabled (bad config, unknown time zone…), for the user. */
  @Column('text', { name: 'last_error', nullable: true })
  lastError: string | null;

  /** Why the last due time was skipped (quota, runaway protection, catch-up policy…). */
  @Column('text', { name: 'last_skip_reason', nullable: true })
  lastSkipReason: string | null;

  @TimestampColumn({ name: 'last_skipped_at', nullable: true })
  lastSkippedAt: Date | null;

  /** The scheduler process firing this schedule now; its claim lapses at `claim_expires_at`. */
  @Column('varchar', { name: 'claimed_by', length: 100, nullable: true })
  claimedBy: string | null;

  @TimestampColumn({ name: 'claim_expires_at', nullable: true })
  claimExpiresAt: Date | null;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt: Date;
}
