import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { Strategy } from 'passport-custom';
import { STRATEGY } from '../../common/auth/auth.guard';
import { readCredential } from '../../common/auth/credentials';
import { AuthenticatedRequest, AuthPrincipal } from '../../common/auth/principal';
import { SessionsService } from '../sessions.service';

async function sessionPrincipal(sessions: SessionsService, req: Request, method: 'cookie' | 'bearer'): Promise<AuthPrincipal> {
  const credential = (req as AuthenticatedRequest).credential ?? readCredential(req);
  const { user, tokenHash, claimsPlan } = await sessions.validate(credential.token);
  return { userId: user.id, email: user.email, method, claimsPlan, sessionTokenHash: tokenHash };
}

/** `dsentr_session` cookie: the web client. Unsafe requests also need CSRF (CsrfGuard). */
@Injectable()
export class SessionCookieStrategy extends PassportStrategy(Strategy, STRATEGY.sessionCookie) {
  constructor(private readonly sessions: SessionsService) {
    super();
  }

  validate(req: Request): Promise<AuthPrincipal> {
    return sessionPrincipal(this.sessions, req, 'cookie');
  }
}

/** `Authorization: Bearer <session uuid>`: programs holding a session; exempt from CSRF. */
@Injectable()
export class BearerSessionStrategy extends PassportStrategy(Strategy, STRATEGY.bearerSession) {
  constructor(private readonly sessions: SessionsService) {
    super();
  }

  validate(req: Request): Promise<AuthPrincipal> {
    return sessionPrincipal(this.sessions, req, 'bearer');
  }
}
