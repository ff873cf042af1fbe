import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { JsonColumn, TimestampColumn } from '../columns';
import { RunEntity } from './run.entity';

export type NodeRunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'canceled';

/** One row per node per run (upserted); succeeded rows are the executor's checkpoints. */
@Entity('workflow_node_runs')
@Index('workflow_node_runs_run_node_key', ['runId', 'nodeId'], { unique: true })
export class NodeRunEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid', { name: 'run_id' })
  runId: string;

  @ManyToOne(() => RunEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'run_id' })
  run?: RunEntity;

  @Column('varchar', { name: 'node_id', length: 200 })
  nodeId: string;

  @Column('varchar', { length: 300 })
  name: string;

  @Column('varchar', { name: 'node_type', length: 100 })
  nodeType: string;

  /** The node's `data` as saved (secret references, never hydrated values). */
  @JsonColumn({ nullable: true })
  inputs: unknown;

  @JsonColumn({ nullable: true })
  outputs: unknown;

  @Column('varchar', { length: 16 })
  status: NodeRunStatus;

  /** Execution order within the run: fast nodes start within the same millisecond. */
  @Column('int', { default: 0 })
  sequence: number;

  @Column('text', { nullable: true })
  error: string | null;

  @TimestampColumn({ name: 'started_at' })
  startedAt: Date;

  @TimestampColumn({ name: 'finished_at', nullable: true })
  finishedAt: Date | null;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt: Date;
}
