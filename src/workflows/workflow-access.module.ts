import { Module } from '@nestjs/common';
import { WorkflowAccess } from './workflow-access';
import { WorkflowSettings } from './workflow-settings';

/**
 * WorkflowAccess and WorkflowSettings on their own: every feature that acts on workflows imports
 * them, and nothing else of workflows.
 */
@Module({
  providers: [WorkflowAccess, WorkflowSettings],
  exports: [WorkflowAccess, WorkflowSettings],
})
export class WorkflowAccessModule {}
