import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiSecurity } from '@nestjs/swagger';
import { AuthenticatedRequest, AuthPrincipal } from './principal';

export const IS_PUBLIC = 'runloom:public';

/** No session needed (signup, login, health, public webhook). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** OpenAPI security for routes behind the global AuthGuard (which applies unless `@Public()`). */
export const Authenticated = () =>
  applyDecorators(ApiCookieAuth('session'), ApiBearerAuth('bearer'), ApiSecurity('csrf'));

export const CurrentUser = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): AuthPrincipal => ctx.switchToHttp().getRequest<AuthenticatedRequest>().user,
);
