import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { timingSafeEqual } from 'node:crypto';
import { AppError, ErrorCode } from '../errors/app-error';
import { AuthenticatedRequest, CSRF_COOKIE, CSRF_HEADER } from './principal';

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function tokensMatch(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Double-submit CSRF (reference §1.2) for unsafe requests authenticated by cookie. Bearer and API
 * key callers are exempt: browsers never attach those cross-site. Runs after AuthGuard, so 401
 * wins over 403.
 */
@Injectable()
export class CsrfGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (!UNSAFE.has(req.method) || req.user?.method !== 'cookie') return true;
    assertCsrf(req);
    return true;
  }
}

/** The double-submit check itself: the header matches the cookie, or 403 `csrf_failed`. */
export function assertCsrf(req: Request): void {
  const header = req.headers[CSRF_HEADER];
  const cookie = (req.cookies as Record<string, string> | undefined)?.[CSRF_COOKIE];
  if (!tokensMatch(typeof header === 'string' ? header : undefined, cookie)) throw new AppError(ErrorCode.CsrfFailed);
}
