import { Module } from '@nestjs/common';
import { WorkflowAccess } from './workflow-access';

/** WorkflowAccess on its own: every feature that acts on workflows imports it, and nothing else. */
@Module({
  providers: [WorkflowAccess],
  exports: [WorkflowAccess],
})
export class WorkflowAccessModule {}
