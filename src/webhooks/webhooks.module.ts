import { Module, OnModuleInit } from '@nestjs/common';
import { Retention } from '../common/retention';
import { WebhookReplayRepository } from '../database/repositories/webhook-replay.repository';
import { PlansModule } from '../plans/plans.module';
import { RunsModule } from '../runs/runs.module';
import { SecretsModule } from '../secrets/secrets.module';
import { WorkflowAccessModule } from '../workflows/workflow-access.module';
import { WebhooksService } from './webhooks.service';

/**
 * How long a replay row matters: a signature is accepted while its timestamp is within the window
 * (at most 3,600 s) of now, in either direction, so one recorded at t can come back until t + 2 h.
 */
const REPLAY_ROW_LIFETIME_MS = 2 * 3_600_000;

@Module({
  imports: [PlansModule, RunsModule, SecretsModule, WorkflowAccessModule],
  providers: [WebhooksService],
  exports: [WebhooksService],
})
export class WebhooksModule implements OnModuleInit {
  constructor(
    private readonly retention: Retention,
    private readonly replays: WebhookReplayRepository,
  ) {}

  onModuleInit(): void {
    this.retention.register({
      name: 'webhook_replays',
      prune: (now) => this.replays.pruneOlderThan(new Date(now.getTime() - REPLAY_ROW_LIFETIME_MS)),
    });
  }
}
