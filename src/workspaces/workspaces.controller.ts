import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentUser } from '../common/auth/decorators';
import type { AuthPrincipal } from '../common/auth/principal';
import { ApiErrors } from '../common/http/openapi';
import { UuidPipe } from '../common/http/uuid.pipe';
import {
  AddMemberDto,
  ChangePlanDto,
  CreateWorkspaceDto,
  LeaveResponse,
  MemberRevokedResponse,
  MembersListResponse,
  RevokeMemberDto,
  UpdateMemberDto,
  WorkspaceCreatedResponse,
  WorkspacesListResponse,
} from './workspaces.dto';
import { InvitationCreatedResponse } from './invitations.dto';
import { InvitationsService } from './invitations.service';
import { WorkspacesService } from './workspaces.service';

@ApiTags('workspaces')
@Authenticated()
@Controller('api/workspaces')
export class WorkspacesController {
  constructor(
    private readonly workspaces: WorkspacesService,
    private readonly invitations: InvitationsService,
  ) {}

  @Get()
  @ApiOkResponse({ type: WorkspacesListResponse })
  @ApiErrors(401)
  @ApiOperation({ summary: 'List workspaces' })
  list(@CurrentUser() user: AuthPrincipal): Promise<WorkspacesListResponse> {
    return this.workspaces.list(user);
  }

  @Post()
  @ApiCreatedResponse({ type: WorkspaceCreatedResponse })
  @ApiErrors(400, 401, 403, 415)
  @ApiOperation({ summary: 'Create a workspace' })
  create(@CurrentUser() user: AuthPrincipal, @Body() dto: CreateWorkspaceDto): Promise<WorkspaceCreatedResponse> {
    return this.workspaces.create(user, dto);
  }

  /** Static segment: declared before `:id` routes so it is never read as a workspace id. */
  @Post('plan')
  @HttpCode(200)
  @ApiOkResponse({ type: WorkspaceCreatedResponse })
  @ApiErrors(400, 401, 403, 415)
  @ApiOperation({ summary: 'Change plan' })
  changePlan(@CurrentUser() user: AuthPrincipal, @Body() dto: ChangePlanDto): Promise<WorkspaceCreatedResponse> {
    return this.workspaces.changePlan(user, dto);
  }

  @Get(':id/members')
  @ApiOkResponse({ type: MembersListResponse })
  @ApiErrors(400, 401, 404)
  @ApiOperation({ summary: 'List members' })
  members(@CurrentUser() user: AuthPrincipal, @Param('id', UuidPipe) id: string): Promise<MembersListResponse> {
    return this.workspaces.members(user, id);
  }

  /** Invites the account (`user_id`) or e-mail: nobody becomes a member without accepting. */
  @Post(':id/members')
  @ApiCreatedResponse({ type: InvitationCreatedResponse })
  @ApiErrors(400, 401, 403, 404, 409, 415)
  @ApiOperation({ summary: 'Invite a member' })
  addMember(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Body() dto: AddMemberDto,
  ): Promise<InvitationCreatedResponse> {
    return this.invitations.inviteMember(user, id, dto);
  }

  @Put(':id/members/:userId')
  @ApiOkResponse({ type: MembersListResponse })
  @ApiErrors(400, 401, 403, 404, 415)
  @ApiOperation({ summary: "Change a member's role" })
  updateMember(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Param('userId', UuidPipe) userId: string,
    @Body() dto: UpdateMemberDto,
  ): Promise<MembersListResponse> {
    return this.workspaces.updateMember(user, id, userId, dto);
  }

  @Delete(':id/members/:userId')
  @ApiOkResponse({ type: MembersListResponse })
  @ApiErrors(400, 401, 403, 404)
  @ApiOperation({ summary: 'Remove a member' })
  removeMember(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Param('userId', UuidPipe) userId: string,
  ): Promise<MembersListResponse> {
    return this.workspaces.removeMember(user, id, userId);
  }

  /** Kept for API compatibility with the original server; the same as removing the member. */
  @Post(':id/revoke')
  @HttpCode(200)
  @ApiOkResponse({ type: MemberRevokedResponse })
  @ApiErrors(400, 401, 403, 404, 415, 422)
  @ApiOperation({ summary: 'Remove a member (legacy route)' })
  revoke(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Body() dto: RevokeMemberDto,
  ): Promise<MemberRevokedResponse> {
    return this.workspaces.revokeMember(user, id, dto);
  }

  @Post(':id/leave')
  @HttpCode(200)
  @ApiOkResponse({ type: LeaveResponse })
  @ApiErrors(400, 401, 403, 404)
  @ApiOperation({ summary: 'Leave a workspace' })
  leave(@CurrentUser() user: AuthPrincipal, @Param('id', UuidPipe) id: string): Promise<LeaveResponse> {
    return this.workspaces.leave(user, id);
  }
}
