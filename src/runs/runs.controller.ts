import { Body, Controller, Delete, Get, Header, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import { Authenticated, CurrentUser } from '../common/auth/decorators';
import type { AuthPrincipal } from '../common/auth/principal';
import { ApiErrors } from '../common/http/openapi';
import { Traced } from '../common/tracing/tracing';
import { UuidPipe } from '../common/http/uuid.pipe';
import { RUN_STATUSES } from '../database/entities/run.entity';
import { clampPaging, PagingQuery, PlanViolationResponse } from '../common/http/dto';
import {
  ActiveRunsQuery,
  CancelAllResponse,
  CancelResponse,
  ConcurrencyDto,
  ConcurrencyResponse,
  DeadLetterPageResponse,
  DeletedResponse,
  RerunDto,
  RunDetailResponse,
  RunDownload,
  RunEnvelope,
  RunListResponse,
  RunPageResponse,
  StartRunDto,
} from './runs.dto';
import { parseStatuses, RunsService } from './runs.service';

const RUNAWAY = {
  description:
    '`{"error":"runaway_protection_triggered"}`, or `workspace_run_limit` in the envelope when the quota is used up.',
};

@ApiTags('runs')
@Authenticated()
@Controller('api/workflows')
export class RunsController {
  constructor(private readonly runs: RunsService) {}

  /** Static segment: registered before the workflows module's `:id` routes. */
  @Get('runs')
  @ApiOkResponse({ type: RunListResponse, description: 'Queued and running runs, oldest first.' })
  @ApiErrors(400, 401, 404)
  @ApiOperation({ summary: 'List active runs' })
  active(@CurrentUser() user: AuthPrincipal, @Query() query: ActiveRunsQuery): Promise<RunListResponse> {
    return this.runs.listActive(user, query.workflow_id);
  }

  @Post(':id/run')
  @Traced()
  @HttpCode(202)
  @ApiBody({ type: StartRunDto, required: false })
  @ApiAcceptedResponse({ type: RunEnvelope })
  @ApiForbiddenResponse({
    type: PlanViolationResponse,
    description: 'Solo plan: locked workflow, plan violations, `run-limit`.',
  })
  @ApiTooManyRequestsResponse(RUNAWAY)
  @ApiErrors(400, 401, 404, 415)
  @ApiOperation({ summary: 'Start a run' })
  start(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    // Not `StartRunDto | undefined`: a union is emitted as `Object`, and the pipe would validate nothing.
    @Body() dto?: StartRunDto,
  ): Promise<RunEnvelope> {
    return this.runs.start(user, id, dto);
  }

  @Get(':id/runs')
  @ApiQuery({
    name: 'status',
    required: false,
    isArray: true,
    enum: RUN_STATUSES,
    description: 'Repeat or comma-separate: queued, running, succeeded, failed, canceled, expired.',
  })
  @ApiOkResponse({ type: RunPageResponse })
  @ApiErrors(400, 401, 404)
  @ApiOperation({ summary: "List a workflow's runs" })
  list(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Query() paging: PagingQuery,
    @Query('status') status?: unknown,
    @Query('status[]') statusArray?: unknown,
  ): Promise<RunPageResponse> {
    return this.runs.list(user, id, clampPaging(paging.page, paging.per_page), parseStatuses(status, statusArray));
  }

  @Post(':id/runs/cancel-all')
  @HttpCode(200)
  @ApiOkResponse({ type: CancelAllResponse })
  @ApiErrors(400, 401, 404)
  @ApiOperation({ summary: 'Cancel all active runs of a workflow' })
  cancelAll(@CurrentUser() user: AuthPrincipal, @Param('id', UuidPipe) id: string): Promise<CancelAllResponse> {
    return this.runs.cancelAll(user, id);
  }

  @Get(':id/runs/:runId')
  @ApiOkResponse({ type: RunDetailResponse })
  @ApiErrors(400, 401, 404)
  @ApiOperation({ summary: 'Get a run with its node runs' })
  get(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Param('runId', UuidPipe) runId: string,
  ): Promise<RunDetailResponse> {
    return this.runs.get(user, id, runId);
  }

  @Get(':id/runs/:runId/download')
  @Header('Content-Disposition', 'attachment; filename=run.json')
  @ApiOkResponse({ type: RunDownload, description: 'The run and its node runs as an attachment (no `success` key).' })
  @ApiErrors(400, 401, 404)
  @ApiOperation({ summary: 'Download a run as JSON' })
  download(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Param('runId', UuidPipe) runId: string,
  ): Promise<RunDownload> {
    return this.runs.download(user, id, runId);
  }

  @Post(':id/runs/:runId/cancel')
  @HttpCode(200)
  @ApiOkResponse({ type: CancelResponse })
  @ApiErrors(400, 401, 404)
  @ApiOperation({ summary: 'Cancel a run' })
  cancel(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Param('runId', UuidPipe) runId: string,
  ): Promise<CancelResponse> {
    return this.runs.cancel(user, id, runId);
  }

  @Post(':id/runs/:runId/rerun')
  @Traced()
  @HttpCode(202)
  @ApiAcceptedResponse({ type: RunEnvelope })
  @ApiTooManyRequestsResponse(RUNAWAY)
  @ApiErrors(400, 401, 404, 415)
  @ApiOperation({ summary: 'Rerun a run' })
  rerun(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Param('runId', UuidPipe) runId: string,
    @Body() dto: RerunDto,
  ): Promise<RunEnvelope> {
    return this.runs.rerun(user, id, runId, dto);
  }

  @Post(':id/runs/:runId/rerun-from-failed')
  @Traced()
  @HttpCode(202)
  @ApiAcceptedResponse({ type: RunEnvelope })
  @ApiTooManyRequestsResponse(RUNAWAY)
  @ApiErrors(400, 401, 404, 415)
  @ApiOperation({ summary: 'Rerun from the failed node' })
  rerunFromFailed(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Param('runId', UuidPipe) runId: string,
    @Body() dto: RerunDto,
  ): Promise<RunEnvelope> {
    return this.runs.rerunFromFailed(user, id, runId, dto);
  }

  @Post(':id/concurrency')
  @HttpCode(200)
  @ApiOkResponse({ type: ConcurrencyResponse })
  @ApiForbiddenResponse({ type: PlanViolationResponse, description: '`concurrency-limit` on the Solo plan.' })
  @ApiErrors(400, 401, 404, 415)
  @ApiOperation({ summary: "Set a workflow's concurrency limit" })
  concurrency(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Body() dto: ConcurrencyDto,
  ): Promise<ConcurrencyResponse> {
    return this.runs.setConcurrency(user, id, dto);
  }

  @Get(':id/dead-letters')
  @ApiOkResponse({ type: DeadLetterPageResponse })
  @ApiErrors(400, 401, 403, 404)
  @ApiOperation({ summary: 'List dead letters' })
  deadLetters(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Query() paging: PagingQuery,
  ): Promise<DeadLetterPageResponse> {
    return this.runs.listDeadLetters(user, id, clampPaging(paging.page, paging.per_page));
  }

  @Delete(':id/dead-letters')
  @ApiOkResponse({ type: DeletedResponse })
  @ApiErrors(400, 401, 403, 404)
  @ApiOperation({ summary: 'Delete all dead letters' })
  clearDeadLetters(@CurrentUser() user: AuthPrincipal, @Param('id', UuidPipe) id: string): Promise<DeletedResponse> {
    return this.runs.clearDeadLetters(user, id);
  }

  @Post(':id/dead-letters/:deadId/requeue')
  @Traced()
  @HttpCode(202)
  @ApiAcceptedResponse({ type: RunEnvelope })
  @ApiErrors(400, 401, 403, 404)
  @ApiOperation({ summary: 'Requeue a dead letter as a new run' })
  requeue(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Param('deadId', UuidPipe) deadId: string,
  ): Promise<RunEnvelope> {
    return this.runs.requeueDeadLetter(user, id, deadId);
  }
}
