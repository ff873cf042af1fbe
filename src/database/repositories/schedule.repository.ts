import { Injectable } from '@nestjs/common';
import { Db } from '../db.service';
import { WorkflowScheduleEntity } from '../entities/workflow-schedule.entity';

@Injectable()
export class ScheduleRepository {
  constructor(private readonly db: Db) {}

  findForWorkflow(workflowId: string): Promise<WorkflowScheduleEntity | null> {
    return this.db.manager.getRepository(WorkflowScheduleEntity).findOneBy({ workflowId });
  }
}
