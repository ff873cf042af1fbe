import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import { Authenticated, CurrentUser } from '../common/auth/decorators';
import type { AuthPrincipal } from '../common/auth/principal';
import { clampPaging, PagingQuery, PlanViolationResponse, WorkspaceQuery } from '../common/http/dto';
import { ApiErrors } from '../common/http/openapi';
import { UuidPipe } from '../common/http/uuid.pipe';
import { VersionNumberPipe } from '../common/http/version-number.pipe';
import {
  RestoreVersionDto,
  WorkflowVersionDiffResponse,
  WorkflowVersionEnvelope,
  WorkflowVersionPage,
} from './workflow-versions.dto';
import { ConflictResponse, WorkflowEnvelope } from './workflows.dto';
import { WorkflowVersionsService } from './workflow-versions.service';

/** docs/contract.md §2.17. */
@ApiTags('workflows')
@Authenticated()
@Controller('api/workflows')
export class WorkflowVersionsController {
  constructor(private readonly versions: WorkflowVersionsService) {}

  @Get(':id/versions')
  @ApiOkResponse({ type: WorkflowVersionPage })
  @ApiErrors(400, 401, 404)
  @ApiOperation({ summary: "List a workflow's versions (newest first, without graphs)" })
  list(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Query() paging: PagingQuery,
  ): Promise<WorkflowVersionPage> {
    return this.versions.list(user, id, clampPaging(paging.page, paging.per_page));
  }

  @Get(':id/versions/:n')
  @ApiOkResponse({ type: WorkflowVersionEnvelope })
  @ApiErrors(400, 401, 404)
  @ApiOperation({ summary: 'Get a version with its graph' })
  get(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Param('n', VersionNumberPipe) n: number,
  ): Promise<WorkflowVersionEnvelope> {
    return this.versions.get(user, id, n);
  }

  @Get(':id/versions/:n/diff')
  @ApiQuery({
    name: 'against',
    required: false,
    type: Number,
    description: 'The version to compare with; default the one before (version 1: an empty workflow).',
  })
  @ApiOkResponse({ type: WorkflowVersionDiffResponse })
  @ApiErrors(400, 401, 404)
  @ApiOperation({ summary: 'Diff a version against another' })
  diff(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Param('n', VersionNumberPipe) n: number,
    @Query('against', VersionNumberPipe) against?: number,
  ): Promise<WorkflowVersionDiffResponse> {
    return this.versions.diff(user, id, n, against);
  }

  @Post(':id/versions/:n/restore')
  @HttpCode(200)
  @ApiOkResponse({ type: WorkflowEnvelope, description: 'The workflow, now at a new version equal to `n`.' })
  @ApiConflictResponse({
    type: ConflictResponse,
    description: 'Stale or missing `updated_at` (with the current workflow), or the name is taken now.',
  })
  @ApiForbiddenResponse({
    type: PlanViolationResponse,
    description: 'Viewer, locked, plan context or plan violations, credentials the caller may not use.',
  })
  @ApiErrors(400, 401, 404, 415)
  @ApiOperation({ summary: 'Restore a version (saved as a new version)' })
  restore(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Param('n', VersionNumberPipe) n: number,
    @Query() query: WorkspaceQuery,
    @Body() dto: RestoreVersionDto,
  ): Promise<WorkflowEnvelope> {
    return this.versions.restore(user, id, n, query.workspace, dto);
  }
}
