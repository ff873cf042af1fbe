import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Db, deleteInChunks, PURGE_CHUNK } from '../db.service';
import { WebhookReplayEntity } from '../entities/webhook-replay.entity';
import { sql } from '../sql';

/** Records a signature once; RETURNING gives a row only when it was new (the run admission reads that). */
export const REMEMBER_SIGNATURE_SQL = `
  INSERT INTO webhook_replays (id, workflow_id, signature, created_at) VALUES (?, ?, ?, ?)
  ON CONFLICT (workflow_id, signature) DO NOTHING RETURNING 1 AS fresh`;

/** The parameters of REMEMBER_SIGNATURE_SQL. */
export function rememberSignatureParams(db: Db, workflowId: string, signature: string, now: Date): unknown[] {
  return [randomUUID(), workflowId, signature, db.codec(WebhookReplayEntity).param('createdAt', now)];
}

const REMEMBER = sql(REMEMBER_SIGNATURE_SQL);

@Injectable()
export class WebhookReplayRepository {
  constructor(private readonly db: Db) {}

  /**
   * Records a signature once: false when it was already used. One statement, no delete on the
   * request path: expired rows are pruned by retention (`pruneOlderThan`), which keeps a row for as
   * long as its signature can still pass the timestamp check.
   */
  async remember(workflowId: string, signature: string, now: Date): Promise<boolean> {
    const { rows } = await this.db.exec(REMEMBER, rememberSignatureParams(this.db, workflowId, signature, now));
    return rows.length === 1;
  }

  /** Drops rows older than `before`, for every workflow. */
  pruneOlderThan(before: Date, chunk = PURGE_CHUNK): Promise<number> {
    return deleteInChunks(this.db, WebhookReplayEntity, chunk, (qb) => qb.where('t.created_at < :before', { before }));
  }
}
