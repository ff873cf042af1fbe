import CustomStrategy from 'passport-custom';
import { AuthenticatedRequest, AuthPrincipal } from '../../common/auth/principal';
import { SessionsService } from '../sessions.service';

/**
 * Session strategies: the `dsentr_session` cookie (the web client; unsafe requests also need
 * CSRF) and `Authorization: Bearer <session uuid>` (programs; exempt from CSRF).
 */
export function sessionStrategy(sessions: SessionsService, method: 'cookie' | 'bearer'): CustomStrategy {
  return new CustomStrategy((req, done) => {
    const credential = (req as AuthenticatedRequest).credential!;
    sessions.validate(credential.token).then(
      ({ user, tokenHash, claimsPlan, expiresAt }) =>
        done(null, {
          userId: user.id,
          email: user.email,
          method,
          claimsPlan,
          sessionTokenHash: tokenHash,
          expiresAt,
        } satisfies AuthPrincipal),
      (error: unknown) => done(error),
    );
  });
}
