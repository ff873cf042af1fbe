import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { JsonColumn, TimestampColumn } from '../columns';
import { NotificationEndpointEntity } from './notification-endpoint.entity';

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** One attempt to deliver, as the delivery log shows it. */
export interface DeliveryAttempt {
  at: string;
  /** The endpoint's HTTP status; null when no response came (network, timeout, egress refusal). */
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

/**
 * One message to one endpoint (docs/contract.md §2.18): a run's terminal state. Its id is the
 * Standard Webhooks `webhook-id` (`msg_<id>`), the same on every attempt, so receivers can drop
 * repeats. At most one per endpoint and run, so announcing a run twice queues it once.
 */
@Entity('workflow_notification_deliveries')
@Index('workflow_notification_deliveries_endpoint_run_key', ['endpointId', 'runId'], { unique: true })
@Index('workflow_notification_deliveries_due_idx', ['status', 'nextAttemptAt'])
@Index('workflow_notification_deliveries_endpoint_created_idx', ['endpointId', 'createdAt'])
export class NotificationDeliveryEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid', { name: 'endpoint_id' })
  endpointId: string;

  @ManyToOne(() => NotificationEndpointEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'endpoint_id' })
  endpoint?: NotificationEndpointEntity;

  @Column('uuid', { name: 'workflow_id' })
  workflowId: string;

  /** Not a foreign key: the log outlives run retention. */
  @Column('uuid', { name: 'run_id' })
  runId: string;

  /** `run.succeeded`, `run.failed` or `run.canceled`. */
  @Column('varchar', { length: 32 })
  event: string;

  /** The body sent, as JSON text, redacted when it was made: every attempt sends the same bytes. */
  @Column('text')
  payload: string;

  @Column('varchar', { length: 16 })
  status: DeliveryStatus;

  @Column('int', { default: 0 })
  attempts: number;

  @TimestampColumn({ name: 'next_attempt_at' })
  nextAttemptAt: Date;

  @Column('varchar', { name: 'claimed_by', length: 100, nullable: true })
  claimedBy: string | null;

  @TimestampColumn({ name: 'claim_expires_at', nullable: true })
  claimExpiresAt: Date | null;

  /** The last attempts, newest last (at most 20). */
  @JsonColumn()
  log: DeliveryAttempt[];

  @TimestampColumn({ name: 'delivered_at', nullable: true })
  deliveredAt: Date | null;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt: Date;
}
