import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { CreatedAtColumn, JsonColumn, TimestampColumn, UpdatedAtColumn } from '../columns';

export type UserRole = 'user' | 'admin';

@Entity('users')
export class UserEntity {
  @PrimaryColumn('uuid')
  id: string;

  /** Stored lower-cased; the unique index is the source of truth for "email taken". */
  @Index('users_email_key', { unique: true })
  @Column('varchar', { length: 320 })
  email: string;

  @Column('varchar', { name: 'password_hash', length: 255 })
  passwordHash: string;

  @Column('varchar', { name: 'first_name', length: 100 })
  firstName: string;

  @Column('varchar', { name: 'last_name', length: 100 })
  lastName: string;

  @Column('varchar', { name: 'company_name', length: 200, nullable: true })
  companyName: string | null;

  @Column('varchar', { length: 20, default: 'user' })
  role: UserRole;

  /** Plan string as DSentr stores it; normalised by PlansService. */
  @Column('varchar', { length: 100, default: 'solo' })
  plan: string;

  @JsonColumn({ default: () => "'{}'" })
  settings: Record<string, unknown>;

  @Column('boolean', { name: 'is_verified', default: false })
  isVerified: boolean;

  @Column('varchar', { name: 'accepted_terms_version', length: 50, nullable: true })
  acceptedTermsVersion: string | null;

  @TimestampColumn({ name: 'onboarded_at', nullable: true })
  onboardedAt: Date | null;

  @CreatedAtColumn()
  createdAt: Date;

  @UpdatedAtColumn()
  updatedAt: Date;
}
