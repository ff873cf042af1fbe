import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { CreatedAtColumn, TimestampColumn, UpdatedAtColumn } from '../columns';

@Entity('workspaces')
export class WorkspaceEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column('varchar', { length: 200 })
  name: string;

  @Column('uuid', { name: 'created_by' })
  createdBy: string;

  @Index('workspaces_owner_id_idx')
  @Column('uuid', { name: 'owner_id' })
  ownerId: string;

  /** `solo` | `workspace` in practice; normalised by PlansService. */
  @Column('varchar', { length: 100, default: 'workspace' })
  plan: string;

  @CreatedAtColumn()
  createdAt: Date;

  @UpdatedAtColumn()
  updatedAt: Date;

  @TimestampColumn({ name: 'deleted_at', nullable: true })
  deletedAt: Date | null;
}
