import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from '../columns';
import { WorkflowEntity } from './workflow.entity';

/** Signatures already accepted for a workflow (replay protection); rows expire with the window. */
@Entity('webhook_replays')
@Index('webhook_replays_workflow_signature_key', ['workflowId', 'signature'], { unique: true })
@Index('webhook_replays_created_idx', ['createdAt'])
export class WebhookReplayEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid', { name: 'workflow_id' })
  workflowId: string;

  @ManyToOne(() => WorkflowEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'workflow_id' })
  workflow?: WorkflowEntity;

  @Column('varchar', { length: 128 })
  signature: string;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;
}
