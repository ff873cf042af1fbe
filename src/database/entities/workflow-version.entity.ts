import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { JsonColumn, TimestampColumn } from '../columns';
import { WorkflowEntity } from './workflow.entity';

/**
 * An immutable copy of a workflow as one save left it (docs/contract.md §2.17): numbered from 1 per
 * workflow, in save order. The graph is stored as the workflow stores it (secret values as references).
 */
@Entity('workflow_versions')
export class WorkflowVersionEntity {
  @PrimaryColumn('uuid', { name: 'workflow_id' })
  workflowId: string;

  @ManyToOne(() => WorkflowEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'workflow_id' })
  workflow?: WorkflowEntity;

  @PrimaryColumn('int')
  number: number;

  @Column('varchar', { length: 200 })
  name: string;

  @Column('text', { nullable: true })
  description: string | null;

  @JsonColumn()
  data: Record<string, unknown>;

  /** Who saved it; null for the versions recorded when versions were introduced. Not a foreign key: history outlives accounts. */
  @Column('uuid', { name: 'created_by', nullable: true })
  createdBy: string | null;

  /** What changed, in words (given by the saver, or made from the diff). */
  @Column('varchar', { length: 500 })
  summary: string;

  /** The version a restore copied. */
  @Column('int', { name: 'restored_from', nullable: true })
  restoredFrom: number | null;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;
}
