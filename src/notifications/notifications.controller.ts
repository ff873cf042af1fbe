import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentUser } from '../common/auth/decorators';
import type { AuthPrincipal } from '../common/auth/principal';
import { clampPaging, PagingQuery, SuccessResponse } from '../common/http/dto';
import { ApiErrors } from '../common/http/openapi';
import { UuidPipe } from '../common/http/uuid.pipe';
import {
  CreateNotificationDto,
  NotificationDeliveryEnvelope,
  NotificationDeliveryPage,
  NotificationEndpointList,
  NotificationSecretEnvelope,
} from './notifications.dto';
import { NotificationsService } from './notifications.service';

/** docs/contract.md §2.18. */
@ApiTags('notifications')
@Authenticated()
@Controller('api/workflows')
export class NotificationsController {
  constructor(private readonly notifications: NotificationsService) {}

  @Get(':id/notifications')
  @ApiOkResponse({ type: NotificationEndpointList })
  @ApiErrors(400, 401, 403, 404)
  @ApiOperation({ summary: "List a workflow's run-notification endpoints" })
  list(@CurrentUser() user: AuthPrincipal, @Param('id', UuidPipe) id: string): Promise<NotificationEndpointList> {
    return this.notifications.list(user, id);
  }

  @Post(':id/notifications')
  @ApiCreatedResponse({
    type: NotificationSecretEnvelope,
    description: 'The endpoint, with its secret shown this once.',
  })
  @ApiErrors(400, 401, 403, 404, 415)
  @ApiOperation({ summary: 'Add a run-notification endpoint' })
  create(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Body() dto: CreateNotificationDto,
  ): Promise<NotificationSecretEnvelope> {
    return this.notifications.create(user, id, dto);
  }

  @Delete(':id/notifications/:nid')
  @ApiOkResponse({ type: SuccessResponse })
  @ApiErrors(400, 401, 403, 404)
  @ApiOperation({ summary: 'Remove a run-notification endpoint (and its delivery log)' })
  delete(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Param('nid', UuidPipe) nid: string,
  ): Promise<SuccessResponse> {
    return this.notifications.delete(user, id, nid);
  }

  @Post(':id/notifications/:nid/rotate')
  @HttpCode(200)
  @ApiOkResponse({
    type: NotificationSecretEnvelope,
    description: 'A new secret, shown this once; the previous one keeps signing during the overlap.',
  })
  @ApiErrors(400, 401, 403, 404, 409)
  @ApiOperation({ summary: "Rotate an endpoint's signing secret" })
  rotate(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Param('nid', UuidPipe) nid: string,
  ): Promise<NotificationSecretEnvelope> {
    return this.notifications.rotate(user, id, nid);
  }

  @Get(':id/notifications/:nid/deliveries')
  @ApiOkResponse({ type: NotificationDeliveryPage })
  @ApiErrors(400, 401, 403, 404)
  @ApiOperation({ summary: "An endpoint's delivery log (newest first)" })
  deliveries(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Param('nid', UuidPipe) nid: string,
    @Query() paging: PagingQuery,
  ): Promise<NotificationDeliveryPage> {
    return this.notifications.deliveries(user, id, nid, clampPaging(paging.page, paging.per_page));
  }

  @Post(':id/notifications/:nid/deliveries/:did/redeliver')
  @HttpCode(200)
  @ApiOkResponse({ type: NotificationDeliveryEnvelope, description: 'The message, due again now.' })
  @ApiErrors(400, 401, 403, 404)
  @ApiOperation({ summary: 'Send a message again' })
  redeliver(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Param('nid', UuidPipe) nid: string,
    @Param('did', UuidPipe) did: string,
  ): Promise<NotificationDeliveryEnvelope> {
    return this.notifications.redeliver(user, id, nid, did);
  }
}
