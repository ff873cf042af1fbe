import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Redirect } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentUser } from '../common/auth/decorators';
import type { AuthPrincipal } from '../common/auth/principal';
import { ApiErrors, ErrorEnvelopeDto } from '../common/http/openapi';
import { UuidPipe } from '../common/http/uuid.pipe';
import {
  ConnectionIdQuery,
  ConnectionsQuery,
  ConnectionsResponse,
  ConnectStartQuery,
  PromoteConnectionDto,
  ProviderParam,
  RefreshConnectionDto,
} from './integrations.dto';
import { IntegrationsService } from './integrations.service';

export const NOT_CONFIGURED = {
  status: 404,
  description:
    '`integration_not_configured`: this server has no OAuth provider for it, so no connection exists (or `not_found`: a workspace the caller is not a member of).',
  type: ErrorEnvelopeDto,
};

/** The caller's OAuth connections (Settings → Integrations). */
@ApiTags('integrations')
@Authenticated()
@Controller('api/oauth')
export class OAuthController {
  constructor(private readonly integrations: IntegrationsService) {}

  @Get('connections')
  @ApiOkResponse({ type: ConnectionsResponse })
  @ApiErrors(400, 401, 403)
  @ApiOperation({ summary: 'List OAuth connections' })
  connections(@CurrentUser() user: AuthPrincipal, @Query() query: ConnectionsQuery): Promise<ConnectionsResponse> {
    return this.integrations.connections(user, query.workspace);
  }

  /** A browser navigation (the Connect button): always a redirect to the web app, never JSON. */
  @Get(':provider/start')
  @Redirect(undefined, 303)
  @ApiResponse({
    status: 303,
    description:
      'To `<web app>/dashboard?connected=false&provider=<p>&error=<reason>`: a refusal (not a member, a viewer, a Solo-plan workspace) or, past those checks, that the provider is not configured.',
  })
  @ApiErrors(400, 401)
  @ApiOperation({ summary: 'Start an OAuth connection (redirects)' })
  async start(
    @CurrentUser() user: AuthPrincipal,
    @Param() params: ProviderParam,
    @Query() query: ConnectStartQuery,
  ): Promise<{ url: string }> {
    return { url: await this.integrations.connectRedirect(user, params.provider, query.workspace) };
  }

  @Post(':provider/refresh')
  @HttpCode(200)
  @ApiResponse(NOT_CONFIGURED)
  @ApiErrors(400, 401, 403, 415, 422)
  @ApiOperation({ summary: 'Refresh an OAuth connection' })
  refresh(
    @Param() params: ProviderParam,
    @Query() query: ConnectionIdQuery,
    @Body() body: RefreshConnectionDto | undefined,
  ): Promise<never> {
    return this.integrations.personalConnection(params.provider, body?.connection_id ?? query.connection_id);
  }

  @Delete(':provider/disconnect')
  @ApiResponse(NOT_CONFIGURED)
  @ApiErrors(400, 401, 403)
  @ApiOperation({ summary: 'Disconnect an OAuth connection' })
  disconnect(@Param() params: ProviderParam, @Query() query: ConnectionIdQuery): Promise<never> {
    return this.integrations.personalConnection(params.provider, query.connection_id);
  }
}

/** Connections shared with a workspace (admins and the owner). */
@ApiTags('integrations')
@Authenticated()
@Controller('api/workspaces')
export class WorkspaceConnectionsController {
  constructor(private readonly integrations: IntegrationsService) {}

  @Post(':id/connections/promote')
  @HttpCode(200)
  @ApiResponse(NOT_CONFIGURED)
  @ApiErrors(400, 401, 403, 415, 422)
  @ApiOperation({ summary: 'Share a connection with a workspace' })
  promote(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Body() dto: PromoteConnectionDto,
  ): Promise<never> {
    return this.integrations.promote(user, id, dto);
  }

  @Delete(':id/connections/:connectionId')
  @ApiErrors(400, 401, 403, 404)
  @ApiOperation({ summary: 'Remove a workspace connection' })
  remove(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Param('connectionId', UuidPipe) _connectionId: string,
  ): Promise<never> {
    return this.integrations.removeWorkspaceConnection(user, id);
  }
}
