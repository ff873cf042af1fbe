import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { JsonColumn, TimestampColumn } from '../columns';
import { UserEntity } from './user.entity';
import { WorkspaceEntity } from './workspace.entity';

/** What a start does when its concurrency group is full (docs/contract.md §2.19). */
export const CONCURRENCY_ON_LIMIT = ['queue', 'reject', 'cancel_oldest'] as const;
export type ConcurrencyOnLimit = (typeof CONCURRENCY_ON_LIMIT)[number];

@Entity('workflows')
// Names are unique per scope, case-insensitively (docs/contract.md §2.2): scope = workspace, else owner.
@Index('workflows_scope_name_key', ['scopeId', 'nameKey'], { unique: true })
export class WorkflowEntity {
  @PrimaryColumn('uuid')
  id: string;

  /** The workflow's owner: its creator until a workspace admin reassigns it. Runs use their credentials. */
  @Index('workflows_user_id_idx')
  @Column('uuid', { name: 'user_id' })
  userId: string;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: UserEntity;

  @Index('workflows_workspace_id_idx')
  @Column('uuid', { name: 'workspace_id', nullable: true })
  workspaceId: string | null;

  @ManyToOne(() => WorkspaceEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'workspace_id' })
  workspace?: WorkspaceEntity;

  /** `workspace_id ?? user_id`, kept by the application so the unique index stays portable. */
  @Column('uuid', { name: 'scope_id' })
  scopeId: string;

  @Column('varchar', { length: 200 })
  name: string;

  /** `lower(trim(name))`. */
  @Column('varchar', { name: 'name_key', length: 200 })
  nameKey: string;

  @Column('text', { nullable: true })
  description: string | null;

  /** The graph: `{nodes:[…], edges:[…]}` plus UI data. Secret values are stored as references. */
  @JsonColumn()
  data: Record<string, unknown>;

  /** The number of its newest version (docs/contract.md §2.17): moves with every save of the graph. */
  @Column('int', { default: 1 })
  version: number;

  @Column('int', { name: 'concurrency_limit', default: 1 })
  concurrencyLimit: number;

  /**
   * A template over the trigger payload (`{{Hook.customer_id}}`) that groups runs: at most
   * `concurrencyKeyLimit` runs of one group run at once (docs/contract.md §2.19). Null: no groups.
   */
  @Column('varchar', { name: 'concurrency_key', length: 500, nullable: true })
  concurrencyKey: string | null;

  /** Runs of one key group at once; set together with `concurrencyKey`. */
  @Column('int', { name: 'concurrency_key_limit', nullable: true })
  concurrencyKeyLimit: number | null;

  /** What a start does when its group (or, without a key, the workflow) is at its limit. */
  @Column('varchar', { name: 'concurrency_on_limit', length: 16, default: 'queue' })
  concurrencyOnLimit: ConcurrencyOnLimit;

  /** Most runs waiting to start; a start past it is refused (429 `queue_full`). Null: no bound. */
  @Column('int', { name: 'max_queued', nullable: true })
  maxQueued: number | null;

  /** A run still waiting to start this many seconds after it was queued ends `expired`. Null: never. */
  @Column('int', { name: 'queued_ttl_sec', nullable: true })
  queuedTtlSec: number | null;

  @JsonColumn({ name: 'egress_allowlist' })
  egressAllowlist: string[];

  @Column('boolean', { name: 'require_hmac', default: false })
  requireHmac: boolean;

  @Column('int', { name: 'hmac_replay_window_sec', default: 300 })
  hmacReplayWindowSec: number;

  /** Input of the webhook token derivation; never serialised. */
  @Column('uuid', { name: 'webhook_salt' })
  webhookSalt: string;

  @Column('uuid', { name: 'locked_by', nullable: true })
  lockedBy: string | null;

  @TimestampColumn({ name: 'locked_at', nullable: true })
  lockedAt: Date | null;

  /** Set by the application (millisecond precision) so the value the client echoes compares equal. */
  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  /** The optimistic-concurrency token (docs/contract.md §2.5); set by the application on every change. */
  @TimestampColumn({ name: 'updated_at' })
  updatedAt: Date;
}
