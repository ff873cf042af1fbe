import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiSecurity } from '@nestjs/swagger';
import { AuthenticatedRequest, AuthPrincipal } from './principal';

export const IS_PUBLIC = 'runloom:public';

/** No session needed (signup, login, health, public webhook). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

export const CSRF_SAME_SITE = 'runloom:csrf-same-site';

/**
 * For the few cookie-authenticated writes the web client sends without `x-csrf-token` (accepting
 * or declining an invitation): instead of the double submit, CsrfGuard refuses a request a browser
 * marks as coming from another site. Such routes must take a JSON body, which no cross-site form can send.
 */
export const CsrfSameSite = () => SetMetadata(CSRF_SAME_SITE, true);

/** OpenAPI security for routes behind the global AuthGuard (which applies unless `@Public()`). */
export const Authenticated = () =>
  applyDecorators(ApiCookieAuth('session'), ApiBearerAuth('bearer'), ApiSecurity('csrf'));

export const CurrentUser = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): AuthPrincipal => ctx.switchToHttp().getRequest<AuthenticatedRequest>().user,
);
