import type { HttpRequest as Request } from '../http/http';

export type AuthMethod = 'cookie' | 'bearer' | 'api_key';

/** Who is calling, as established by AuthGuard from the session or API key presented. */
export interface AuthPrincipal {
  userId: string;
  email: string;
  method: AuthMethod;
  /** Login-time plan string (docs/contract.md §1.1); plan *tier* is re-read by PlansService. */
  claimsPlan: string;
  /** `users.role` is `admin` (an application admin, not a workspace role), as read with the credential. */
  appAdmin?: boolean;
  /** The session's row key (SHA-256 of its token), for a cookie or bearer session. */
  sessionTokenHash?: string;
  /** The API key's id, for `api_key`. */
  apiKeyId?: string;
  /**
   * When the credential stops working (a session's expiry, an API key's `expires_at`); absent for
   * a key that does not expire. A live stream ends then (SECURITY.md: live streams follow access).
   */
  expiresAt?: Date;
}

export const SESSION_COOKIE = 'dsentr_session';
export const CSRF_COOKIE = 'csrf_token';
export const CSRF_HEADER = 'x-csrf-token';
export const API_KEY_PREFIX = 'rl_';

export type Credential =
  { kind: 'session'; token: string; via: 'cookie' | 'bearer' } | { kind: 'api_key'; token: string };

export type AuthenticatedRequest = Request & { user: AuthPrincipal; credential?: Credential };
