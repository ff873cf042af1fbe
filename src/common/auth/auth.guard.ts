import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard as PassportGuard, IAuthGuard } from '@nestjs/passport';
import { readCredential } from './credentials';
import { IS_PUBLIC } from './decorators';
import { AuthenticatedRequest } from './principal';

/** Passport strategy names, implemented in the auth module. */
export const STRATEGY = {
  sessionCookie: 'session-cookie',
  bearerSession: 'bearer-session',
  apiKey: 'api-key',
} as const;

/**
 * Global guard: every route needs a caller unless marked `@Public()`. It reads which credential
 * was presented and hands the request to exactly that passport strategy, so each failure keeps
 * its own message ("Session is required", "Invalid session token", "Session expired").
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly strategies: Record<string, IAuthGuard> = {
    [STRATEGY.sessionCookie]: new (PassportGuard(STRATEGY.sessionCookie))(),
    [STRATEGY.bearerSession]: new (PassportGuard(STRATEGY.bearerSession))(),
    [STRATEGY.apiKey]: new (PassportGuard(STRATEGY.apiKey))(),
  };

  constructor(private readonly reflector: Reflector) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const credential = readCredential(req);
    req.credential = credential;
    const name =
      credential.kind === 'api_key'
        ? STRATEGY.apiKey
        : credential.via === 'bearer'
          ? STRATEGY.bearerSession
          : STRATEGY.sessionCookie;
    return (await this.strategies[name].canActivate(context)) as boolean;
  }
}
