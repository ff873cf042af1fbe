import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Response } from 'express';
import { CredentialVerifier, STRATEGY } from './credential-verifier';
import { readCredential } from './credentials';
import { IS_PUBLIC } from './decorators';
import { AuthenticatedRequest } from './principal';

/**
 * Global guard: every route needs a caller unless marked `@Public()`. It reads which credential
 * was presented and hands the request to exactly that strategy, so each failure keeps its own
 * message ("Session is required", "Invalid session token", "Session expired", "Invalid API key").
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: CredentialVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    const http = context.switchToHttp();
    const req = http.getRequest<AuthenticatedRequest>();
    const credential = readCredential(req);
    req.credential = credential;
    const name =
      credential.kind === 'api_key'
        ? STRATEGY.apiKey
        : credential.via === 'bearer'
          ? STRATEGY.bearerSession
          : STRATEGY.sessionCookie;
    req.user = await this.verifier.verify(name, req, http.getResponse<Response>());
    return true;
  }
}
