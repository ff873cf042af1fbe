import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { JsonColumn, TimestampColumn } from '../columns';
import { WorkflowEntity } from './workflow.entity';

export interface DiffEntry {
  path: string;
  from: unknown;
  to: unknown;
}

/** The change log of a workflow (docs/contract.md §2.14): one row per update, actor = `user_id`. */
@Entity('workflow_logs')
@Index('workflow_logs_workflow_created_idx', ['workflowId', 'createdAt'])
export class WorkflowLogEntity {
  @PrimaryColumn('uuid')
  id: string;

  /** The actor. Not a foreign key: the history outlives the account that wrote it. */
  @Index('workflow_logs_user_id_idx')
  @Column('uuid', { name: 'user_id' })
  userId: string;

  @Column('uuid', { name: 'workflow_id' })
  workflowId: string;

  @ManyToOne(() => WorkflowEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'workflow_id' })
  workflow?: WorkflowEntity;

  @Column('uuid', { name: 'workspace_id', nullable: true })
  workspaceId: string | null;

  @JsonColumn()
  diffs: DiffEntry[];

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;
}
