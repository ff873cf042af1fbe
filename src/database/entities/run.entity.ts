import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { JsonColumn, TimestampColumn } from '../columns';
import { WorkflowEntity } from './workflow.entity';

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'canceled', 'expired'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const ACTIVE_RUN_STATUSES: RunStatus[] = ['queued', 'running'];
export const TERMINAL_RUN_STATUSES: RunStatus[] = RUN_STATUSES.filter((s) => !ACTIVE_RUN_STATUSES.includes(s));

/**
 * A run, and its place in the queue (docs/contract.md §4.3): `queued` rows with `resume_at <= now` are claimed
 * by workers under a lease (`leased_by`, `lease_expires_at`), renewed by heartbeats.
 */
@Entity('workflow_runs')
@Index('workflow_runs_workflow_created_idx', ['workflowId', 'createdAt'])
@Index('workflow_runs_workflow_status_idx', ['workflowId', 'status', 'createdAt'])
@Index('workflow_runs_queue_idx', ['status', 'resumeAt'])
// Claims walk the queue per tenant and, within one, per priority oldest first (the index order):
// the cost of a claim does not grow with a tenant's backlog.
@Index('workflow_runs_tenant_queue_idx', ['status', 'idempotencyScope', 'queuePriority', 'createdAt'])
// Running runs of one concurrency group, counted at claim and at admission.
@Index('workflow_runs_concurrency_key_idx', ['workflowId', 'concurrencyKey', 'status'])
// The sweep that ends runs queued past their `queued_ttl_sec`.
@Index('workflow_runs_queue_expiry_idx', ['status', 'queueExpiresAt'])
@Index('workflow_runs_workspace_created_idx', ['workspaceId', 'createdAt'])
@Index('workflow_runs_user_created_idx', ['ownerId', 'createdAt'])
// docs/contract.md §4.8: a key is unique per (workspace or owner, workflow).
@Index('workflow_runs_idempotency_key', ['idempotencyScope', 'workflowId', 'idempotencyKey'], {
  unique: true,
  where: 'idempotency_key IS NOT NULL',
})
export class RunEntity {
  @PrimaryColumn('uuid')
  id: string;

  /** Always the workflow owner, whoever started the run (docs/contract.md §4.1); the column keeps its old name. */
  @Column('uuid', { name: 'user_id' })
  ownerId: string;

  @Column('uuid', { name: 'workflow_id' })
  workflowId: string;

  @ManyToOne(() => WorkflowEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'workflow_id' })
  workflow?: WorkflowEntity;

  @Column('uuid', { name: 'workspace_id', nullable: true })
  workspaceId: string | null;

  /** The graph plus control keys (`_trigger_context`, `_start_from_node`…). Secrets stay references. */
  @JsonColumn()
  snapshot: Record<string, unknown>;

  /** The workflow version whose graph the snapshot holds; null for runs from before versions. */
  @Column('int', { name: 'workflow_version', nullable: true })
  workflowVersion: number | null;

  @Column('varchar', { length: 16, default: 'queued' })
  status: RunStatus;

  @Column('text', { nullable: true })
  error: string | null;

  @Column('varchar', { name: 'idempotency_key', length: 255, nullable: true })
  idempotencyKey: string | null;

  /** `workspace_id ?? user_id`: the tenant, for the idempotency index and fair claims. */
  @Column('uuid', { name: 'idempotency_scope' })
  idempotencyScope: string;

  /** Who or what started it: `user:<id>`, `webhook`, `schedule:<id>`, `dead_letter:<id>`, `rerun:<id>`. */
  @Column('varchar', { name: 'triggered_by', length: 100 })
  triggeredBy: string;

  /**
   * The id of the HTTP request that started it (`x-request-id`, see src/common/http/logging.ts), so the
   * worker's log lines for it can be matched to that request; null for schedules. Not exposed.
   */
  @Column('varchar', { name: 'request_id', length: 64, nullable: true })
  requestId: string | null;

  /**
   * The W3C `traceparent` of the span that started the run (the request's, when traces are on), so
   * the worker's spans for it join that trace; null when nothing was traced. Not exposed.
   */
  @Column('varchar', { name: 'trace_parent', length: 55, nullable: true })
  traceParent: string | null;

  /**
   * The run's concurrency group: the workflow's `concurrency_key` template rendered over the
   * trigger payload when it was queued (longer than 255 characters, or holding a credential: `hmac:` and its keyed hash). Null
   * when the workflow had no key.
   */
  @Column('varchar', { name: 'concurrency_key', length: 255, nullable: true })
  concurrencyKey: string | null;

  /** Ends `expired` if still waiting to start at this instant (`queued_ttl_sec`); cleared when claimed. */
  @TimestampColumn({ name: 'queue_expires_at', nullable: true })
  queueExpiresAt: Date | null;

  @Column('int', { name: 'queue_priority', default: 0 })
  queuePriority: number;

  @Column('varchar', { name: 'leased_by', length: 100, nullable: true })
  leasedBy: string | null;

  @TimestampColumn({ name: 'lease_expires_at', nullable: true })
  leaseExpiresAt: Date | null;

  @TimestampColumn({ name: 'heartbeat_at', nullable: true })
  heartbeatAt: Date | null;

  /** Claims so far (not exposed). */
  @Column('int', { default: 0 })
  attempt: number;

  /**
   * Executions that ended in a crash or a lost lease; claims after a delay or a hand-back at
   * shutdown do not count. At RUN_MAX_ATTEMPTS the run fails instead of going back to the queue.
   */
  @Column('int', { name: 'lost_attempts', default: 0 })
  lostAttempts: number;

  /** Insert time, as the reference exposes it. */
  @TimestampColumn({ name: 'started_at' })
  startedAt: Date;

  /** Not claimable before this instant (delays, requeues). */
  @TimestampColumn({ name: 'resume_at' })
  resumeAt: Date;

  /** When a worker first picked the run up: queue→start latency is `first_claimed_at - created_at`. */
  @TimestampColumn({ name: 'first_claimed_at', nullable: true })
  firstClaimedAt: Date | null;

  @TimestampColumn({ name: 'finished_at', nullable: true })
  finishedAt: Date | null;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt: Date;
}
