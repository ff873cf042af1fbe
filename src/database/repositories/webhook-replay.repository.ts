import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { LessThan } from 'typeorm';
import { Db, deleteInChunks, isUniqueViolation, PURGE_CHUNK } from '../db.service';
import { WebhookReplayEntity } from '../entities/webhook-replay.entity';

@Injectable()
export class WebhookReplayRepository {
  constructor(private readonly db: Db) {}

  /**
   * Records a signature once: false when it was already used within the window. Rows older than
   * the window are dropped first, so the table holds at most one window of traffic per workflow.
   */
  async remember(workflowId: string, signature: string, windowSec: number, now: Date): Promise<boolean> {
    return this.db.transaction(async (em) => {
      const repo = em.getRepository(WebhookReplayEntity);
      await repo.delete({ workflowId, createdAt: LessThan(new Date(now.getTime() - windowSec * 1000)) });
      try {
        await repo.insert({ id: randomUUID(), workflowId, signature, createdAt: now });
        return true;
      } catch (error) {
        if (isUniqueViolation(error)) return false;
        throw error;
      }
    });
  }

  /**
   * Drops rows older than `before` for every workflow: `remember` only cleans up the workflow it
   * records for, so a workflow that stopped receiving webhooks would keep its last window forever.
   */
  pruneOlderThan(before: Date, chunk = PURGE_CHUNK): Promise<number> {
    return deleteInChunks(this.db, WebhookReplayEntity, chunk, (qb) => qb.where('t.created_at < :before', { before }));
  }
}
