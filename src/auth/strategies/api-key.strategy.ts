import CustomStrategy from 'passport-custom';
import { AuthenticatedRequest, AuthPrincipal } from '../../common/auth/principal';
import { ApiKeysService } from '../api-keys.service';

/** `Authorization: Bearer rl_…`: personal API keys for scripts and integrations. */
export function apiKeyStrategy(keys: ApiKeysService): CustomStrategy {
  return new CustomStrategy((req, done) => {
    const credential = (req as AuthenticatedRequest).credential!;
    keys.validate(credential.token).then(
      ({ user, keyId, expiresAt }) =>
        done(null, {
          userId: user.id,
          email: user.email,
          method: 'api_key',
          claimsPlan: user.plan,
          apiKeyId: keyId,
          ...(expiresAt ? { expiresAt } : {}),
        } satisfies AuthPrincipal),
      (error: unknown) => done(error),
    );
  });
}
