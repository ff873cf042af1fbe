import { Injectable } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import { Clock } from '../common/clock';
import { API_KEY_PREFIX, AuthPrincipal } from '../common/auth/principal';
import { AppError, ErrorCode } from '../common/errors/app-error';
import { EventBus } from '../common/events/event-bus';
import { UserEntity } from '../database/entities/user.entity';
import { ApiKeyRepository } from '../database/repositories/api-key.repository';
import { ApiKeyCreatedResponse, ApiKeyListResponse, CreateApiKeyDto, toApiKeyResponse } from './auth.dto';
import { sha256 } from './sessions.service';

/** last_used_at is informational; writing it at most once a minute keeps reads read-only. */
const TOUCH_INTERVAL_MS = 60_000;

@Injectable()
export class ApiKeysService {
  constructor(
    private readonly keys: ApiKeyRepository,
    private readonly clock: Clock,
    private readonly events: EventBus,
  ) {}

  async create(caller: AuthPrincipal, dto: CreateApiKeyDto): Promise<ApiKeyCreatedResponse> {
    if (dto.expires_at && dto.expires_at.getTime() <= this.clock.now().getTime()) {
      throw new AppError(ErrorCode.InvalidRequest, 'Invalid request: expires_at must be in the future');
    }
    const token = API_KEY_PREFIX + randomBytes(32).toString('base64url');
    const key = await this.keys.create({
      id: randomUUID(),
      userId: caller.userId,
      name: dto.name.trim(),
      prefix: token.slice(0, 11),
      keyHash: sha256(token),
      expiresAt: dto.expires_at ?? null,
    });
    return { success: true, api_key: toApiKeyResponse(key), token };
  }

  async list(caller: AuthPrincipal): Promise<ApiKeyListResponse> {
    const keys = await this.keys.listActiveForUser(caller.userId);
    return { success: true, api_keys: keys.map(toApiKeyResponse) };
  }

  /**
   * Revokes every key of the user (a password reset or change: whoever took over the account may
   * have made one); their live streams end too. Returns how many.
   */
  async revokeAllForUser(userId: string): Promise<number> {
    const now = this.clock.now();
    let revoked = 0;
    for (const key of await this.keys.listActiveForUser(userId)) {
      if (!(await this.keys.revoke(userId, key.id, now))) continue;
      revoked += 1;
      this.events.emit('auth.credential_revoked', { userId, apiKeyId: key.id, reason: 'revoked' });
    }
    return revoked;
  }

  /** Every live stream opened with the key ends too (`auth.credential_revoked`). */
  async revoke(caller: AuthPrincipal, id: string): Promise<{ success: true }> {
    if (!(await this.keys.revoke(caller.userId, id, this.clock.now()))) {
      throw new AppError(ErrorCode.NotFound, 'API key not found');
    }
    this.events.emit('auth.credential_revoked', { userId: caller.userId, apiKeyId: id, reason: 'revoked' });
    return { success: true };
  }

  async validate(token: string): Promise<{ user: UserEntity; keyId: string; expiresAt: Date | null }> {
    const found = await this.keys.findActiveByHash(sha256(token));
    const now = this.clock.now();
    if (!found || (found.key.expiresAt && found.key.expiresAt.getTime() <= now.getTime())) {
      throw new AppError(ErrorCode.Unauthorized, 'Invalid API key');
    }
    if (!found.key.lastUsedAt || now.getTime() - found.key.lastUsedAt.getTime() > TOUCH_INTERVAL_MS) {
      await this.keys.touch(found.key.id, now);
    }
    return { user: found.user, keyId: found.key.id, expiresAt: found.key.expiresAt };
  }
}
