import { Body, Controller, Delete, Get, Param, Put, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentUser } from '../common/auth/decorators';
import type { AuthPrincipal } from '../common/auth/principal';
import { ApiErrors } from '../common/http/openapi';
import { UuidPipe } from '../common/http/uuid.pipe';
import { RequiresPlan } from '../plans/requires-plan.decorator';
import { WorkspaceQuery } from '../common/http/dto';
import {
  PutSecretDto,
  SecretOwnershipResponse,
  SecretsResponse,
  SecretWriteResponse,
  ShareSecretDto,
} from './secrets.dto';
import { SecretsService } from './secrets.service';

@ApiTags('secrets')
@Authenticated()
@Controller('api/options/secrets')
export class SecretsController {
  constructor(private readonly secrets: SecretsService) {}

  @Get()
  @ApiOkResponse({
    type: SecretsResponse,
    description: 'Masked; your own secrets, or with `workspace` the secrets its members share with it.',
  })
  @ApiErrors(400, 401, 403)
  @ApiOperation({ summary: 'List secrets (masked)' })
  list(@CurrentUser() user: AuthPrincipal, @Query() query: WorkspaceQuery): Promise<SecretsResponse> {
    return this.secrets.list(user, query.workspace);
  }

  @Put(':group/:service/:name')
  @ApiOkResponse({
    type: SecretWriteResponse,
    description: 'Writes your secret: personal, or with `workspace` shared with that workspace.',
  })
  @ApiErrors(400, 401, 403, 409, 415)
  @ApiOperation({ summary: 'Create or update a secret' })
  put(
    @CurrentUser() user: AuthPrincipal,
    @Param('group') group: string,
    @Param('service') service: string,
    @Param('name') name: string,
    @Query() query: WorkspaceQuery,
    @Body() dto: PutSecretDto,
  ): Promise<SecretWriteResponse> {
    return this.secrets.put(user, { group, service, name }, dto.value, query.workspace);
  }

  @Put(':group/:service/:name/sharing')
  @ApiOkResponse({
    type: SecretsResponse,
    description:
      'Shares one of your secrets with a workspace (its workflows may then use it) or makes it personal again. Only the owner decides.',
  })
  @ApiErrors(400, 401, 403, 404, 409, 415)
  @ApiOperation({ summary: 'Share a secret with a workspace' })
  share(
    @CurrentUser() user: AuthPrincipal,
    @Param('group') group: string,
    @Param('service') service: string,
    @Param('name') name: string,
    @Body() dto: ShareSecretDto,
  ): Promise<SecretsResponse> {
    return this.secrets.share(user, { group, service, name }, dto.workspace_id);
  }

  @Delete(':group/:service/:name')
  @ApiOkResponse({ type: SecretsResponse })
  @ApiErrors(400, 401, 403, 404)
  @ApiOperation({ summary: 'Delete a secret' })
  delete(
    @CurrentUser() user: AuthPrincipal,
    @Param('group') group: string,
    @Param('service') service: string,
    @Param('name') name: string,
    @Query() query: WorkspaceQuery,
  ): Promise<SecretsResponse> {
    return this.secrets.delete(user, { group, service, name }, query.workspace);
  }
}

@ApiTags('secrets')
@Authenticated()
@Controller('api/workspaces')
export class WorkspaceSecretsController {
  constructor(private readonly secrets: SecretsService) {}

  @Get(':ws/secrets')
  @RequiresPlan('workspace', { workspaceParam: 'ws' })
  @ApiOkResponse({ type: SecretOwnershipResponse })
  @ApiErrors(400, 401, 403, 404)
  @ApiOperation({ summary: 'Secrets shared with a workspace, by owner' })
  ownership(@CurrentUser() user: AuthPrincipal, @Param('ws', UuidPipe) ws: string): Promise<SecretOwnershipResponse> {
    return this.secrets.ownership(user, ws);
  }
}
