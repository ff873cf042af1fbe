import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from '../columns';
import { RunEntity } from './run.entity';

/** Audit of who or what started or blocked a run (docs/contract.md §4.1 `workflow_run_events`). */
@Entity('workflow_run_events')
export class RunEventEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Index('workflow_run_events_run_idx')
  @Column('uuid', { name: 'workflow_run_id' })
  runId: string;

  @ManyToOne(() => RunEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'workflow_run_id' })
  run?: RunEntity;

  @Column('uuid', { name: 'workflow_id' })
  workflowId: string;

  @Column('uuid', { name: 'workspace_id', nullable: true })
  workspaceId: string | null;

  @Column('varchar', { name: 'triggered_by', length: 100 })
  triggeredBy: string;

  @Column('varchar', { name: 'connection_type', length: 64, nullable: true })
  connectionType: string | null;

  @Column('uuid', { name: 'connection_id', nullable: true })
  connectionId: string | null;

  @TimestampColumn({ name: 'recorded_at' })
  recordedAt: Date;
}
