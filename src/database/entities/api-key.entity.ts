import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { CreatedAtColumn, TimestampColumn } from '../columns';
import { UserEntity } from './user.entity';

@Entity('api_keys')
export class ApiKeyEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Index('api_keys_user_id_idx')
  @Column('uuid', { name: 'user_id' })
  userId: string;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: UserEntity;

  @Column('varchar', { length: 100 })
  name: string;

  /** First characters of the key, shown in listings so users can tell keys apart. */
  @Column('varchar', { length: 16 })
  prefix: string;

  /** SHA-256 of the whole key; keys carry 256 bits of entropy, so a slow KDF adds nothing. */
  @Index('api_keys_key_hash_key', { unique: true })
  @Column('varchar', { name: 'key_hash', length: 64 })
  keyHash: string;

  @TimestampColumn({ name: 'expires_at', nullable: true })
  expiresAt: Date | null;

  @TimestampColumn({ name: 'last_used_at', nullable: true })
  lastUsedAt: Date | null;

  @TimestampColumn({ name: 'revoked_at', nullable: true })
  revokedAt: Date | null;

  @CreatedAtColumn()
  createdAt: Date;
}
