import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentUser } from '../common/auth/decorators';
import type { AuthPrincipal } from '../common/auth/principal';
import { ApiErrors } from '../common/http/openapi';
import { UuidPipe } from '../common/http/uuid.pipe';
import { clampPaging, PagingQuery } from '../common/http/dto';
import { DeletedResponse } from '../runs/runs.dto';
import { EgressAllowlistDto, EgressAllowlistResponse, EgressBlockPageResponse } from './egress.dto';
import { WorkflowEgressService } from './workflow-egress.service';

@ApiTags('egress')
@Authenticated()
@Controller('api/workflows')
export class EgressController {
  constructor(private readonly egress: WorkflowEgressService) {}

  @Get(':id/egress')
  @ApiOkResponse({ type: EgressAllowlistResponse })
  @ApiErrors(400, 401, 404)
  @ApiOperation({ summary: "Get a workflow's egress allowlist" })
  get(@CurrentUser() user: AuthPrincipal, @Param('id', UuidPipe) id: string): Promise<EgressAllowlistResponse> {
    return this.egress.getAllowlist(user, id);
  }

  @Post(':id/egress')
  @HttpCode(200)
  @ApiOkResponse({ type: EgressAllowlistResponse })
  @ApiErrors(400, 401, 403, 404, 415)
  @ApiOperation({ summary: "Set a workflow's egress allowlist" })
  set(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Body() dto: EgressAllowlistDto,
  ): Promise<EgressAllowlistResponse> {
    return this.egress.setAllowlist(user, id, dto.allowlist);
  }

  @Get(':id/egress/blocks')
  @ApiOkResponse({ type: EgressBlockPageResponse })
  @ApiErrors(400, 401, 403, 404)
  @ApiOperation({ summary: 'List blocked outbound requests' })
  blocks(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Query() paging: PagingQuery,
  ): Promise<EgressBlockPageResponse> {
    return this.egress.listBlocks(user, id, clampPaging(paging.page, paging.per_page));
  }

  @Delete(':id/egress/blocks')
  @ApiOkResponse({ type: DeletedResponse })
  @ApiErrors(400, 401, 403, 404)
  @ApiOperation({ summary: 'Clear the egress block log' })
  clear(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
  ): Promise<{ success: true; deleted: number }> {
    return this.egress.clearBlocks(user, id);
  }
}
