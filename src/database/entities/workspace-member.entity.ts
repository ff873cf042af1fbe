import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from '../columns';
import { UserEntity } from './user.entity';
import { WorkspaceEntity } from './workspace.entity';

export const WORKSPACE_ROLES = ['owner', 'admin', 'user', 'viewer'] as const;
export type WorkspaceRole = (typeof WORKSPACE_ROLES)[number];

@Entity('workspace_members')
// Exactly one owner per workspace, enforced by the database as well as by WorkspacesService.
@Index('workspace_members_one_owner_key', ['workspaceId'], { unique: true, where: "role = 'owner'" })
export class WorkspaceMemberEntity {
  @PrimaryColumn('uuid', { name: 'workspace_id' })
  workspaceId: string;

  @Index('workspace_members_user_id_idx')
  @PrimaryColumn('uuid', { name: 'user_id' })
  userId: string;

  @ManyToOne(() => WorkspaceEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'workspace_id' })
  workspace?: WorkspaceEntity;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: UserEntity;

  @Column('simple-enum', { enum: WORKSPACE_ROLES })
  role: WorkspaceRole;

  @TimestampColumn({ name: 'joined_at' })
  joinedAt: Date;
}
