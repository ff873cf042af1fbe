import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Db, deleteInChunks, PURGE_CHUNK } from '../db.service';
import { WebhookReplayEntity } from '../entities/webhook-replay.entity';
import { sql } from '../sql';

const REMEMBER = sql(`
  INSERT INTO webhook_replays (id, workflow_id, signature, created_at) VALUES (?, ?, ?, ?)
  ON CONFLICT (workflow_id, signature) DO NOTHING`);

@Injectable()
export class WebhookReplayRepository {
  constructor(private readonly db: Db) {}

  /**
   * Records a signature once: false when it was already used. One statement, no delete on the
   * request path: expired rows are pruned by retention (`pruneOlderThan`), which keeps a row for as
   * long as its signature can still pass the timestamp check.
   */
  async remember(workflowId: string, signature: string, now: Date): Promise<boolean> {
    const createdAt = this.db.codec(WebhookReplayEntity).param('createdAt', now);
    const { changes } = await this.db.exec(REMEMBER, [randomUUID(), workflowId, signature, createdAt]);
    return changes === 1;
  }

  /** Drops rows older than `before`, for every workflow. */
  pruneOlderThan(before: Date, chunk = PURGE_CHUNK): Promise<number> {
    return deleteInChunks(this.db, WebhookReplayEntity, chunk, (qb) => qb.where('t.created_at < :before', { before }));
  }
}
