import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config';
import { dataSourceOptions } from './data-source-options';
import { Db } from './db.service';
import { AccountRepository } from './repositories/account.repository';
import { ApiKeyRepository } from './repositories/api-key.repository';
import { DeadLetterRepository } from './repositories/dead-letter.repository';
import { EgressBlockRepository } from './repositories/egress-block.repository';
import { EmailTokenRepository } from './repositories/email-token.repository';
import { WorkspaceInvitationRepository } from './repositories/invitation.repository';
import { IssueRepository } from './repositories/issue.repository';
import { NodeRunRepository } from './repositories/node-run.repository';
import { NotificationRepository } from './repositories/notification.repository';
import { RunUsageRepository } from './repositories/run-usage.repository';
import { RunQueueRepository } from './repositories/run-queue.repository';
import { RunRepository } from './repositories/run.repository';
import { ScheduleRepository } from './repositories/schedule.repository';
import { SecretRepository } from './repositories/secret.repository';
import { SessionRepository } from './repositories/session.repository';
import { UserRepository } from './repositories/user.repository';
import { WebhookReplayRepository } from './repositories/webhook-replay.repository';
import { WorkflowLogRepository } from './repositories/workflow-log.repository';
import { WorkflowVersionRepository } from './repositories/workflow-version.repository';
import { WorkflowRepository } from './repositories/workflow.repository';
import { WorkerRepository } from './repositories/worker.repository';
import { WorkspaceRepository } from './repositories/workspace.repository';
import { SqliteCheckpointer } from './sqlite-checkpointer';

const REPOSITORIES = [
  Db,
  UserRepository,
  SessionRepository,
  ApiKeyRepository,
  AccountRepository,
  EmailTokenRepository,
  WorkspaceRepository,
  WorkspaceInvitationRepository,
  WorkflowRepository,
  WorkflowLogRepository,
  WorkflowVersionRepository,
  NotificationRepository,
  ScheduleRepository,
  SecretRepository,
  RunRepository,
  RunQueueRepository,
  NodeRunRepository,
  DeadLetterRepository,
  RunUsageRepository,
  WebhookReplayRepository,
  EgressBlockRepository,
  IssueRepository,
  WorkerRepository,
];

/** The data source (migrations applied at start unless DB_MIGRATIONS_RUN=false) and every repository. */
@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig],
      // logging off: TypeORM's logger prints query parameters, which may hold secrets.
      useFactory: (config: AppConfig) => ({ ...dataSourceOptions(config.database), logging: false }),
    }),
  ],
  providers: [...REPOSITORIES, SqliteCheckpointer],
  exports: REPOSITORIES,
})
export class DatabaseModule {}
