import { applyDecorators, CanActivate, ExecutionContext, Injectable, UseGuards } from '@nestjs/common';
import { AppError, ErrorCode } from '../errors/app-error';
import { Authenticated } from './decorators';
import { AuthenticatedRequest } from './principal';

/**
 * Application admins: accounts whose `users.role` is `admin` (the `user.role` the client reads to
 * show its admin-only settings), as opposed to a workspace role. AuthGuard reads the role with the
 * session or API key on every request, so taking it away (`npm run cli -- user role --email E --role user`)
 * works at once. Runs after the global guards: a missing session is 401 and a missing CSRF token 403
 * before this is asked.
 */
@Injectable()
export class AppAdminGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const caller = context.switchToHttp().getRequest<AuthenticatedRequest>().user;
    if (caller?.appAdmin !== true) throw new AppError(ErrorCode.Forbidden, 'Access denied. Admins only.');
    return true;
  }
}

/** Routes for application admins only (403 `Access denied. Admins only.` for everyone else). */
export const AppAdmin = () => applyDecorators(Authenticated(), UseGuards(AppAdminGuard));
