import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PlanLimits, shownPlan } from '../plans/plan-tier';
import { IsEmail, IsIn, IsNotEmpty, IsOptional, IsString, IsUUID, ValidateIf } from 'class-validator';
import { MaxChars } from '../common/http/max-chars';
import { toRfc3339 } from '../common/clock';
import { UserEntity } from '../database/entities/user.entity';
import { WORKSPACE_ROLES, WorkspaceMemberEntity } from '../database/entities/workspace-member.entity';
import type { WorkspaceRole } from '../database/entities/workspace-member.entity';
import { WorkspaceEntity } from '../database/entities/workspace.entity';
import { Membership } from '../database/repositories/workspace.repository';

export class WorkspaceResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: "Ada's Workspace" }) name: string;
  @ApiProperty({ enum: ['solo', 'workspace'] }) plan: string;
  @ApiProperty({ format: 'uuid' }) owner_id: string;
  @ApiProperty({ format: 'uuid' }) created_by: string;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time' }) updated_at: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Always null in a membership.' })
  deleted_at: string | null;
}

export class MembershipResponse {
  @ApiProperty({ type: WorkspaceResponse }) workspace: WorkspaceResponse;
  @ApiProperty({ enum: WORKSPACE_ROLES }) role: WorkspaceRole;
}

export class MemberResponse {
  @ApiProperty({ format: 'uuid' }) workspace_id: string;
  @ApiProperty({ format: 'uuid' }) user_id: string;
  @ApiProperty({ enum: WORKSPACE_ROLES }) role: WorkspaceRole;
  @ApiProperty({ format: 'date-time' }) joined_at: string;
  @ApiProperty() email: string;
  @ApiProperty() first_name: string;
  @ApiProperty() last_name: string;
}

export function toWorkspaceResponse(w: WorkspaceEntity, limits: PlanLimits): WorkspaceResponse {
  return {
    id: w.id,
    name: w.name,
    plan: shownPlan(w.plan, limits),
    owner_id: w.ownerId,
    created_by: w.createdBy,
    created_at: toRfc3339(w.createdAt)!,
    updated_at: toRfc3339(w.updatedAt)!,
    deleted_at: toRfc3339(w.deletedAt),
  };
}

export function toMembershipResponse(m: Membership, limits: PlanLimits): MembershipResponse {
  return { workspace: toWorkspaceResponse(m.workspace, limits), role: m.role };
}

export function toMemberResponse(member: WorkspaceMemberEntity, user: UserEntity): MemberResponse {
  return {
    workspace_id: member.workspaceId,
    user_id: member.userId,
    role: member.role,
    joined_at: toRfc3339(member.joinedAt)!,
    email: user.email,
    first_name: user.firstName,
    last_name: user.lastName,
  };
}

export class CreateWorkspaceDto {
  @ApiProperty({ example: 'Acme Ops', maxLength: 200 })
  @IsString()
  @IsNotEmpty()
  @MaxChars(200)
  name: string;
}

export class AddMemberDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'The account to invite; or give `email`.' })
  @ValidateIf((o: AddMemberDto) => o.user_id !== undefined || o.email === undefined)
  @IsUUID(undefined, { message: 'user_id must be a UUID (or give email)' })
  user_id?: string;

  @ApiPropertyOptional({ example: 'grace@example.com', description: 'Alternative to `user_id`.' })
  @ValidateIf((o: AddMemberDto) => o.email !== undefined)
  @IsEmail(undefined, { message: 'email must be an email address' })
  email?: string;

  @ApiProperty({ enum: ['admin', 'user', 'viewer'] })
  @IsIn(['admin', 'user', 'viewer'], { message: 'role must be one of admin, user, viewer' })
  role: Exclude<WorkspaceRole, 'owner'>;
}

export class UpdateMemberDto {
  @ApiProperty({
    enum: WORKSPACE_ROLES,
    description: '`owner` transfers ownership (owner only); the old owner becomes admin.',
  })
  @IsIn(WORKSPACE_ROLES, { message: 'role must be one of owner, admin, user, viewer' })
  role: WorkspaceRole;
}

export class RevokeMemberDto {
  @ApiProperty({ format: 'uuid', description: 'The member to remove.' })
  @IsUUID(undefined, { message: 'member_id must be a UUID' })
  member_id: string;

  @ApiPropertyOptional({
    maxLength: 500,
    description: 'Accepted for compatibility with the original server; not stored (there is no audit log yet).',
  })
  @IsOptional()
  @IsString({ message: 'reason must be a string' })
  @MaxChars(500)
  reason?: string;
}

export class ChangePlanDto {
  @ApiProperty({ enum: ['solo', 'workspace'] })
  @IsIn(['solo', 'workspace'], { message: 'plan_tier must be solo or workspace' })
  plan_tier: 'solo' | 'workspace';

  @ApiPropertyOptional({ example: 'Acme Ops', description: 'Renames the upgraded workspace.' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxChars(200)
  workspace_name?: string;
}

export class WorkspacesListResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: [MembershipResponse] }) workspaces: MembershipResponse[];
}

export class WorkspaceCreatedResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: WorkspaceResponse }) workspace: WorkspaceResponse;
  @ApiProperty({ type: [MembershipResponse] }) memberships: MembershipResponse[];
}

export class MembersListResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: [MemberResponse] }) members: MemberResponse[];
}

export class MemberChangedResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: [MemberResponse] }) members: MemberResponse[];
}

export class MemberRevokedResponse {
  @ApiProperty({ example: true }) success: true;
}

export class LeaveResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: [MembershipResponse] }) memberships: MembershipResponse[];
}
