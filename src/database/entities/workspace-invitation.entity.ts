import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from '../columns';
import { UserEntity } from './user.entity';
import { WORKSPACE_ROLES } from './workspace-member.entity';
import type { WorkspaceRole } from './workspace-member.entity';
import { WorkspaceEntity } from './workspace.entity';

export const INVITATION_STATUSES = ['pending', 'accepted', 'declined', 'revoked'] as const;
export type InvitationStatus = (typeof INVITATION_STATUSES)[number];

/**
 * An invitation to join a workspace (nobody becomes a member without consent). It holds a seat
 * while `pending` and unexpired; "expired" is not a status, it follows from `expires_at`. Each
 * transition out of `pending` happens once and stamps its own time.
 */
@Entity('workspace_invitations')
@Index('workspace_invitations_workspace_status_idx', ['workspaceId', 'status'])
@Index('workspace_invitations_email_status_idx', ['email', 'status'])
export class WorkspaceInvitationEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid', { name: 'workspace_id' })
  workspaceId: string;

  @ManyToOne(() => WorkspaceEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'workspace_id' })
  workspace?: WorkspaceEntity;

  /** Trimmed and lower-cased, as user e-mails are stored: matching is exact. */
  @Column('varchar', { length: 320 })
  email: string;

  /** Never `owner`: ownership is transferred to a member, not handed out by invitation. */
  @Column('simple-enum', { enum: WORKSPACE_ROLES })
  role: Exclude<WorkspaceRole, 'owner'>;

  /** SHA-256 of the link token: the table alone does not give out usable links. */
  @Index('workspace_invitations_token_hash_key', { unique: true })
  @Column('varchar', { name: 'token_hash', length: 64 })
  tokenHash: string;

  @Column('simple-enum', { enum: INVITATION_STATUSES, default: 'pending' })
  status: InvitationStatus;

  /** The member who invited (`created_by` on the wire). */
  @Index('workspace_invitations_created_by_idx')
  @Column('uuid', { name: 'created_by' })
  createdBy: string;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'created_by' })
  creator?: UserEntity;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  @TimestampColumn({ name: 'expires_at' })
  expiresAt: Date;

  @TimestampColumn({ name: 'accepted_at', nullable: true })
  acceptedAt: Date | null;

  @TimestampColumn({ name: 'declined_at', nullable: true })
  declinedAt: Date | null;

  @TimestampColumn({ name: 'revoked_at', nullable: true })
  revokedAt: Date | null;
}
