import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from '../columns';

/**
 * A running process with the worker or scheduler role, kept by its own heartbeat. Rows unseen for
 * a while are pruned; `/readyz` and `runloom_workers_alive` read the recent ones.
 */
@Entity('workers')
@Index('workers_last_seen_idx', ['lastSeenAt'])
export class WorkerEntity {
  /** `host:pid:random`, unique per process start. */
  @PrimaryColumn('varchar', { length: 200 })
  id: string;

  @Column('varchar', { length: 255 })
  host: string;

  @Column('integer')
  pid: number;

  /** Comma-separated roles of the process, e.g. `worker` or `worker,scheduler`. */
  @Column('varchar', { length: 64 })
  roles: string;

  @TimestampColumn({ name: 'started_at' })
  startedAt: Date;

  @TimestampColumn({ name: 'last_seen_at' })
  lastSeenAt: Date;
}
