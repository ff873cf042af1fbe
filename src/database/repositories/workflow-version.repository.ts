import { Injectable } from '@nestjs/common';
import { EntityManager, LessThanOrEqual } from 'typeorm';
import { asRow, Db } from '../db.service';
import { WorkflowVersionEntity } from '../entities/workflow-version.entity';
import { WorkflowEntity } from '../entities/workflow.entity';

/** A version as lists show it: everything but the graph. */
export type WorkflowVersionSummary = Omit<WorkflowVersionEntity, 'data' | 'workflow'>;

/** What a save records as its version (written by WorkflowRepository in the save's transaction). */
export interface NewVersion {
  /** Who saved it; null for a change the system made (an account's deletion handing a workflow over). */
  createdBy: string | null;
  summary: string;
  restoredFrom?: number;
  /** How many versions the workflow keeps (its plan's retention): older ones are deleted. */
  keep: number;
}

/** Workflow versions (docs/contract.md §2.17): immutable once written, pruned oldest first by plan. */
@Injectable()
export class WorkflowVersionRepository {
  constructor(private readonly db: Db) {}

  /** Newest first, without graphs. */
  async page(
    workflowId: string,
    page: number,
    perPage: number,
  ): Promise<{ versions: WorkflowVersionSummary[]; total: number }> {
    const [versions, total] = await this.db.manager.getRepository(WorkflowVersionEntity).findAndCount({
      select: {
        workflowId: true,
        number: true,
        name: true,
        description: true,
        createdBy: true,
        summary: true,
        restoredFrom: true,
        createdAt: true,
      },
      where: { workflowId },
      order: { number: 'DESC' },
      skip: (page - 1) * perPage,
      take: perPage,
    });
    return { versions, total };
  }

  find(workflowId: string, number: number): Promise<WorkflowVersionEntity | null> {
    return this.db.manager.getRepository(WorkflowVersionEntity).findOneBy({ workflowId, number });
  }

  /** In the save's transaction: the workflow as just written becomes its version `workflow.version`. */
  static async record(em: EntityManager, workflow: WorkflowEntity, version: NewVersion, now: Date): Promise<void> {
    const versions = em.getRepository(WorkflowVersionEntity);
    await versions.insert(
      asRow<WorkflowVersionEntity>({
        workflowId: workflow.id,
        number: workflow.version,
        name: workflow.name,
        description: workflow.description,
        data: workflow.data,
        createdBy: version.createdBy,
        summary: version.summary,
        restoredFrom: version.restoredFrom ?? null,
        createdAt: now,
      }),
    );
    const oldestKept = workflow.version - Math.max(1, version.keep) + 1;
    if (oldestKept > 1) await versions.delete({ workflowId: workflow.id, number: LessThanOrEqual(oldestKept - 1) });
  }
}
