import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { HttpRequest as Request } from '../http/http';
import { timingSafeEqual } from 'node:crypto';
import { AppConfig } from '../../config/app-config';
import { AppError, ErrorCode } from '../errors/app-error';
import { CSRF_SAME_SITE } from './decorators';
import { AuthenticatedRequest, CSRF_COOKIE, CSRF_HEADER } from './principal';

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function tokensMatch(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Double-submit CSRF (docs/contract.md §1.2) for unsafe requests authenticated by cookie. Bearer and API
 * key callers are exempt: browsers never attach those cross-site. Runs after AuthGuard, so 401
 * wins over 403.
 */
@Injectable()
export class CsrfGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly config: AppConfig,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (!UNSAFE.has(req.method) || req.user?.method !== 'cookie') return true;
    if (this.reflector.getAllAndOverride<boolean>(CSRF_SAME_SITE, [context.getHandler(), context.getClass()])) {
      assertSameSite(req, this.config.http.corsOrigins);
    } else {
      assertCsrf(req);
    }
    return true;
  }
}

/**
 * For `@CsrfSameSite()` routes: accepts what a browser says comes from this origin (or the user
 * typing it), refuses what it says comes from another site; anything else (`same-site`, or a
 * browser too old to say) is judged by `Origin`, which must be an allowed origin or the server's
 * own host. Requests without either header come from programs.
 */
export function assertSameSite(req: Request, allowedOrigins: string[]): void {
  const site = req.headers['sec-fetch-site'];
  // `same-site` includes sibling subdomains, which get the session cookie: they are judged by Origin.
  if (site === 'same-origin' || site === 'none') return;
  if (site === 'cross-site') throw new AppError(ErrorCode.CsrfFailed);
  const origin = req.headers.origin;
  if (origin === undefined || allowedOrigins.includes(origin)) return;
  const hosts = [req.headers.host, req.headers['x-forwarded-host']].flat().filter(Boolean);
  let host: string | null = null;
  try {
    host = new URL(origin).host;
  } catch {
    // `null` (an opaque origin) or garbage: not the server's own.
  }
  if (!host || !hosts.includes(host)) throw new AppError(ErrorCode.CsrfFailed);
}

/** The double-submit check itself: the header matches the cookie, or 403 `csrf_failed`. */
export function assertCsrf(req: Request): void {
  const header = req.headers[CSRF_HEADER];
  const cookie = req.cookies?.[CSRF_COOKIE];
  if (!tokensMatch(typeof header === 'string' ? header : undefined, cookie)) throw new AppError(ErrorCode.CsrfFailed);
}
