import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AuthPrincipal } from '../common/auth/principal';
import { Clock } from '../common/clock';
import { AppError, ErrorCode } from '../common/errors/app-error';
import { EventBus } from '../common/events/event-bus';
import { SuccessResponse } from '../common/http/dto';
import { AppConfig } from '../config/app-config';
import { NOTIFIED_STATUSES, NotificationEndpointEntity } from '../database/entities/notification-endpoint.entity';
import { NotificationRepository } from '../database/repositories/notification.repository';
import { SecretCrypto } from '../secrets/secret-crypto';
import { WorkflowAccess } from '../workflows/workflow-access';
import {
  CreateNotificationDto,
  NotificationDeliveryEnvelope,
  NotificationDeliveryPage,
  NotificationEndpointList,
  NotificationSecretEnvelope,
  toDeliveryResponse,
  toEndpointResponse,
} from './notifications.dto';
import { newSecret } from './standard-webhooks';

const MAX_URL = 2048;

/** Endpoints a workflow may have. */
export const MAX_ENDPOINTS = 10;

/** Binds an endpoint's encrypted secret to the endpoint: a ciphertext copied to another row does not decrypt. */
const aad = (endpointId: string) => `notification-endpoint:${endpointId}`;

/**
 * Run notifications (docs/contract.md §2.18): a workflow's endpoints, their secrets and delivery
 * logs. Everything here is a workflow setting: the creator, admins and the workspace owner
 * (`configure`); others who can see the workflow get 403, anyone else 404.
 */
@Injectable()
export class NotificationsService {
  private readonly crypto: SecretCrypto;
  /** Endpoint rows' signing secrets, decrypted (kept as long as the row object is). */
  private readonly decrypted = new WeakMap<NotificationEndpointEntity, { current: string; previous?: string }>();

