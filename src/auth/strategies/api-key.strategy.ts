import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { Strategy } from 'passport-custom';
import { STRATEGY } from '../../common/auth/auth.guard';
import { readCredential } from '../../common/auth/credentials';
import { AuthenticatedRequest, AuthPrincipal } from '../../common/auth/principal';
import { ApiKeysService } from '../api-keys.service';

/** `Authorization: Bearer rl_…`: personal API keys for scripts and integrations. */
@Injectable()
export class ApiKeyStrategy extends PassportStrategy(Strategy, STRATEGY.apiKey) {
  constructor(private readonly keys: ApiKeysService) {
    super();
  }

  async validate(req: Request): Promise<AuthPrincipal> {
    const credential = (req as AuthenticatedRequest).credential ?? readCredential(req);
    const { user, keyId } = await this.keys.validate(credential.token);
    return { userId: user.id, email: user.email, method: 'api_key', claimsPlan: user.plan, apiKeyId: keyId };
  }
}
