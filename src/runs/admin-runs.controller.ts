import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AppAdmin } from '../common/auth/app-admin.guard';
import { CurrentUser } from '../common/auth/decorators';
import type { AuthPrincipal } from '../common/auth/principal';
import { ApiErrors } from '../common/http/openapi';
import { PurgeRunsDto, PurgeRunsResponse } from './admin-runs.dto';
import { AdminRunsService } from './admin-runs.service';

/** The client's Settings → Engine purge, shown to application admins only. */
@ApiTags('admin')
@AppAdmin()
@Controller('api/admin')
export class AdminRunsController {
  constructor(private readonly runs: AdminRunsService) {}

  @Post('purge-runs')
  @HttpCode(200)
  @ApiOkResponse({ type: PurgeRunsResponse })
  @ApiErrors(400, 401, 403, 415, 422)
  @ApiOperation({ summary: 'Purge old finished runs (admin)' })
  purge(@CurrentUser() user: AuthPrincipal, @Body() dto: PurgeRunsDto): Promise<PurgeRunsResponse> {
    return this.runs.purge(user, dto);
  }
}
