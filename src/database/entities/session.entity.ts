import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { CreatedAtColumn, JsonColumn, TimestampColumn } from '../columns';
import { UserEntity } from './user.entity';

/** Login-time claims kept with the session (docs/contract.md §1.1); `plan` drives plan context. */
export interface SessionClaims {
  plan: string;
}

@Entity('user_sessions')
export class SessionEntity {
  /** SHA-256 of the token the client holds: a database leak does not leak live sessions. */
  @PrimaryColumn('varchar', { name: 'token_hash', length: 64 })
  tokenHash: string;

  @Index('user_sessions_user_id_idx')
  @Column('uuid', { name: 'user_id' })
  userId: string;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: UserEntity;

  @JsonColumn()
  data: SessionClaims;

  @Index('user_sessions_expires_at_idx')
  @TimestampColumn({ name: 'expires_at' })
  expiresAt: Date;

  @CreatedAtColumn()
  createdAt: Date;
}