  constructor(
    private readonly access: WorkflowAccess,
    private readonly notifications: NotificationRepository,
    private readonly events: EventBus,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {
    this.crypto = new SecretCrypto(config.secrets.encryptionKey);
  }

  async list(caller: AuthPrincipal, workflowId: string): Promise<NotificationEndpointList> {
    await this.access.require(caller, workflowId, 'configure');
    const now = this.clock.now();
    const endpoints = await this.notifications.listEndpoints(workflowId);
    return { success: true, notifications: endpoints.map((e) => toEndpointResponse(e, now)) };
  }

  async create(
    caller: AuthPrincipal,
    workflowId: string,
    dto: CreateNotificationDto,
  ): Promise<NotificationSecretEnvelope> {
    await this.access.require(caller, workflowId, 'configure');
    const url = endpointUrl(dto.url);
    const now = this.clock.now();
    const id = randomUUID();
    const secret = newSecret();
    const endpoint = Object.assign(new NotificationEndpointEntity(), {
      id,
      workflowId,
      url,
      statuses: NOTIFIED_STATUSES.filter((s) => !dto.statuses || dto.statuses.includes(s)),
      secret: this.crypto.encrypt(secret, aad(id)),
      previousSecret: null,
      previousSecretExpiresAt: null,
      createdBy: caller.userId,
      createdAt: now,
      updatedAt: now,
    });
    if (!(await this.notifications.createEndpoint(endpoint, MAX_ENDPOINTS))) {
      throw new AppError(ErrorCode.InvalidRequest, `A workflow has at most ${MAX_ENDPOINTS} notification endpoints`);
    }
    this.events.emit('notification.endpoints_changed', { workflowId });
    return { success: true, notification: toEndpointResponse(endpoint, now), secret };
  }

  async delete(caller: AuthPrincipal, workflowId: string, endpointId: string): Promise<SuccessResponse> {
    await this.access.require(caller, workflowId, 'configure');
    if (!(await this.notifications.deleteEndpoint(workflowId, endpointId))) throw endpointNotFound();
    this.events.emit('notification.endpoints_changed', { workflowId });
    return { success: true };
  }

  /** A new secret, shown once; the old one keeps signing (both signatures sent) for the overlap. */
  async rotate(caller: AuthPrincipal, workflowId: string, endpointId: string): Promise<NotificationSecretEnvelope> {
    await this.access.require(caller, workflowId, 'configure');
    const endpoint = await this.notifications.findEndpoint(workflowId, endpointId);
    if (!endpoint) throw endpointNotFound();
    const now = this.clock.now();
    const secret = newSecret();
    const rotated = await this.notifications.rotate(
      endpoint,
      this.crypto.encrypt(secret, aad(endpoint.id)),
      new Date(now.getTime() + this.config.notifications.secretOverlapMs),
      now,
    );
    // Another rotation or a delete came first: this one changed nothing, so it shows no secret.
    if (!rotated) throw new AppError(ErrorCode.Conflict, 'The endpoint changed meanwhile; reload and try again');
    this.events.emit('notification.endpoints_changed', { workflowId });
    return { success: true, notification: toEndpointResponse(rotated, now), secret };
  }

  async deliveries(
    caller: AuthPrincipal,
    workflowId: string,
    endpointId: string,
    paging: { page: number; perPage: number },
  ): Promise<NotificationDeliveryPage> {
    await this.access.require(caller, workflowId, 'configure');
    if (!(await this.notifications.findEndpoint(workflowId, endpointId))) throw endpointNotFound();
    const { deliveries, total } = await this.notifications.pageDeliveries(endpointId, paging.page, paging.perPage);
    return {
      success: true,
      deliveries: deliveries.map(toDeliveryResponse),
      page: paging.page,
      per_page: paging.perPage,
      total,
    };
  }

  /** Sends a message again now (one attempt; it stays in the log with every earlier one). */
  async redeliver(
    caller: AuthPrincipal,
    workflowId: string,
    endpointId: string,
    deliveryId: string,
  ): Promise<NotificationDeliveryEnvelope> {
    await this.access.require(caller, workflowId, 'configure');
    if (!(await this.notifications.findEndpoint(workflowId, endpointId))) throw endpointNotFound();
    const delivery = await this.notifications.redeliver(endpointId, deliveryId, this.clock.now());
    if (!delivery) throw new AppError(ErrorCode.NotFound, 'Delivery not found');
    this.events.emit('notification.queued', { workflowId });
    return { success: true, delivery: toDeliveryResponse(delivery) };
  }

  /**
   * The secrets that sign a message now: the current one, then the previous one during the overlap.
   * Decrypted once per endpoint row read (the dispatcher keeps a row for a few seconds).
   */
  signingSecrets(endpoint: NotificationEndpointEntity, now: Date): string[] {
    let keys = this.decrypted.get(endpoint);
    if (!keys)
      this.decrypted.set(endpoint, (keys = { current: this.crypto.decrypt(endpoint.secret, aad(endpoint.id)) }));
    if (endpoint.previousSecret && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > now) {
      keys.previous ??= this.crypto.decrypt(endpoint.previousSecret, aad(endpoint.id));
      return [keys.current, keys.previous];
    }
    return [keys.current];
  }
}

const endpointNotFound = () => new AppError(ErrorCode.NotFound, 'Notification endpoint not found');

/** An absolute http(s) URL without credentials (they would be logged with it); 400 otherwise. */
function endpointUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new AppError(ErrorCode.InvalidRequest, 'url must be an absolute http(s) URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new AppError(ErrorCode.InvalidRequest, 'url must be an absolute http(s) URL');
  }
  if (url.username || url.password) {
    throw new AppError(ErrorCode.InvalidRequest, 'url must not carry credentials; verify the signature instead');
  }
  // As stored: percent-encoding and punycode can make it longer than what was sent.
  if (url.href.length > MAX_URL)
    throw new AppError(ErrorCode.InvalidRequest, `url must be at most ${MAX_URL} characters`);
  return url.href;
}
