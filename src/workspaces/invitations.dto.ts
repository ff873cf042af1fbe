import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsNumber, IsOptional, IsString } from 'class-validator';
import { MaxChars } from '../common/http/max-chars';
import { toRfc3339 } from '../common/clock';
import { INVITATION_STATUSES, WorkspaceInvitationEntity } from '../database/entities/workspace-invitation.entity';
import type { InvitationStatus } from '../database/entities/workspace-invitation.entity';
import type { WorkspaceRole } from '../database/entities/workspace-member.entity';

const INVITED_ROLES = ['admin', 'user', 'viewer'] as const;

/** `POST /api/workspaces/:id/invites`, as the web client's Members tab sends it. */
export class CreateInvitationDto {
  @ApiProperty({ example: 'grace@example.com', maxLength: 320 })
  @IsString()
  @MaxChars(320)
  email: string;

  @ApiProperty({
    enum: ['admin', 'user', 'viewer', 'owner'],
    description: '`owner` is refused: ownership is transferred to a member after they join.',
  })
  @IsIn(['admin', 'user', 'viewer', 'owner'], { message: 'role must be one of admin, user, viewer' })
  role: WorkspaceRole;

  @ApiPropertyOptional({
    example: 14,
    description: 'Days until the invitation expires, 1 to 60 (clamped); default WORKSPACE_INVITATION_TTL_DAYS.',
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  expires_in_days?: number;
}

/** `POST /api/invites/accept` and `/decline`: the token of the invitation link. */
export class InvitationTokenDto {
  @ApiProperty({ example: '0f8e4b2a9c1d4e5f8a7b6c5d4e3f2a1b', description: '32 hex characters' })
  @IsString()
  @MaxChars(200)
  token: string;
}

export class InvitationResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) workspace_id: string;
  @ApiProperty({ example: 'grace@example.com' }) email: string;
  @ApiProperty({ enum: INVITED_ROLES }) role: Exclude<WorkspaceRole, 'owner'>;
  @ApiPropertyOptional({
    example: '0f8e4b2a9c1d4e5f8a7b6c5d4e3f2a1b',
    description: 'The link token: given to the inviter when created, and to the invitee in their own list.',
  })
  token?: string;
  @ApiProperty({ enum: INVITATION_STATUSES, description: '"expired" is not a status: compare `expires_at`.' })
  status: InvitationStatus;
  @ApiProperty({ format: 'date-time' }) expires_at: string;
  @ApiProperty({ format: 'uuid' }) created_by: string;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) accepted_at: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) revoked_at: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) declined_at: string | null;
}

export class InvitationWithWorkspaceResponse extends InvitationResponse {
  @ApiProperty({ type: String, nullable: true, example: 'Acme Ops' }) workspace_name: string | null;
}

export function toInvitationResponse(invitation: WorkspaceInvitationEntity, token?: string): InvitationResponse {
  return {
    id: invitation.id,
    workspace_id: invitation.workspaceId,
    email: invitation.email,
    role: invitation.role,
    ...(token ? { token } : {}),
    status: invitation.status,
    expires_at: toRfc3339(invitation.expiresAt)!,
    created_by: invitation.createdBy,
    created_at: toRfc3339(invitation.createdAt)!,
    accepted_at: toRfc3339(invitation.acceptedAt),
    revoked_at: toRfc3339(invitation.revokedAt),
    declined_at: toRfc3339(invitation.declinedAt),
  };
}

export class InvitationCreatedResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: InvitationResponse }) invitation: InvitationResponse;
}

export class InvitationsListResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: [InvitationResponse], description: 'Every status, newest first; without tokens.' })
  invitations: InvitationResponse[];
}

export class MyInvitationsResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: [InvitationWithWorkspaceResponse], description: 'Pending and unexpired, newest first.' })
  invitations: InvitationWithWorkspaceResponse[];
}

export class InvitationPreviewResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: InvitationWithWorkspaceResponse }) invitation: InvitationWithWorkspaceResponse;
  @ApiProperty() expired: boolean;
  @ApiProperty() revoked: boolean;
  @ApiProperty() accepted: boolean;
  @ApiProperty() declined: boolean;
}

export class InvitationAcceptedResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ format: 'uuid' }) workspace_id: string;
}

export class InvitationDeclinedResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ example: 'Invite declined' }) message: string;
}

export class InvitationRevokedResponse {
  @ApiProperty({ example: true }) success: true;
}
