import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Authenticated, CurrentUser } from '../common/auth/decorators';
import type { AuthPrincipal } from '../common/auth/principal';
import { ApiErrors } from '../common/http/openapi';
import { PlanViolationResponse, SuccessResponse, WorkspaceQuery } from '../common/http/dto';
import { UuidPipe } from '../common/http/uuid.pipe';
import {
  ConflictResponse,
  CreateWorkflowDto,
  ReassignWorkflowDto,
  UpdateWorkflowDto,
  WorkflowDetailEnvelope,
  WorkflowEnvelope,
  WorkflowListResponse,
  WorkflowLogsResponse,
} from './workflows.dto';
import { WorkflowsService } from './workflows.service';

@ApiTags('workflows')
@Authenticated()
@Controller('api/workflows')
export class WorkflowsController {
  constructor(private readonly workflows: WorkflowsService) {}

  @Post()
  @ApiCreatedResponse({ type: WorkflowEnvelope })
  @ApiForbiddenResponse({
    type: PlanViolationResponse,
    description: 'Plan violations, no workspace access, viewer role.',
  })
  @ApiConflictResponse({ description: '`A workflow with this name already exists`' })
  @ApiErrors(400, 401, 415)
  @ApiOperation({ summary: 'Create a workflow' })
  create(@CurrentUser() user: AuthPrincipal, @Body() dto: CreateWorkflowDto): Promise<WorkflowEnvelope> {
    return this.workflows.create(user, dto);
  }

  @Get()
  @ApiOkResponse({ type: WorkflowListResponse })
  @ApiErrors(400, 401, 403)
  @ApiOperation({ summary: 'List workflows' })
  list(@CurrentUser() user: AuthPrincipal, @Query() query: WorkspaceQuery): Promise<WorkflowListResponse> {
    return this.workflows.list(user, query.workspace);
  }

  @Get(':id')
  @ApiOkResponse({ type: WorkflowDetailEnvelope })
  @ApiForbiddenResponse({
    type: PlanViolationResponse,
    description: 'Not in the plan context, or locked on the solo plan.',
  })
  @ApiErrors(400, 401, 404)
  @ApiOperation({ summary: 'Get a workflow' })
  get(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Query() query: WorkspaceQuery,
  ): Promise<WorkflowDetailEnvelope> {
    return this.workflows.get(user, id, query.workspace);
  }

  @Put(':id')
  @ApiOkResponse({ type: WorkflowEnvelope })
  @ApiConflictResponse({
    type: ConflictResponse,
    description: 'Stale or missing `updated_at` (with the current workflow), or a duplicate name.',
  })
  @ApiForbiddenResponse({
    type: PlanViolationResponse,
    description: 'Viewer, locked, plan context or plan violations.',
  })
  @ApiErrors(400, 401, 404, 415)
  @ApiOperation({ summary: 'Update a workflow' })
  update(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Query() query: WorkspaceQuery,
    @Body() dto: UpdateWorkflowDto,
  ): Promise<WorkflowEnvelope> {
    return this.workflows.update(user, id, query.workspace, dto);
  }

  @Delete(':id')
  @ApiOkResponse({ type: SuccessResponse })
  @ApiErrors(400, 401, 403, 404)
  @ApiOperation({ summary: 'Delete a workflow' })
  delete(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Query() query: WorkspaceQuery,
  ): Promise<SuccessResponse> {
    return this.workflows.delete(user, id, query.workspace);
  }

  @Post(':id/lock')
  @HttpCode(200)
  @ApiOkResponse({ type: WorkflowEnvelope })
  @ApiErrors(400, 401, 403, 404)
  @ApiOperation({ summary: 'Lock a workflow for editing' })
  lock(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Query() query: WorkspaceQuery,
  ): Promise<WorkflowEnvelope> {
    return this.workflows.lock(user, id, query.workspace);
  }

  @Delete(':id/lock')
  @ApiOkResponse({ type: WorkflowEnvelope })
  @ApiErrors(400, 401, 403, 404)
  @ApiOperation({ summary: 'Unlock a workflow' })
  unlock(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Query() query: WorkspaceQuery,
  ): Promise<WorkflowEnvelope> {
    return this.workflows.unlock(user, id, query.workspace);
  }

  @Put(':id/owner')
  @ApiOkResponse({
    type: WorkflowEnvelope,
    description:
      'Gives a workspace workflow to another member (workspace owner or admin). Its schedule fires as the new owner; credentials resolve from the new owner’s store and the workspace’s shared secrets.',
  })
  @ApiErrors(400, 401, 403, 404, 415)
  @ApiOperation({ summary: 'Give a workflow to another member' })
  reassign(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Body() dto: ReassignWorkflowDto,
  ): Promise<WorkflowEnvelope> {
    return this.workflows.reassign(user, id, dto.user_id);
  }

  @Get(':id/logs')
  @ApiOkResponse({ type: WorkflowLogsResponse })
  @ApiErrors(400, 401, 404)
  @ApiOperation({ summary: "List a workflow's change log" })
  logs(@CurrentUser() user: AuthPrincipal, @Param('id', UuidPipe) id: string): Promise<WorkflowLogsResponse> {
    return this.workflows.listLogs(user, id);
  }

  @Delete(':id/logs')
  @ApiOkResponse({ type: SuccessResponse, description: "Deletes the caller's own entries." })
  @ApiErrors(400, 401, 404)
  @ApiOperation({ summary: 'Delete my change-log entries' })
  clearLogs(@CurrentUser() user: AuthPrincipal, @Param('id', UuidPipe) id: string): Promise<SuccessResponse> {
    return this.workflows.clearLogs(user, id);
  }

  @Delete(':id/logs/:logId')
  @ApiOkResponse({ type: SuccessResponse })
  @ApiErrors(400, 401, 404)
  @ApiOperation({ summary: 'Delete a change-log entry' })
  deleteLog(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Param('logId', UuidPipe) logId: string,
  ): Promise<SuccessResponse> {
    return this.workflows.deleteLog(user, id, logId);
  }
}
