import { Body, Controller, Get, Put, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentUser } from '../common/auth/decorators';
import type { AuthPrincipal } from '../common/auth/principal';
import { ApiErrors } from '../common/http/openapi';
import { WorkspaceQuery } from '../common/http/dto';
import { PutUserSettingsDto, UserSettingsResponse } from './user-settings.dto';
import { UserSettingsService } from './user-settings.service';

@ApiTags('options')
@Authenticated()
@Controller('api/options/user-settings')
export class UserSettingsController {
  constructor(private readonly settings: UserSettingsService) {}

  @Get()
  @ApiOkResponse({ type: UserSettingsResponse })
  @ApiErrors(400, 401)
  @ApiOperation({ summary: 'Get user settings' })
  get(@CurrentUser() caller: AuthPrincipal, @Query() query: WorkspaceQuery): Promise<UserSettingsResponse> {
    return this.settings.get(caller, query.workspace);
  }

  @Put()
  @ApiOkResponse({ type: UserSettingsResponse })
  @ApiErrors(400, 401, 403, 415)
  @ApiOperation({ summary: 'Set runaway protection for a workspace' })
  put(@CurrentUser() caller: AuthPrincipal, @Body() dto: PutUserSettingsDto): Promise<UserSettingsResponse> {
    return this.settings.put(caller, dto);
  }
}
