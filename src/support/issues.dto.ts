import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUUID } from 'class-validator';
import { toRfc3339 } from '../common/clock';
import { OPEN_OBJECT } from '../common/http/openapi';
import { IssueMessageEntity, ISSUE_SENDERS } from '../database/entities/issue-message.entity';
import type { IssueSender } from '../database/entities/issue-message.entity';
import { IssueEntity, ISSUE_STATUSES } from '../database/entities/issue.entity';
import type { IssueStatus } from '../database/entities/issue.entity';

/** `POST /api/issues`, as the client's "Report issue" dialog sends it. */
export class CreateIssueDto {
  @ApiProperty({ example: 'The Slack node fails with "channel_not_found".', description: 'At most 4000 bytes.' })
  @IsString()
  description: string;

  @ApiPropertyOptional({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'The workspace the report is about; the caller must be a member of it.',
  })
  @IsOptional()
  @IsUUID('all', { message: 'workspace_id must be a UUID' })
  workspace_id?: string | null;
}

/** `POST /api/issues/:id/reply` and the operators' reply. */
export class IssueReplyDto {
  @ApiProperty({ example: 'It works again, thank you!', description: 'At most 4000 bytes.' })
  @IsString()
  message: string;
}

export class AdminIssuesQuery {
  @ApiPropertyOptional({ enum: ISSUE_STATUSES, description: 'Only issues in this status.' })
  @IsOptional()
  @IsIn(ISSUE_STATUSES, { message: `status must be one of ${ISSUE_STATUSES.join(', ')}` })
  status?: IssueStatus;
}

export class IssueThreadSummary {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: ISSUE_STATUSES }) status: IssueStatus;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) workspace_id: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'Acme Ops' }) workspace_name: string | null;
  @ApiProperty({ format: 'date-time' }) updated_at: string;
  @ApiProperty({ description: "Operators' messages the user has not opened yet." }) unread_admin_messages: number;
  @ApiProperty({ type: String, nullable: true }) last_message_body: string | null;
  @ApiProperty({ type: String, enum: ISSUE_SENDERS, nullable: true }) last_message_sender: IssueSender | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) last_message_at: string | null;
}

/** `GET /api/issues`: the client's own shape, without a `success` key. */
export class IssueListResponse {
  @ApiProperty({ type: [IssueThreadSummary], description: 'Most recently active first (at most 200).' })
  issues: IssueThreadSummary[];
  @ApiProperty({ description: 'Sum over the threads: the badge on the Messages button.' })
  unread_admin_messages: number;
}

export class IssueResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) user_id: string;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) workspace_id: string | null;
  @ApiProperty() user_email: string;
  @ApiProperty() user_name: string;
  @ApiProperty({ type: String, nullable: true, description: 'At the time of the report.' }) user_plan: string | null;
  @ApiProperty({ type: String, nullable: true }) user_role: string | null;
  @ApiProperty({ type: String, nullable: true }) workspace_plan: string | null;
  @ApiProperty({ type: String, nullable: true }) workspace_role: string | null;
  @ApiProperty() description: string;
  @ApiProperty({ ...OPEN_OBJECT, example: {}, description: 'Always empty: no address or browser details are kept.' })
  metadata: Record<string, never>;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ enum: ISSUE_STATUSES }) status: IssueStatus;
  @ApiProperty({ format: 'date-time' }) updated_at: string;
}

export class IssueMessageResponse {
  @ApiProperty({ format: 'uuid', description: 'The nil UUID for the stand-in of a thread without messages.' })
  id: string;
  @ApiProperty({ format: 'uuid' }) issue_id: string;
  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    description: "The writer; operators' accounts are not shown to users (null).",
  })
  sender_id: string | null;
  @ApiProperty({ enum: ISSUE_SENDERS }) sender_type: IssueSender;
  @ApiProperty() body: string;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) read_by_user_at: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) read_by_admin_at: string | null;
}

/** `GET /api/issues/:id` and the answer to a reply: the client's own shape, without `success`. */
export class IssueDetailResponse {
  @ApiProperty({ type: IssueResponse }) issue: IssueResponse;
  @ApiProperty({ type: String, nullable: true }) workspace_name: string | null;
  @ApiProperty({ type: [IssueMessageResponse], description: 'Oldest first.' }) messages: IssueMessageResponse[];
  @ApiProperty() unread_admin_messages: number;
}

export class IssueReadResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ example: 0 }) unread_admin_messages: number;
}

/** The full DSentr success envelope, which the client's report dialog reads. */
export class IssueSubmittedResponse {
  @ApiProperty({ example: 'success' }) status: 'success';
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ example: 'Issue report submitted' }) message: string;
  @ApiProperty({ type: String, nullable: true, example: null }) code: null;
  @ApiProperty({ format: 'uuid' }) issue_id: string;
}

export class AdminIssueSummary {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: ISSUE_STATUSES }) status: IssueStatus;
  @ApiProperty({ format: 'uuid' }) user_id: string;
  @ApiProperty() user_email: string;
  @ApiProperty() user_name: string;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) workspace_id: string | null;
  @ApiProperty({ type: String, nullable: true }) workspace_name: string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time' }) updated_at: string;
  @ApiProperty({ description: "The user's messages no operator has answered or opened yet." })
  unread_user_messages: number;
  @ApiProperty({ type: String, nullable: true }) last_message_body: string | null;
  @ApiProperty({ type: String, enum: ISSUE_SENDERS, nullable: true }) last_message_sender: IssueSender | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) last_message_at: string | null;
}

export class AdminIssueListResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: [AdminIssueSummary], description: 'Most recently active first (at most 200).' })
  issues: AdminIssueSummary[];
}

export class AdminIssueDetailResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: IssueResponse }) issue: IssueResponse;
  @ApiProperty({ type: String, nullable: true }) workspace_name: string | null;
  @ApiProperty({ type: [IssueMessageResponse], description: 'Oldest first.' }) messages: IssueMessageResponse[];
  @ApiProperty() unread_user_messages: number;
}

export function toIssueResponse(issue: IssueEntity): IssueResponse {
  return {
    id: issue.id,
    user_id: issue.userId,
    workspace_id: issue.workspaceId,
    user_email: issue.userEmail,
    user_name: issue.userName,
    user_plan: issue.userPlan,
    user_role: issue.userRole,
    workspace_plan: issue.workspacePlan,
    workspace_role: issue.workspaceRole,
    description: issue.description,
    metadata: {},
    created_at: toRfc3339(issue.createdAt)!,
    status: issue.status,
    updated_at: toRfc3339(issue.updatedAt)!,
  };
}

/** `forAdmin`: operators see who wrote each message; users see their own id only. */
export function toIssueMessageResponse(message: IssueMessageEntity, forAdmin: boolean): IssueMessageResponse {
  return {
    id: message.id,
    issue_id: message.issueId,
    sender_id: forAdmin || message.senderType === 'user' ? message.senderId : null,
    sender_type: message.senderType,
    body: message.body,
    created_at: toRfc3339(message.createdAt)!,
    read_by_user_at: toRfc3339(message.readByUserAt),
    read_by_admin_at: toRfc3339(message.readByAdminAt),
  };
}
