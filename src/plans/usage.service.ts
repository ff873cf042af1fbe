import { Injectable } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Clock, toRfc3339 } from '../common/clock';
import type { AuthPrincipal } from '../common/auth/principal';
import { AppError, ErrorCode } from '../common/errors/app-error';
import { AppConfig } from '../config/app-config';
import { RunRepository } from '../database/repositories/run.repository';
import { RunUsageRepository } from '../database/repositories/run-usage.repository';
import { WorkflowRepository } from '../database/repositories/workflow.repository';
import { WorkspaceRepository } from '../database/repositories/workspace.repository';
import { SOLO_WORKFLOW_LIMIT } from './plan-assessment';
import { PlansService } from './plans.service';
import { periodStart } from './run-quota.service';

export class RunUsage {
  @ApiProperty({ example: 12 }) used: number;
  @ApiProperty({ format: 'date-time', example: '2026-11-01T00:00:00Z' }) period_start: string;
  @ApiPropertyOptional({ example: 250, description: 'Absent when the plan sets no limit.' }) limit?: number;
}

export class WorkflowUsage {
  @ApiProperty({ example: 2 }) total: number;
  @ApiPropertyOptional({ example: 3, description: 'Solo plan only.' }) limit?: number;
  @ApiPropertyOptional({ example: 0, description: 'Solo plan only: personal workflows beyond the limit.' })
  hidden?: number;
}

export class WorkspaceRunUsage {
  @ApiProperty({ example: 40 }) used: number;
  @ApiPropertyOptional({ example: 10000, description: 'Absent when plan limits are off.' }) limit?: number;
  @ApiProperty({ example: 0 }) overage: number;
  @ApiProperty({ format: 'date-time', example: '2026-11-01T00:00:00Z' }) period_start: string;
}

export class MemberCount {
  @ApiProperty({ example: 3 }) used: number;
  @ApiPropertyOptional({ example: 8, description: 'Absent when plan limits are off.' }) limit?: number;
}

export class MemberUsage {
  @ApiProperty({ format: 'uuid' }) user_id: string;
  @ApiProperty({ example: 40 }) runs: number;
  @ApiPropertyOptional({ example: 'Ada', description: 'Absent for someone who is no longer a member.' })
  first_name?: string;
  @ApiPropertyOptional({ example: 'Lovelace' }) last_name?: string;
  @ApiPropertyOptional({ example: 'ada@example.com' }) email?: string;
}

export class WorkspaceUsage {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: ['solo', 'workspace'] }) plan: 'solo' | 'workspace';
  @ApiPropertyOptional({ type: WorkspaceRunUsage, description: 'Workspace plan only.' }) runs?: WorkspaceRunUsage;
  @ApiPropertyOptional({ type: MemberCount, description: 'Workspace plan only.' }) members?: MemberCount;
  @ApiPropertyOptional({ type: [MemberUsage], description: 'Workspace plan only.' }) member_usage?: MemberUsage[];
}

export class UsageResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ enum: ['solo', 'workspace'] }) plan: 'solo' | 'workspace';
  @ApiProperty({ type: RunUsage }) runs: { used: number; period_start: string; limit?: number };
  @ApiProperty({ type: WorkflowUsage }) workflows: {
    total: number;
    limit?: number;
    hidden?: number;
  };
  @ApiProperty({
    type: WorkspaceUsage,
    required: false,
    description: 'With `?workspace=`: that workspace.',
    example: {
      id: '6f1c1b9e-3f7a-4d33-9c55-1b0e2f0a9a10',
      plan: 'workspace',
      runs: { used: 40, limit: 10000, overage: 0, period_start: '2026-11-01T00:00:00Z' },
      members: { used: 3, limit: 8 },
      member_usage: [{ user_id: '…', runs: 40, first_name: 'Ada', last_name: 'Lovelace', email: 'ada@example.com' }],
    },
  })
  workspace?: Record<string, unknown>;
}

/** `GET /api/workflows/usage` (docs/contract.md §2.15). */
@Injectable()
export class UsageService {
  constructor(
    private readonly plans: PlansService,
    private readonly runs: RunRepository,
    private readonly usage: RunUsageRepository,
    private readonly workflows: WorkflowRepository,
    private readonly workspaces: WorkspaceRepository,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  async usageFor(caller: AuthPrincipal, workspaceId?: string): Promise<UsageResponse> {
    const now = this.clock.now();
    const start = periodStart(now);
    const tier = await this.plans.resolvePlanTier(caller.userId, caller.claimsPlan);
    const used = await this.runs.countCreatedSince({ userId: caller.userId }, start);
    const owned = await this.workflows.listCreatedBy(caller.userId);
    const personal = owned.filter((w) => w.workspaceId === null).length;
    const body: UsageResponse = {
      success: true,
      plan: tier,
      runs: {
        used,
        period_start: toRfc3339(start)!,
        ...(tier === 'solo' ? { limit: this.config.runs.soloMonthlyLimit } : {}),
      },
      workflows: {
        total: owned.length,
        ...(tier === 'solo' ? { limit: SOLO_WORKFLOW_LIMIT, hidden: Math.max(0, personal - SOLO_WORKFLOW_LIMIT) } : {}),
      },
    };
    if (!workspaceId) return body;

    const membership = await this.workspaces.findMembership(workspaceId, caller.userId);
    if (!membership)
      throw new AppError(
        ErrorCode.Forbidden,
        'You are not a member of this workspace; switch workspaces to view its usage',
      );
    // docs/contract.md §8: a solo-plan workspace gets the personal usage above, never a 403.
    if (this.plans.workspaceTier(membership.workspace) !== 'workspace') {
      return { ...body, workspace: { id: workspaceId, plan: 'solo' } };
    }
    // The allowance is the owner's, shared by all of their workspace-plan workspaces (docs/contract.md §8).
    const counter = await this.usage.find(membership.workspace.ownerId, start.toISOString());
    const members = await this.workspaces.listMembers(workspaceId);
    const byOwner = new Map((await this.runs.countByOwnerSince(workspaceId, start)).map((r) => [r.userId, r.runs]));
    const memberUsage: Record<string, unknown>[] = members.map(({ member, user }) => ({
      user_id: member.userId,
      runs: byOwner.get(member.userId) ?? 0,
      first_name: user.firstName,
      last_name: user.lastName,
      email: user.email,
    }));
    for (const [userId, runs] of byOwner) {
      if (!members.some((m) => m.member.userId === userId)) memberUsage.push({ user_id: userId, runs });
    }
    return {
      ...body,
      workspace: {
        id: workspaceId,
        plan: 'workspace',
        // Without plan limits no tickets are taken and there is no allowance: the workspace's own count.
        runs: {
          used: this.plans.limitsOff
            ? await this.runs.countCreatedSince({ workspaceId }, start)
            : (counter?.runCount ?? 0),
          ...(this.plans.limitsOff ? {} : { limit: this.config.workspaces.monthlyRunLimit }),
          overage: counter?.overageCount ?? 0,
          period_start: toRfc3339(start),
        },
        members: {
          used: members.length,
          ...(this.plans.limitsOff ? {} : { limit: this.config.workspaces.memberLimit }),
        },
        member_usage: memberUsage,
      },
    };
  }
}
