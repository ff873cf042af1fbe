import { Module } from '@nestjs/common';
import { WorkflowAccessModule } from '../workflows/workflow-access.module';
import { WorkflowEgressService } from './workflow-egress.service';

/**
 * A workflow's egress allowlist and block log over HTTP (docs/contract.md §2.12). The policy, the guard and the
 * recording of blocks are the lower EgressModule's; this is the feature that reads and configures them.
 */
@Module({
  imports: [WorkflowAccessModule],
  providers: [WorkflowEgressService],
  exports: [WorkflowEgressService],
})
export class WorkflowEgressModule {}
