import { Controller, Headers, MessageEvent, Param, Query, Sse } from '@nestjs/common';
import { ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Observable } from 'rxjs';
import { Authenticated, CurrentUser } from '../common/auth/decorators';
import type { AuthPrincipal } from '../common/auth/principal';
import { ApiErrors } from '../common/http/openapi';
import { UuidPipe } from '../common/http/uuid.pipe';
import { WorkspaceQuery } from '../workflows/workflows.dto';
import { RunStreamsService } from './run-streams.service';

const STREAM = { description: 'text/event-stream; `: keepalive` comments every SSE_KEEPALIVE_MS.' };

/**
 * Server-sent event streams (reference §11). Cookie auth works (EventSource sends no headers);
 * access is checked before the stream opens, so an unknown or hidden workflow is a JSON 404.
 */
@ApiTags('events')
@Authenticated()
@Controller('api/workflows')
export class StreamsController {
  constructor(private readonly streams: RunStreamsService) {}

  /** Static segment: registered before the `:id` routes of the runs and workflows modules. */
  @Sse('runs/events')
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ ...STREAM, description: '`status` {"has_running","has_queued"} on change, `tick` {} periodically.' })
  @ApiErrors(401)
  status(@CurrentUser() user: AuthPrincipal): Promise<Observable<MessageEvent>> {
    return this.streams.globalStatus(user);
  }

  @Sse(':id/runs/events-stream')
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ description: '`runs`: the queued and running runs, whenever that list changes.' })
  @ApiErrors(400, 401, 404)
  activeRuns(@CurrentUser() user: AuthPrincipal, @Param('id', UuidPipe) id: string): Promise<Observable<MessageEvent>> {
    return this.streams.activeRuns(user, id);
  }

  @Sse(':id/runs/:runId/events')
  @ApiProduces('text/event-stream')
  @ApiOkResponse({
    description: '`run` and `node_runs` as they change; reconnect with Last-Event-ID to get what was missed.',
  })
  @ApiErrors(400, 401, 404)
  run(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Param('runId', UuidPipe) runId: string,
    @Headers('last-event-id') lastEventId?: string,
  ): Promise<Observable<MessageEvent>> {
    return this.streams.runDetail(user, id, runId, lastEventId);
  }

  @Sse(':id/events')
  @ApiProduces('text/event-stream')
  @ApiOkResponse({
    description: '`workflow` now and on every change; `error` {"error":"workflow_not_found"} and the end when deleted.',
  })
  @ApiErrors(400, 401, 403, 404)
  workflow(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Query() query: WorkspaceQuery,
  ): Promise<Observable<MessageEvent>> {
    return this.streams.workflow(user, id, query.workspace);
  }
}
