import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { JsonColumn, TimestampColumn } from '../columns';
import { WorkflowEntity } from './workflow.entity';

export const NOTIFIED_STATUSES = ['succeeded', 'failed', 'canceled', 'expired'] as const;
export type NotifiedStatus = (typeof NOTIFIED_STATUSES)[number];

/**
 * Where a workflow's finished runs are announced (docs/contract.md §2.18), signed as Standard
 * Webhooks with the endpoint's secret. Secrets are stored encrypted, never shown after creation.
 */
@Entity('workflow_notification_endpoints')
export class NotificationEndpointEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Index('workflow_notification_endpoints_workflow_idx')
  @Column('uuid', { name: 'workflow_id' })
  workflowId: string;

  @ManyToOne(() => WorkflowEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'workflow_id' })
  workflow?: WorkflowEntity;

  @Column('varchar', { length: 2048 })
  url: string;

  /** The run statuses announced. */
  @JsonColumn()
  statuses: NotifiedStatus[];

  /** `whsec_…`, encrypted (AES-256-GCM, bound to the endpoint id). */
  @Column('text')
  secret: string;

  /** The secret before the last rotation, still signing until `previousSecretExpiresAt`; encrypted. */
  @Column('text', { name: 'previous_secret', nullable: true })
  previousSecret: string | null;

  @TimestampColumn({ name: 'previous_secret_expires_at', nullable: true })
  previousSecretExpiresAt: Date | null;

  @Column('uuid', { name: 'created_by' })
  createdBy: string;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt: Date;
}
