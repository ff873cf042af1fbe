import { Injectable } from '@nestjs/common';
import { LessThan, MoreThanOrEqual, Like } from 'typeorm';
import { Db } from '../db.service';
import { WorkerEntity } from '../entities/worker.entity';

/** A process counts as alive while its last heartbeat is younger than this many heartbeat intervals. */
export const ALIVE_HEARTBEATS = 5;
/** Rows unseen for this long are deleted by the next heartbeat of any process. */
export const WORKER_PRUNE_AFTER_MS = 10 * 60_000;

/** Oldest heartbeat of a live process, for a heartbeat cadence of `heartbeatMs`. */
export function aliveSince(now: Date, heartbeatMs: number): Date {
  return new Date(now.getTime() - ALIVE_HEARTBEATS * heartbeatMs);
}

@Injectable()
export class WorkerRepository {
  constructor(private readonly db: Db) {}

  /** Records (or refreshes) this process's heartbeat and prunes rows nobody has refreshed for long. */
  async beat(worker: Omit<WorkerEntity, 'lastSeenAt'>, now: Date): Promise<void> {
    await this.db.write(async (em) => {
      const repo = em.getRepository(WorkerEntity);
      await repo.upsert({ ...worker, lastSeenAt: now }, ['id']);
      await repo.delete({ lastSeenAt: LessThan(new Date(now.getTime() - WORKER_PRUNE_AFTER_MS)) });
    });
  }

  async remove(id: string): Promise<void> {
    await this.db.write((em) => em.getRepository(WorkerEntity).delete({ id }));
  }

  /** Processes with the worker role whose last heartbeat is at or after `since`. */
  countAlive(since: Date): Promise<number> {
    return this.db.manager
      .getRepository(WorkerEntity)
      .count({ where: { roles: Like('%worker%'), lastSeenAt: MoreThanOrEqual(since) } });
  }
}
