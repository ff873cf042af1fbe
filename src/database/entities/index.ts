import { ApiKeyEntity } from './api-key.entity';
import { DeadLetterEntity } from './dead-letter.entity';
import { EgressBlockEntity } from './egress-block.entity';
import { EmailTokenEntity } from './email-token.entity';
import { IssueMessageEntity } from './issue-message.entity';
import { IssueEntity } from './issue.entity';
import { NodeRunEntity } from './node-run.entity';
import { NotificationDeliveryEntity } from './notification-delivery.entity';
import { NotificationEndpointEntity } from './notification-endpoint.entity';
import { RunEventEntity } from './run-event.entity';
import { RunUsageEntity } from './run-usage.entity';
import { RunEntity } from './run.entity';
import { SecretEntity } from './secret.entity';
import { SessionEntity } from './session.entity';
import { UserEntity } from './user.entity';
import { WebhookReplayEntity } from './webhook-replay.entity';
import { WorkflowLogEntity } from './workflow-log.entity';
import { WorkflowScheduleEntity } from './workflow-schedule.entity';
import { WorkflowVersionEntity } from './workflow-version.entity';
import { WorkerEntity } from './worker.entity';
import { WorkflowEntity } from './workflow.entity';
import { WorkspaceInvitationEntity } from './workspace-invitation.entity';
import { WorkspaceMemberEntity } from './workspace-member.entity';
import { WorkspaceEntity } from './workspace.entity';

/** Every entity, registered once for the data source, the migration tooling and tests. */
export const ENTITIES = [
  UserEntity,
  SessionEntity,
  ApiKeyEntity,
  EmailTokenEntity,
  WorkspaceEntity,
  WorkspaceMemberEntity,
  WorkspaceInvitationEntity,
  WorkflowEntity,
  WorkflowLogEntity,
  WorkflowVersionEntity,
  NotificationEndpointEntity,
  NotificationDeliveryEntity,
  WorkflowScheduleEntity,
  SecretEntity,
  RunEntity,
  NodeRunEntity,
  DeadLetterEntity,
  RunEventEntity,
  RunUsageEntity,
  WebhookReplayEntity,
  EgressBlockEntity,
  IssueEntity,
  IssueMessageEntity,
  WorkerEntity,
];
