import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Db, deleteInChunks, PURGE_CHUNK } from '../db.service';
import { EgressBlockEntity } from '../entities/egress-block.entity';

export type NewEgressBlock = Omit<EgressBlockEntity, 'id' | 'createdAt' | 'workflow'>;

@Injectable()
export class EgressBlockRepository {
  constructor(private readonly db: Db) {}

  async record(block: NewEgressBlock, now: Date): Promise<void> {
    await this.db.write((em) =>
      em.getRepository(EgressBlockEntity).insert({ ...block, id: randomUUID(), createdAt: now }),
    );
  }

  list(workflowId: string, page: number, perPage: number): Promise<EgressBlockEntity[]> {
    return this.db.manager.getRepository(EgressBlockEntity).find({
      where: { workflowId },
      order: { createdAt: 'DESC', id: 'DESC' },
      skip: (page - 1) * perPage,
      take: perPage,
    });
  }

  /** Retention: block records older than `before` go, a chunk at a time. */
  pruneOlderThan(before: Date, chunk = PURGE_CHUNK): Promise<number> {
    return deleteInChunks(this.db, EgressBlockEntity, chunk, (qb) => qb.where('t.created_at < :before', { before }));
  }

  async clear(workflowId: string): Promise<number> {
    const result = await this.db.write((em) => em.getRepository(EgressBlockEntity).delete({ workflowId }));
    return result.affected ?? 0;
  }
}
