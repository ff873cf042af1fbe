import type { HttpRequest as Request } from '../http/http';
import { isUUID } from 'class-validator';
import { AppError, ErrorCode } from '../errors/app-error';
import { API_KEY_PREFIX, Credential, SESSION_COOKIE } from './principal';

/**
 * docs/contract.md §1.1: the Authorization header wins when present (scheme case-insensitive), else the
 * session cookie. Bearer tokens are session ids (UUIDs) or personal API keys (`rl_…`).
 */
export function readCredential(req: Request): Credential {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const match = /^bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new AppError(ErrorCode.Unauthorized, 'Invalid session token');
    const token = match[1];
    if (token.startsWith(API_KEY_PREFIX)) return { kind: 'api_key', token };
    if (!isUUID(token)) throw new AppError(ErrorCode.Unauthorized, 'Invalid session token');
    return { kind: 'session', token: token.toLowerCase(), via: 'bearer' };
  }
  const cookie = req.cookies?.[SESSION_COOKIE];
  if (cookie === undefined) throw new AppError(ErrorCode.Unauthorized, 'Session is required');
  if (!isUUID(cookie)) throw new AppError(ErrorCode.Unauthorized, 'Invalid session token');
  return { kind: 'session', token: cookie.toLowerCase(), via: 'cookie' };
}
