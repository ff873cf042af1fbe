import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { isUUID } from 'class-validator';
import { AuthenticatedRequest } from '../common/auth/principal';
import { AppError, ErrorCode } from '../common/errors/app-error';
import { WorkspaceRepository } from '../database/repositories/workspace.repository';
import { PlansService } from './plans.service';
import { PlanRequirement, REQUIRES_PLAN } from './requires-plan.decorator';

/**
 * Global guard that does nothing unless the route carries `@RequiresPlan()`. Non-members and
 * malformed ids pass through so the handler answers its own 400/404 without revealing the plan.
 */
@Injectable()
export class PlanGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly workspaces: WorkspaceRepository,
    private readonly plans: PlansService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const requirement = this.reflector.getAllAndOverride<PlanRequirement | undefined>(REQUIRES_PLAN, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!requirement || context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const workspaceId = (req.params as Record<string, string | undefined>)[requirement.workspaceParam];
    if (!req.user || typeof workspaceId !== 'string' || !isUUID(workspaceId)) return true;
    const membership = await this.workspaces.findMembership(workspaceId.toLowerCase(), req.user.userId);
    if (!membership) return true;
    if (this.plans.workspaceTier(membership.workspace) !== requirement.tier) {
      throw new AppError(ErrorCode.WorkspacePlanRequired, requirement.message);
    }
    return true;
  }
}
