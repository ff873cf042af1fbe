import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from '../columns';
import { UserEntity } from './user.entity';

/**
 * One secret of a user's store (reference §9.1 kept them inside users.settings; a row each makes
 * every write atomic). `ciphertext` is `enc:<base64(nonce ‖ AES-256-GCM ciphertext ‖ tag)>`,
 * authenticated together with its owner and name.
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

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt: Date;
}
