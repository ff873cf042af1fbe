import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from '../columns';
import { WorkflowEntity } from './workflow.entity';

/** An outbound call the egress policy or SSRF guard refused (docs/contract.md §7). */
@Entity('egress_block_events')
@Index('egress_block_events_workflow_created_idx', ['workflowId', 'createdAt'])
export class EgressBlockEntity {
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

  /** Not a foreign key: the record outlives run retention. */
  @Column('uuid', { name: 'run_id', nullable: true })
  runId: string | null;

  @Column('varchar', { name: 'node_id', length: 200, nullable: true })
  nodeId: string | null;

  @Column('text')
  url: string;

  @Column('varchar', { length: 300 })
  host: string;

  @Column('varchar', { length: 32 })
  rule: string;

  @Column('text')
  message: string;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;
}
