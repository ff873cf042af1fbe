import { Module, OnModuleInit } from '@nestjs/common';
import { Retention } from '../common/retention';
import { AppConfig } from '../config/app-config';
import { NotificationRepository } from '../database/repositories/notification.repository';
import { EgressModule } from '../egress/egress.module';
import { SecretsModule } from '../secrets/secrets.module';
import { WorkflowAccessModule } from '../workflows/workflow-access.module';
import { NotificationDispatcher } from './notification-dispatcher';
import { NotificationsService } from './notifications.service';

/** Run notifications (docs/contract.md §2.18): the endpoints API's service, in every process. */
@Module({
  imports: [WorkflowAccessModule, SecretsModule],
  providers: [NotificationsService],
  exports: [NotificationsService],
})
export class NotificationsModule implements OnModuleInit {
  constructor(
    private readonly retention: Retention,
    private readonly notifications: NotificationRepository,
    private readonly config: AppConfig,
  ) {}

  /** The delivery log keeps delivered and failed messages as long as runs are kept (RUN_RETENTION_DAYS; 0 keeps them). */
  onModuleInit(): void {
    this.retention.register({
      name: 'notification_deliveries',
      prune: async (now) => {
        const days = this.config.runs.retentionDays;
        return days > 0 ? this.notifications.pruneBefore(new Date(now.getTime() - days * 86_400_000)) : 0;
      },
    });
  }
}

/** The worker role's part: the dispatcher that queues and sends the messages. */
@Module({
  imports: [NotificationsModule, EgressModule, SecretsModule],
  providers: [NotificationDispatcher],
  exports: [NotificationDispatcher],
})
export class NotificationDispatchModule {}
