import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { CreatedAtColumn, TimestampColumn } from '../columns';
import { UserEntity } from './user.entity';

/**
 * What an e-mailed link proves: control of the address (verification), the right to set a new
 * password, or the wish to delete the account (confirmed again with the password).
 */
export type EmailTokenPurpose = 'verify_email' | 'reset_password' | 'delete_account';

/**
 * Single-use tokens of e-mailed links. Only the SHA-256 of a token is stored, so the table alone
 * gives out no usable link; `used_at` is set once, by the request that uses it.
 */
@Entity('email_tokens')
@Index('email_tokens_user_id_purpose_idx', ['userId', 'purpose'])
export class EmailTokenEntity {
  @PrimaryColumn('varchar', { name: 'token_hash', length: 64 })
  tokenHash: string;

  @Column('uuid', { name: 'user_id' })
  userId: string;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: UserEntity;

  @Column('varchar', { length: 20 })
  purpose: EmailTokenPurpose;

  @Index('email_tokens_expires_at_idx')
  @TimestampColumn({ name: 'expires_at' })
  expiresAt: Date;

  @TimestampColumn({ name: 'used_at', nullable: true })
  usedAt: Date | null;

  @CreatedAtColumn()
  createdAt: Date;
}
