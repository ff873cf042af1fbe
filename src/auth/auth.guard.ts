import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { readCredential } from '../common/auth/credentials';
import { IS_PUBLIC } from '../common/auth/decorators';
import { AuthenticatedRequest, AuthPrincipal, Credential } from '../common/auth/principal';
import { ApiKeysService } from './api-keys.service';
import { SessionsService } from './sessions.service';

/**
 * Global guard: every route needs a caller unless marked `@Public()`. It reads which credential
 * was presented and checks exactly that one, so each failure keeps its own message ("Session is
 * required", "Invalid session token", "Session expired", "Invalid API key").
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly sessions: SessionsService,
    private readonly apiKeys: ApiKeysService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const credential = readCredential(req);
    req.credential = credential;
    req.user = await this.principal(credential);
    return true;
  }

  private async principal(credential: Credential): Promise<AuthPrincipal> {
    if (credential.kind === 'api_key') {
      const { user, keyId, expiresAt } = await this.apiKeys.validate(credential.token);
      return {
        userId: user.id,
        email: user.email,
        method: 'api_key',
        claimsPlan: user.plan,
        appAdmin: user.role === 'admin',
        apiKeyId: keyId,
        ...(expiresAt ? { expiresAt } : {}),
      };
    }
    // A cookie session also needs CSRF on unsafe requests (CsrfGuard); a bearer session does not.
    const { user, tokenHash, claimsPlan, expiresAt } = await this.sessions.validate(credential.token);
    return {
      userId: user.id,
      email: user.email,
      method: credential.via,
      claimsPlan,
      appAdmin: user.role === 'admin',
      sessionTokenHash: tokenHash,
      expiresAt,
    };
  }
}
