import { Module } from '@nestjs/common';
import { PlansModule } from '../plans/plans.module';
import { SecretsModule } from '../secrets/secrets.module';
import { WorkflowAccessModule } from '../workflows/workflow-access.module';
import { WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

@Module({
  imports: [PlansModule, SecretsModule, WorkflowAccessModule],
  controllers: [WebhooksController],
  providers: [WebhooksService],
})
export class WebhooksModule {}
