import { Module } from '@nestjs/common';
import { WorkflowAccess } from './workflow-access';

/**
 * WorkflowAccess on its own, without controllers: every feature that acts on workflows imports
 * it, and importing it registers no routes (route order follows module order).
 */
@Module({
  providers: [WorkflowAccess],
  exports: [WorkflowAccess],
})
export class WorkflowAccessModule {}
