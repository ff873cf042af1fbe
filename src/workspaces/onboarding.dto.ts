import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, IsUUID } from 'class-validator';
import { MaxChars } from '../common/http/max-chars';
import { UserResponse } from '../auth/auth.dto';
import { OPEN_OBJECT } from '../common/http/openapi';
import { WorkflowResponse } from '../workflows/workflows.dto';
import { MembershipResponse, WorkspaceResponse } from './workspaces.dto';

/** How many workflows one onboarding may share (far above the Solo plan's three). */
export const SHARED_WORKFLOWS_MAX = 1000;

export class PlanOptionResponse {
  @ApiProperty({ enum: ['solo', 'workspace'] }) tier: 'solo' | 'workspace';
  @ApiProperty({ example: 'Workspace' }) name: string;
  @ApiProperty({ example: 'Collaborate with your team inside one shared workspace.' }) description: string;
  @ApiProperty({ example: '$29/mo', description: 'Display text (WORKSPACE_PLAN_PRICE for the workspace plan).' })
  price: string;
}

export class OnboardingContextResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: UserResponse, description: 'As `GET /api/auth/me` shows it.' }) user: UserResponse;
  @ApiProperty({
    type: [WorkflowResponse],
    description:
      'The workflows the caller owns and can still open: personal ones and those in workspaces they belong to. Those with a `workspace_id` are already shared.',
  })
  workflows: WorkflowResponse[];
  @ApiProperty({ type: [MembershipResponse] }) memberships: MembershipResponse[];
  @ApiProperty({ type: [PlanOptionResponse] }) plan_options: PlanOptionResponse[];
  @ApiProperty({
    ...OPEN_OBJECT,
    example: {},
    description: 'Billing state. Always empty: this server has no payment provider, so nothing is pending or renewing.',
  })
  billing: Record<string, never>;
}

export class CompleteOnboardingDto {
  @ApiProperty({ enum: ['solo', 'workspace'] })
  @IsIn(['solo', 'workspace'], { message: 'plan_tier must be solo or workspace' })
  plan_tier: 'solo' | 'workspace';

  @ApiPropertyOptional({
    example: 'Acme Ops',
    maxLength: 200,
    description:
      'Required (non-blank) for `workspace`; for `solo`, names a workspace created for a caller who owns none.',
  })
  @IsOptional()
  @IsString({ message: 'workspace_name must be a string' })
  @MaxChars(200)
  workspace_name?: string;

  @ApiPropertyOptional({
    type: [String],
    format: 'uuid',
    description:
      'Workspace plan only: personal workflows of the caller to move into the workspace. Workflows already in it are kept; workflows of another workspace stay there.',
  })
  @IsOptional()
  @IsArray({ message: 'shared_workflow_ids must be an array of workflow ids' })
  @ArrayMaxSize(SHARED_WORKFLOWS_MAX)
  @IsUUID(undefined, { each: true, message: 'shared_workflow_ids must hold workflow ids (UUIDs)' })
  shared_workflow_ids?: string[];
}

export class OnboardingCompletedResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ enum: ['solo', 'workspace'] }) plan: 'solo' | 'workspace';
  @ApiProperty({
    type: WorkspaceResponse,
    nullable: true,
    description:
      'Workspace plan: the workspace-plan workspace. Solo: a workspace created because the caller owned none, else null.',
  })
  workspace: WorkspaceResponse | null;
  @ApiProperty({ type: [MembershipResponse] }) memberships: MembershipResponse[];
  @ApiProperty({ type: [WorkflowResponse], description: 'The shared workflows, now in the workspace.' })
  shared_workflows: WorkflowResponse[];
}
