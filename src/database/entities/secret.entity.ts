import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from '../columns';
import { UserEntity } from './user.entity';
import { WorkspaceEntity } from './workspace.entity';

/**
 * One secret of a user's store (the original server kept them inside users.settings; a row each makes
 * every write atomic). `ciphertext` is `enc:<base64(nonce ‖ AES-256-GCM ciphertext ‖ tag)>`,
 * authenticated together with its owner and name. A secret is its owner's (personal) unless the
 * owner shares it with one workspace (`workspace_id`): then that workspace's workflows may use it.
 */
@Entity('user_secrets')
export class SecretEntity {
  @PrimaryColumn('uuid', { name: 'user_id' })
  userId: string;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: UserEntity;

  @PrimaryColumn('varchar', { name: 'group_key', length: 100 })
  group: string;

  @PrimaryColumn('varchar', { name: 'service_key', length: 100 })
  service: string;

  @PrimaryColumn('varchar', { length: 200 })
  name: string;

  @Column('text')
  ciphertext: string;

  /** The workspace the owner shares this secret with; null: personal. */
  @Index('user_secrets_workspace_id_idx')
  @Column('uuid', { name: 'workspace_id', nullable: true })
  workspaceId: string | null;

  // A deleted workspace leaves the secret with its owner, personal again.
  @ManyToOne(() => WorkspaceEntity, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'workspace_id' })
  workspace?: WorkspaceEntity;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt: Date;
}
