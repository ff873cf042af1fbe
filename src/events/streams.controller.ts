import { Controller, Headers, Param, Query, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { HttpReply, HttpRequest } from '../common/http/http';
import { Authenticated, CurrentUser } from '../common/auth/decorators';
import type { AuthPrincipal } from '../common/auth/principal';
import { ApiErrors } from '../common/http/openapi';
import { UuidPipe } from '../common/http/uuid.pipe';
import { WorkspaceQuery } from '../common/http/dto';
import { Metrics } from '../metrics/metrics';
import { RunStreamsService } from './run-streams.service';
import { SseRoute, writeEvents } from './sse-writer';

/** An event stream's 200: `events` says what it carries; `: keepalive` comments come every SSE_KEEPALIVE_MS. */
const stream = (events: string) => ({
  description: `${events} (\`text/event-stream\`; \`: keepalive\` comments every SSE_KEEPALIVE_MS).`,
  content: { 'text/event-stream': { schema: { type: 'string' } } },
});

/**
 * Server-sent event streams (docs/contract.md §11). Cookie auth works (EventSource sends no headers);
 * access is checked before the stream opens, so an unknown or hidden workflow is a JSON 404. It is
 * followed while the stream is open: a logout, an expired session, a revoked API key or a lost
 * membership ends it with `error` {"error":"access_revoked"} (RunStreamsService.followAccess).
 */
@ApiTags('events')
@Authenticated()
@Controller('api/workflows')
export class StreamsController {
  constructor(
    private readonly streams: RunStreamsService,
    private readonly metrics: Metrics,
  ) {}

  /** Writes the stream and counts it as open until its connection closes. */
  private stream(req: HttpRequest, reply: HttpReply, events: Parameters<typeof writeEvents>[2]): void {
    // The stream writes to the socket itself; the headers set so far (CORS, request id) go with it.
    reply.hijack();
    const res = reply.raw;
    for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) res.setHeader(name, value);
    this.metrics.sseConnections.inc();
    res.once('close', () => this.metrics.sseConnections.dec());
    writeEvents(req.raw, res, events);
  }

  /** Static segment: registered before the `:id` routes of the runs and workflows modules. */
  @SseRoute('runs/events')
  @ApiOkResponse(stream('`status` {"has_running","has_queued"} on change, `tick` {} periodically'))
  @ApiErrors(401)
  @ApiOperation({ summary: 'Stream: whether any run is active (SSE)' })
  async status(@CurrentUser() user: AuthPrincipal, @Req() req: HttpRequest, @Res() res: HttpReply): Promise<void> {
    this.stream(req, res, await this.streams.globalStatus(user));
  }

  @SseRoute(':id/runs/events-stream')
  @ApiOkResponse(stream('`runs`: the queued and running runs, whenever that list changes'))
  @ApiErrors(400, 401, 404)
  @ApiOperation({ summary: "Stream: a workflow's active runs (SSE)" })
  async activeRuns(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Req() req: HttpRequest,
    @Res() res: HttpReply,
  ): Promise<void> {
    this.stream(req, res, await this.streams.activeRuns(user, id));
  }

  @SseRoute(':id/runs/:runId/events')
  @ApiOkResponse(stream('`run` and `node_runs` as they change; reconnect with Last-Event-ID to get what was missed'))
  @ApiErrors(400, 401, 404)
  @ApiOperation({ summary: 'Stream: a run and its node runs (SSE)' })
  async run(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Param('runId', UuidPipe) runId: string,
    @Req() req: HttpRequest,
    @Res() res: HttpReply,
    @Headers('last-event-id') lastEventId?: string,
  ): Promise<void> {
    this.stream(req, res, await this.streams.runDetail(user, id, runId, lastEventId));
  }

  @SseRoute(':id/events')
  @ApiOkResponse(
    stream('`workflow` now and on every change; `error` {"error":"workflow_not_found"} and the end when deleted'),
  )
  @ApiErrors(400, 401, 403, 404)
  @ApiOperation({ summary: "Stream: a workflow's changes (SSE)" })
  async workflow(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Query() query: WorkspaceQuery,
    @Req() req: HttpRequest,
    @Res() res: HttpReply,
  ): Promise<void> {
    this.stream(req, res, await this.streams.workflow(user, id, query.workspace));
  }
}
