import { Injectable } from '@nestjs/common';
import { MoreThanOrEqual } from 'typeorm';
import { Db } from '../db.service';
import { WorkflowLogEntity } from '../entities/workflow-log.entity';

@Injectable()
export class WorkflowLogRepository {
  constructor(private readonly db: Db) {}

  /** Newest first, from every actor; `since` limits the window (Solo sees 24 h). */
  listForWorkflow(workflowId: string, limit: number, since?: Date): Promise<WorkflowLogEntity[]> {
    return this.db.manager.getRepository(WorkflowLogEntity).find({
      where: { workflowId, ...(since ? { createdAt: MoreThanOrEqual(since) } : {}) },
      order: { createdAt: 'DESC', id: 'DESC' },
      take: limit,
    });
  }

  /** Deletes one entry written by `userId`; false when there is none. */
  async deleteOwn(workflowId: string, logId: string, userId: string): Promise<boolean> {
    const result = await this.db.write((em) =>
      em.getRepository(WorkflowLogEntity).delete({ id: logId, workflowId, userId }),
    );
    return (result.affected ?? 0) > 0;
  }

  async deleteAllOwn(workflowId: string, userId: string): Promise<number> {
    const result = await this.db.write((em) => em.getRepository(WorkflowLogEntity).delete({ workflowId, userId }));
    return result.affected ?? 0;
  }
}
