import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, CsrfSameSite, CurrentUser, Public } from '../common/auth/decorators';
import type { AuthPrincipal } from '../common/auth/principal';
import { ApiErrors } from '../common/http/openapi';
import { UuidPipe } from '../common/http/uuid.pipe';
import {
  CreateInvitationDto,
  InvitationAcceptedResponse,
  InvitationCreatedResponse,
  InvitationDeclinedResponse,
  InvitationPreviewResponse,
  InvitationRevokedResponse,
  InvitationsListResponse,
  InvitationTokenDto,
  MyInvitationsResponse,
} from './invitations.dto';
import { InvitationsService } from './invitations.service';

/** What admins and the owner do with a workspace's invitations (the client's Members tab). */
@ApiTags('workspaces')
@Authenticated()
@Controller('api/workspaces')
export class WorkspaceInvitationsController {
  constructor(private readonly invitations: InvitationsService) {}

  @Get(':id/invites')
  @ApiOkResponse({ type: InvitationsListResponse })
  @ApiErrors(400, 401, 403, 404)
  @ApiOperation({ summary: "List a workspace's invitations" })
  list(@CurrentUser() user: AuthPrincipal, @Param('id', UuidPipe) id: string): Promise<InvitationsListResponse> {
    return this.invitations.listForWorkspace(user, id);
  }

  @Post(':id/invites')
  @HttpCode(200)
  @ApiOkResponse({ type: InvitationCreatedResponse })
  @ApiErrors(400, 401, 403, 404, 409, 415)
  @ApiOperation({ summary: 'Invite someone by e-mail' })
  create(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Body() dto: CreateInvitationDto,
  ): Promise<InvitationCreatedResponse> {
    return this.invitations.create(user, id, dto);
  }

  @Post(':id/invites/:inviteId/revoke')
  @HttpCode(200)
  @ApiOkResponse({ type: InvitationRevokedResponse })
  @ApiErrors(400, 401, 403, 404, 409)
  @ApiOperation({ summary: 'Revoke an invitation' })
  revoke(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Param('inviteId', UuidPipe) inviteId: string,
  ): Promise<InvitationRevokedResponse> {
    return this.invitations.revoke(user, id, inviteId);
  }
}

/** What the invitee does: see their invitations, preview a link, accept or decline. */
@ApiTags('workspaces')
@Controller('api/invites')
export class InvitesController {
  constructor(private readonly invitations: InvitationsService) {}

  @Get()
  @Authenticated()
  @ApiOkResponse({ type: MyInvitationsResponse })
  @ApiErrors(401)
  @ApiOperation({ summary: 'My pending invitations' })
  mine(@CurrentUser() user: AuthPrincipal): Promise<MyInvitationsResponse> {
    return this.invitations.listMine(user);
  }

  /** The web client sends these two without `x-csrf-token`; see CsrfSameSite. */
  @Post('accept')
  @HttpCode(200)
  @ApiCookieAuth('session')
  @ApiBearerAuth('bearer')
  @CsrfSameSite()
  @ApiOkResponse({ type: InvitationAcceptedResponse })
  @ApiErrors(400, 401, 403, 404, 415)
  @ApiOperation({ summary: 'Accept an invitation' })
  accept(@CurrentUser() user: AuthPrincipal, @Body() dto: InvitationTokenDto): Promise<InvitationAcceptedResponse> {
    return this.invitations.accept(user, dto.token);
  }

  @Post('decline')
  @HttpCode(200)
  @ApiCookieAuth('session')
  @ApiBearerAuth('bearer')
  @CsrfSameSite()
  @ApiOkResponse({ type: InvitationDeclinedResponse })
  @ApiErrors(400, 401, 403, 404, 415)
  @ApiOperation({ summary: 'Decline an invitation' })
  decline(@CurrentUser() user: AuthPrincipal, @Body() dto: InvitationTokenDto): Promise<InvitationDeclinedResponse> {
    return this.invitations.decline(user, dto.token);
  }

  /** Public: the token is the credential (the login and signup pages call it without a session). */
  @Get(':token')
  @Public()
  @ApiOkResponse({ type: InvitationPreviewResponse })
  @ApiErrors(404)
  @ApiOperation({ summary: 'Preview an invitation' })
  preview(@Param('token') token: string): Promise<InvitationPreviewResponse> {
    return this.invitations.preview(token);
  }
}
