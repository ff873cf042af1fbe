import { Injectable } from '@nestjs/common';
import { PlanViolationError } from '../common/errors/app-error';
import { AppConfig } from '../config/app-config';
import { WorkflowScheduleEntity } from '../database/entities/workflow-schedule.entity';
import { ScheduleRepository } from '../database/repositories/schedule.repository';
import { SaveSideEffects } from '../database/repositories/workflow.repository';
import { computeNextRun, findScheduleTrigger, parseScheduleConfig, tooFrequent } from '../engine/schedule-math';

/**
 * Schedule sync on save (docs/contract.md §10.2): one schedule per workflow, from its first schedule
 * trigger. Returns what the save should write; the workflow repository writes it in the same
 * transaction as the workflow, so a rejected save leaves the schedule as it was.
 */
@Injectable()
export class ScheduleSync {
  constructor(
    private readonly schedules: ScheduleRepository,
    private readonly config: AppConfig,
  ) {}

  existing(workflowId: string): Promise<WorkflowScheduleEntity | null> {
    return this.schedules.findForWorkflow(workflowId);
  }

  /**
   * `null` = the workflow has no schedule trigger (any stored schedule is removed). A schedule that
   * would fire more often than SCHEDULE_MIN_INTERVAL_SECONDS refuses the save: 403 violation
   * `schedule-interval` naming the trigger (a per-second cron would otherwise run 86,400 times a day).
   */
  async scheduleFor(
    graph: unknown,
    owner: { ownerId: string; workspaceId: string | null },
    existing: WorkflowScheduleEntity | null,
    now: Date,
  ): Promise<SaveSideEffects['schedule']> {
    const trigger = findScheduleTrigger(graph);
    if (!trigger) return null;
    const base = { userId: owner.ownerId, workspaceId: owner.workspaceId, triggerNodeId: trigger.nodeId };
    const rawConfig = isObject(trigger.rawConfig) ? trigger.rawConfig : null;
    const parsed = parseScheduleConfig(trigger.rawConfig);
    if ('error' in parsed) {
      return { ...base, config: rawConfig, nextRunAt: null, enabled: false, lastError: parsed.error };
    }
    const tooOften = tooFrequent(parsed.config, this.config.scheduler.minIntervalMs, trigger.label);
    if (tooOften) {
      throw new PlanViolationError([{ code: 'schedule-interval', message: tooOften, nodeLabel: trigger.label }]);
    }
    // The cadence stays anchored on the schedule's own start, so re-saving does not shift it.
    const next = computeNextRun(parsed.config, existing?.lastRunAt ?? null, now);
    return {
      ...base,
      config: parsed.config as unknown as Record<string, unknown>,
      nextRunAt: next,
      enabled: next !== null,
      lastError: next === null ? 'The schedule has no further runs' : null,
    };
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
