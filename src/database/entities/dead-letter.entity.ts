import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { JsonColumn, TimestampColumn } from '../columns';
import { RunEntity } from './run.entity';
import { WorkflowEntity } from './workflow.entity';

/** A run that a node failure stopped (docs/contract.md §4.9); requeue makes a new run from its snapshot. */
@Entity('workflow_dead_letters')
@Index('workflow_dead_letters_workflow_created_idx', ['workflowId', 'createdAt'])
export class DeadLetterEntity {
  @PrimaryColumn('uuid')
  id: string;

  /** The workflow owner. */
  @Column('uuid', { name: 'user_id' })
  userId: string;

  @Column('uuid', { name: 'workflow_id' })
  workflowId: string;

  @ManyToOne(() => WorkflowEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'workflow_id' })
  workflow?: WorkflowEntity;

  @Column('uuid', { name: 'run_id' })
  runId: string;

  @ManyToOne(() => RunEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'run_id' })
  run?: RunEntity;

  @Column('text')
  error: string;

  /** The run's snapshot (secret references, not values). */
  @JsonColumn()
  snapshot: Record<string, unknown>;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;
}
