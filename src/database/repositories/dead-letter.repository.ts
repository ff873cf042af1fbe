import { Injectable } from '@nestjs/common';
import { Db } from '../db.service';
import { DeadLetterEntity } from '../entities/dead-letter.entity';
import { RunEntity } from '../entities/run.entity';
import { sql } from '../sql';
import { NewRun, RunInserts } from './run.repository';

// Row filters for `Db.select`; dead letters are written by the queue's failing terminal writes (RunQueueRepository).
const PAGE_OF_WORKFLOW = 'workflow_id = ? ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?';
const BY_WORKFLOW_AND_ID = 'id = ? AND workflow_id = ?';
const CLEAR_FOR_WORKFLOW = sql('DELETE FROM workflow_dead_letters WHERE workflow_id = ?');
/** Deleting first decides a race between two requeues of one letter: only one deletes it, so one run is made. */
const DELETE_FOR_WORKFLOW = sql('DELETE FROM workflow_dead_letters WHERE id = ? AND workflow_id = ?');

/** Dead letters: runs a node failure or lost leases stopped (docs/contract.md §4.9), by workflow. */
@Injectable()
export class DeadLetterRepository {
  private readonly inserts: RunInserts;

  constructor(private readonly db: Db) {
    this.inserts = new RunInserts(db);
  }

  /** Newest first. */
  list(workflowId: string, page: number, perPage: number): Promise<DeadLetterEntity[]> {
    return this.db.select(DeadLetterEntity, PAGE_OF_WORKFLOW, [workflowId, perPage, (page - 1) * perPage]);
  }

  /** Deletes every dead letter of the workflow; returns how many. */
  async clear(workflowId: string): Promise<number> {
    return (await this.db.exec(CLEAR_FOR_WORKFLOW, [workflowId])).changes;
  }

  find(workflowId: string, id: string): Promise<DeadLetterEntity | null> {
    return this.db.selectOne(DeadLetterEntity, BY_WORKFLOW_AND_ID, [id, workflowId]);
  }

  /**
   * Requeue (docs/contract.md §2.13): a new queued run of `values.workflowId` from the dead letter,
   * which is deleted, atomically; null if that workflow has no such dead letter (any more).
   */
  requeue(deadLetterId: string, values: NewRun, now: Date): Promise<RunEntity | null> {
    return this.db.atomic(async (tx) => {
      const deleted = await tx.query(DELETE_FOR_WORKFLOW, [deadLetterId, values.workflowId]);
      if (!deleted.changes) return null;
      const run = await this.inserts.queued(tx, values, now);
      await this.inserts.events(tx, run, [{ triggeredBy: values.triggeredBy }], now);
      return run;
    });
  }
}
