import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentUser } from '../common/auth/decorators';
import type { AuthPrincipal } from '../common/auth/principal';
import { ApiErrors } from '../common/http/openapi';
import { WorkspaceQuery } from '../common/http/dto';
import { UsageResponse, UsageService } from './usage.service';

@ApiTags('plans')
@Authenticated()
@Controller('api/workflows')
export class UsageController {
  constructor(private readonly usage: UsageService) {}

  /** Static segment: PlansModule is registered before the workflows module's `:id` routes. */
  @Get('usage')
  @ApiOkResponse({ type: UsageResponse })
  @ApiErrors(400, 401, 403)
  @ApiOperation({ summary: 'Run and workflow usage for the plan' })
  get(@CurrentUser() caller: AuthPrincipal, @Query() query: WorkspaceQuery): Promise<UsageResponse> {
    return this.usage.usageFor(caller, query.workspace);
  }
}
