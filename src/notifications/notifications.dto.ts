import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsIn, IsOptional, IsString } from 'class-validator';
import { MaxChars } from '../common/http/max-chars';
import { toRfc3339 } from '../common/clock';
import {
  DeliveryAttempt,
  DELIVERY_STATUSES,
  NotificationDeliveryEntity,
} from '../database/entities/notification-delivery.entity';
import {
  NOTIFIED_STATUSES,
  NotificationEndpointEntity,
  NotifiedStatus,
} from '../database/entities/notification-endpoint.entity';
import { messageId } from './standard-webhooks';

export class CreateNotificationDto {
  @ApiProperty({ example: 'https://hooks.example.com/runloom', maxLength: 2048 })
  @IsString()
  @MaxChars(2048)
  url: string;

  @ApiProperty({
    required: false,
    enum: NOTIFIED_STATUSES,
    isArray: true,
    description: 'The run statuses announced; all three when absent.',
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(NOTIFIED_STATUSES.length)
  @ArrayUnique()
  @IsIn(NOTIFIED_STATUSES, { each: true, message: 'statuses must be succeeded, failed, canceled or expired' })
  statuses?: NotifiedStatus[];
}

export class NotificationEndpointResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) workflow_id: string;
  @ApiProperty() url: string;
  @ApiProperty({ enum: NOTIFIED_STATUSES, isArray: true }) statuses: NotifiedStatus[];
  @ApiProperty({
    format: 'date-time',
    nullable: true,
    type: String,
    description: 'After a rotation: until when the previous secret still signs (both signatures are sent).',
  })
  previous_secret_expires_at: string | null;
  @ApiProperty({ format: 'uuid' }) created_by: string;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time' }) updated_at: string;
}

export function toEndpointResponse(e: NotificationEndpointEntity, now: Date): NotificationEndpointResponse {
  const overlap = e.previousSecretExpiresAt && e.previousSecretExpiresAt > now ? e.previousSecretExpiresAt : null;
  return {
    id: e.id,
    workflow_id: e.workflowId,
    url: e.url,
    statuses: e.statuses,
    previous_secret_expires_at: toRfc3339(overlap),
    created_by: e.createdBy,
    created_at: toRfc3339(e.createdAt)!,
    updated_at: toRfc3339(e.updatedAt)!,
  };
}

export class NotificationEndpointList {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: [NotificationEndpointResponse] }) notifications: NotificationEndpointResponse[];
}

export class NotificationSecretEnvelope {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: NotificationEndpointResponse }) notification: NotificationEndpointResponse;
  @ApiProperty({
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    description: 'The signing secret, shown this once: store it now.',
  })
  secret: string;
}

export class DeliveryAttemptResponse {
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ nullable: true, type: Number }) status_code: number | null;
  @ApiProperty({ nullable: true, type: String }) error: string | null;
  @ApiProperty() duration_ms: number;
}

export class NotificationDeliveryResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({
    example: 'msg_2b9c6f4e0c1d4c8e9a7b1f3e5d6c7b8a',
    description: 'The `webhook-id` header it is sent with.',
  })
  message_id: string;
  @ApiProperty({ format: 'uuid' }) run_id: string;
  @ApiProperty({ example: 'run.failed' }) event: string;
  @ApiProperty({ enum: DELIVERY_STATUSES }) status: string;
  @ApiProperty() attempts: number;
  @ApiProperty({
    format: 'date-time',
    nullable: true,
    type: String,
    description: 'When it is tried next (pending only).',
  })
  next_attempt_at: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) delivered_at: string | null;
  @ApiProperty({ type: [DeliveryAttemptResponse], description: 'The last 20 attempts, oldest first.' })
  log: DeliveryAttempt[];
  @ApiProperty({ description: 'The body sent (JSON text), as the endpoint receives it.' }) payload: string;
  @ApiProperty({ format: 'date-time' }) created_at: string;
}

export function toDeliveryResponse(d: NotificationDeliveryEntity): NotificationDeliveryResponse {
  return {
    id: d.id,
    message_id: messageId(d.id),
    run_id: d.runId,
    event: d.event,
    status: d.status,
    attempts: d.attempts,
    next_attempt_at: d.status === 'pending' ? toRfc3339(d.nextAttemptAt) : null,
    delivered_at: toRfc3339(d.deliveredAt),
    log: d.log,
    payload: d.payload,
    created_at: toRfc3339(d.createdAt)!,
  };
}

export class NotificationDeliveryPage {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: [NotificationDeliveryResponse], description: 'Newest first.' })
  deliveries: NotificationDeliveryResponse[];
  @ApiProperty() page: number;
  @ApiProperty() per_page: number;
  @ApiProperty() total: number;
}

export class NotificationDeliveryEnvelope {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: NotificationDeliveryResponse }) delivery: NotificationDeliveryResponse;
}
