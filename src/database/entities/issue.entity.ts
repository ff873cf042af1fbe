import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from '../columns';
import { UserEntity } from './user.entity';
import { WorkspaceEntity } from './workspace.entity';

/** `open` when reported, `waiting_admin` after the user writes, `waiting_user` after an operator answers. */
export const ISSUE_STATUSES = ['open', 'waiting_admin', 'waiting_user'] as const;
export type IssueStatus = (typeof ISSUE_STATUSES)[number];

/**
 * A support thread (the client's "Report issue" and Message Center). It belongs to the user who
 * reported it; the user's and workspace's plan and role are a snapshot of when it was reported,
 * for the operator who answers. The messages are in `issue_messages`.
 */
@Entity('issues')
@Index('issues_user_updated_idx', ['userId', 'updatedAt'])
@Index('issues_status_updated_idx', ['status', 'updatedAt'])
export class IssueEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid', { name: 'user_id' })
  userId: string;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: UserEntity;

  /** The workspace the user reported from (a member of it then); null for none. */
  @Index('issues_workspace_id_idx')
  @Column('uuid', { name: 'workspace_id', nullable: true })
  workspaceId: string | null;

  @ManyToOne(() => WorkspaceEntity, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'workspace_id' })
  workspace?: WorkspaceEntity | null;

  @Column('varchar', { name: 'user_email', length: 320 })
  userEmail: string;

  @Column('varchar', { name: 'user_name', length: 320 })
  userName: string;

  @Column('varchar', { name: 'user_plan', length: 100, nullable: true })
  userPlan: string | null;

  @Column('varchar', { name: 'user_role', length: 20, nullable: true })
  userRole: string | null;

  @Column('varchar', { name: 'workspace_plan', length: 100, nullable: true })
  workspacePlan: string | null;

  @Column('varchar', { name: 'workspace_role', length: 20, nullable: true })
  workspaceRole: string | null;

  @Column('text')
  description: string;

  @Column('simple-enum', { enum: ISSUE_STATUSES, default: 'open' })
  status: IssueStatus;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  /** Moves with every message: the Message Center lists threads by it. */
  @TimestampColumn({ name: 'updated_at' })
  updatedAt: Date;
}
