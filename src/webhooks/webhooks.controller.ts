import { Body, Controller, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiConsumes,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import { Authenticated, CurrentUser, Public } from '../common/auth/decorators';
import type { AuthPrincipal } from '../common/auth/principal';
import type { RawBodyRequest } from '../common/http/http';
import { Traced } from '../common/tracing/tracing';
import { RawBody } from '../common/http/json-body';
import { ApiErrors, JSON_VALUE } from '../common/http/openapi';
import { SuccessResponse } from '../common/http/dto';
import { UuidPipe } from '../common/http/uuid.pipe';
import {
  WebhookConfigDto,
  WebhookConfigResponse,
  WebhookRegeneratedResponse,
  WebhookRunResponse,
  WebhookUrlResponse,
} from './webhooks.dto';
import { WebhooksService } from './webhooks.service';

const header = (req: RawBodyRequest, name: string) => {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(' ') : value;
};

@ApiTags('webhooks')
@Controller('api/workflows')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Public()
  @RawBody()
  @Traced()
  @Post(':id/trigger/:token')
  @HttpCode(202)
  @ApiOperation({ summary: 'Public webhook trigger (the only webhook trigger of the workflow).' })
  @ApiConsumes('application/json')
  @ApiBody({
    required: false,
    schema: { ...JSON_VALUE, description: 'The trigger payload.', example: { order: { id: 42 } } },
  })
  @ApiAcceptedResponse({ type: WebhookRunResponse })
  @ApiTooManyRequestsResponse({ description: '`{"error":"runaway_protection_triggered"}` or `workspace_run_limit`.' })
  @ApiErrors(400, 401, 403, 404, 413, 415)
  trigger(
    @Param('id', UuidPipe) id: string,
    @Param('token') token: string,
    @Req() req: RawBodyRequest,
  ): Promise<WebhookRunResponse> {
    return this.webhooks.trigger(id, token, undefined, this.request(req));
  }

  @Public()
  @RawBody()
  @Traced()
  @Post(':id/trigger/:token/:label')
  @HttpCode(202)
  @ApiOperation({ summary: 'Public webhook trigger, selecting the webhook trigger node by label (case-insensitive).' })
  @ApiConsumes('application/json')
  @ApiBody({ required: false, schema: { ...JSON_VALUE, description: 'The trigger payload.' } })
  @ApiAcceptedResponse({ type: WebhookRunResponse })
  @ApiErrors(400, 401, 403, 404, 413, 415, 429)
  triggerLabel(
    @Param('id', UuidPipe) id: string,
    @Param('token') token: string,
    @Param('label') label: string,
    @Req() req: RawBodyRequest,
  ): Promise<WebhookRunResponse> {
    return this.webhooks.trigger(id, token, label, this.request(req));
  }

  @Get(':id/webhook-url')
  @Authenticated()
  @ApiOkResponse({ type: WebhookUrlResponse })
  @ApiErrors(400, 401, 404)
  @ApiOperation({ summary: 'Get the webhook URL' })
  url(@CurrentUser() user: AuthPrincipal, @Param('id', UuidPipe) id: string): Promise<WebhookUrlResponse> {
    return this.webhooks.url(user, id);
  }

  @Get(':id/webhook/config')
  @Authenticated()
  @ApiOkResponse({ type: WebhookConfigResponse })
  @ApiErrors(400, 401, 404)
  @ApiOperation({ summary: 'Get the webhook configuration' })
  getConfig(@CurrentUser() user: AuthPrincipal, @Param('id', UuidPipe) id: string): Promise<WebhookConfigResponse> {
    return this.webhooks.getConfig(user, id);
  }

  @Post(':id/webhook/config')
  @HttpCode(200)
  @Authenticated()
  @ApiOkResponse({ type: SuccessResponse })
  @ApiErrors(400, 401, 403, 404, 415)
  @ApiOperation({ summary: 'Set the webhook configuration' })
  setConfig(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Body() dto: WebhookConfigDto,
  ): Promise<{ success: true }> {
    return this.webhooks.setConfig(user, id, dto.require_hmac, dto.replay_window_sec);
  }

  @Post(':id/webhook/regenerate')
  @HttpCode(200)
  @Authenticated()
  @ApiOkResponse({ type: WebhookRegeneratedResponse })
  @ApiErrors(400, 401, 403, 404)
  @ApiOperation({ summary: 'Regenerate the webhook URL' })
  regenerate(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
  ): Promise<WebhookRegeneratedResponse> {
    return this.webhooks.regenerate(user, id);
  }

  @Post(':id/webhook/signing-key/regenerate')
  @HttpCode(200)
  @Authenticated()
  @ApiOkResponse({ type: WebhookRegeneratedResponse })
  @ApiErrors(400, 401, 403, 404)
  @ApiOperation({ summary: 'Regenerate the webhook signing key' })
  regenerateSigningKey(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
  ): Promise<WebhookRegeneratedResponse> {
    return this.webhooks.regenerateSigningKey(user, id);
  }

  private request(req: RawBodyRequest) {
    return {
      timestampHeader: header(req, 'x-dsentr-timestamp'),
      signatureHeader: header(req, 'x-dsentr-signature'),
      rawBody: req.rawBody,
    };
  }
}
