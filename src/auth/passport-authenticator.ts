import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Authenticator } from 'passport';
import { CredentialVerifier, STRATEGY, StrategyName } from '../common/auth/credential-verifier';
import { AuthPrincipal } from '../common/auth/principal';
import { AppError, ErrorCode } from '../common/errors/app-error';
import { ApiKeysService } from './api-keys.service';
import { SessionsService } from './sessions.service';
import { apiKeyStrategy } from './strategies/api-key.strategy';
import { sessionStrategy } from './strategies/session.strategy';

/**
 * The passport strategies, registered on an Authenticator owned by this application rather than
 * passport's process-wide singleton: two apps in one process (tests, a CLI) must not swap each
 * other's strategies.
 */
@Injectable()
export class PassportAuthenticator extends CredentialVerifier {
  private readonly passport = new Authenticator();

  constructor(sessions: SessionsService, apiKeys: ApiKeysService) {
    super();
    this.passport.use(STRATEGY.sessionCookie, sessionStrategy(sessions, 'cookie'));
    this.passport.use(STRATEGY.bearerSession, sessionStrategy(sessions, 'bearer'));
    this.passport.use(STRATEGY.apiKey, apiKeyStrategy(apiKeys));
  }

  verify(strategy: StrategyName, req: Request, res: Response): Promise<AuthPrincipal> {
    return new Promise((resolve, reject) => {
      const handler = this.passport.authenticate(
        strategy,
        { session: false },
        (error: unknown, user: AuthPrincipal | false) => {
          if (error) return reject(error);
          if (!user) return reject(new AppError(ErrorCode.Unauthorized));
          resolve(user);
        },
      );
      handler(req, res, reject);
    });
  }
}
