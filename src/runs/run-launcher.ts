import { Injectable } from '@nestjs/common';
import { hkdfSync } from 'node:crypto';
import type { AuthPrincipal } from '../common/auth/principal';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { AppError, ErrorCode, PlanViolationError } from '../common/errors/app-error';
import { runEvent } from '../common/events/app-events';
import { EventBus } from '../common/events/event-bus';
import { withRunFacts } from '../common/events/run-facts';
import { currentRequestId } from '../common/http/request-context';
import { currentTraceParent } from '../common/tracing/tracing';
import { RunEntity } from '../database/entities/run.entity';
import { UserEntity } from '../database/entities/user.entity';
import { WorkflowEntity } from '../database/entities/workflow.entity';
import { WorkspaceEntity } from '../database/entities/workspace.entity';
import { DeadLetterRepository } from '../database/repositories/dead-letter.repository';
import { AdmissionRefusal, Backpressure, NewRun, RunRepository } from '../database/repositories/run.repository';
import { WorkflowRepository } from '../database/repositories/workflow.repository';
import { KeyedLock } from '../common/keyed-lock';
import { concurrencyKeyOf } from '../engine/concurrency-key';
import { parseGraph } from '../engine/graph';
import { assessSoloGraph, SCHEDULE_TRIGGER_MESSAGE, SOLO_WORKFLOW_LIMIT } from '../plans/plan-assessment';
import { RunQuotaService } from '../plans/run-quota.service';
import { announceCanceled } from './run-cancellation';

/** What starts a run; each kind has its own gates (docs/architecture.md, The run lifecycle). */
export type LaunchTrigger =
  | { kind: 'manual'; caller: AuthPrincipal }
  | { kind: 'rerun'; caller: AuthPrincipal; baseRunId: string }
  | { kind: 'dead_letter'; caller: AuthPrincipal; deadLetterId: string }
  | { kind: 'schedule'; scheduleId: string; dueAt: Date }
  /** `owner` and `workspace` as the trigger lookup loaded them (one query fewer per webhook). */
  | { kind: 'webhook'; owner: UserEntity | null; workspace: WorkspaceEntity | null };

export interface LaunchRequest {
  workflow: WorkflowEntity;
  trigger: LaunchTrigger;
  /** Built once the gates passed: a refused start builds nothing. */
  snapshot: () => Record<string, unknown>;
  /** The workflow version whose graph the snapshot holds (null: not known); default: the workflow's current one. */
  version?: number | null;
  idempotencyKey?: string;
  /** A signed webhook's matched signature: used once per workflow, recorded with the run. */
  signature?: string;
  priority?: number;
  /** The scheduler's tick time; otherwise the clock's now. */
  now?: Date;
}

export interface Launched {
  run: RunEntity;
  /** The idempotency key had already made this run: nothing new was queued and nothing was charged. */
  replayed: boolean;
}

/** Signatures remembered per process (see `usedSignatures`): a few megabytes at most. */
const USED_SIGNATURES_KEPT = 10_000;
const replayDetected = () => new AppError(ErrorCode.Unauthorized, 'Replay detected');

const SOLO_LOCKED_RUN = 'This workflow is locked on the solo plan. Upgrade in Settings → Plan to run it.';

/**
 * The only way a run starts (docs/contract.md §2.8, §6.4, §10.3, §2.11, §2.13). Callers decide who
 * may start it; the launcher applies what every start shares, in one order: idempotent replay →
 * runaway protection → quota tier → Solo gates → snapshot → one insert that checks a webhook's
 * signature, takes the quota ticket and writes the run together → `run.queued`. A dead-letter
 * requeue skips the gates (it was paid for when first queued).
 */
@Injectable()
export class RunLauncher {
  /** Starts with the same workflow and idempotency key, one at a time in this process. */
  private readonly sameKey = new KeyedLock();
  /**
   * Signatures this process recorded lately (oldest out first): a replay of one is refused before
   * it passes a gate, builds a snapshot or reaches the database. The database's record decides
   * everything else (other processes, older signatures).
   */
  private readonly usedSignatures = new Set<string>();
  /** Keys the hash of a concurrency group that must not be shown (docs/contract.md §2.19). */
  private readonly groupHashKey: Buffer;

  constructor(
    private readonly runs: RunRepository,
    private readonly deadLetters: DeadLetterRepository,
    private readonly workflows: WorkflowRepository,
    private readonly quota: RunQuotaService,
    private readonly events: EventBus,
    private readonly clock: Clock,
    config: AppConfig,
  ) {
    this.groupHashKey = Buffer.from(
      hkdfSync('sha256', config.secrets.encryptionKey, Buffer.alloc(0), 'runloom concurrency group v1', 32),
    );
  }

  /**
   * With an idempotency key, the run already made for it is answered first, and requests with
   * the same key take turns in this process: a replay, however many arrive at once, passes no
   * gate and takes no quota. (Across processes on PostgreSQL two first attempts may race: the
   * insert that loses fails on the key as a whole, its ticket with it, and answers the winner's run.)
   */
  async launch(request: LaunchRequest): Promise<Launched> {
    const key = this.idempotencyKey(request);
    if (!key) return this.launchChecked(request, null);
    const { workflow } = request;
    return this.sameKey.run(`${workflow.id}\n${key}`, async () => {
      const existing = await this.runs.findByIdempotencyKey(
        { workflowId: workflow.id, workspaceId: workflow.workspaceId, ownerId: workflow.userId },
        key,
      );
      if (!existing) return this.launchChecked(request, key);
      return this.replay(existing, request, request.now ?? this.clock.now());
    });
  }

  private async launchChecked(request: LaunchRequest, key: string | null): Promise<Launched> {
    const { workflow, trigger } = request;
    const now = request.now ?? this.clock.now();
    if (trigger.kind === 'dead_letter') return this.requeue(request, trigger.deadLetterId, now);

    const signature = request.signature ? `${workflow.id}\n${request.signature}` : null;
    if (signature && this.usedSignatures.has(signature)) throw replayDetected();
    await this.quota.assertNotRunaway(workflow, now, trigger.kind === 'webhook' ? trigger.owner : undefined);
    const { ticket, tier } = await this.quota.ticketFor(
      workflow,
      this.payer(trigger, workflow),
      now,
      trigger.kind === 'webhook' ? (trigger.workspace ?? undefined) : undefined,
    );
    if (tier === 'solo') await this.soloGates(workflow, trigger);
    const values = this.newRun(workflow, request.snapshot(), request, key, now);
    // The signature and the ticket are taken by the insert itself: a start refused before it
    // holds neither, and nothing has to be given back.
    const insert = () =>
      this.runs.insertAdmitted(values, now, [{ triggeredBy: this.requestedBy(trigger) }], {
        signature: request.signature ? { workflowId: workflow.id, value: request.signature } : undefined,
        ticket,
        backpressure: this.backpressure(workflow, values.concurrencyKey ?? null),
      });
    // The owner's Solo monthly cap, checked and taken one start at a time (docs/contract.md §8).
    const inserted = tier === 'solo' ? await this.quota.withinSoloLimit(workflow.userId, now, insert) : await insert();
    // Written with the run, or with a quota refusal: used either way (a duplicate wrote nothing;
    // backpressure refuses before the signature is written, so the sender may retry).
    const signatureUsed = inserted.refused
      ? inserted.refused === 'replay' || inserted.refused === 'quota'
      : !inserted.duplicate;
    if (signature && signatureUsed) this.rememberSignature(signature);
    if (inserted.refused) throw this.refusal(inserted.refused, workflow);
    const { run, duplicate, displaced } = inserted;
    // Another process inserted it first: an idempotent replay consumes nothing.
    if (duplicate) return this.replay(run, request, now);
    for (const old of displaced ?? []) announceCanceled(this.events, old, `canceled by cancel_oldest: run ${run.id}`);
    this.events.emit('run.queued', withRunFacts(runEvent(run), run));
    return { run, replayed: false };
  }

  /** What the admission must check of the workflow's backpressure (docs/contract.md §2.19); nothing: undefined. */
  private backpressure(workflow: WorkflowEntity, key: string | null): Backpressure | undefined {
    const { concurrencyOnLimit: onLimit, maxQueued } = workflow;
    if (onLimit === 'queue' && maxQueued === null) return undefined;
    const keyed = key !== null && workflow.concurrencyKeyLimit !== null;
    return {
      key: keyed ? key : null,
      limit: keyed ? workflow.concurrencyKeyLimit! : workflow.concurrencyLimit,
      onLimit,
      maxQueued,
    };
  }

  private refusal(refused: AdmissionRefusal, workflow: WorkflowEntity): Error {
    switch (refused) {
      case 'replay':
        return replayDetected();
      case 'quota':
        return this.quota.exhausted();
      case 'concurrency_limited':
        return new AppError(
          ErrorCode.ConcurrencyLimited,
          workflow.concurrencyKey
            ? 'This run’s concurrency group is at its limit and the workflow rejects runs over it. Try again when a run finishes.'
            : 'This workflow is at its concurrency limit and rejects runs over it. Try again when a run finishes.',
        );
      case 'queue_full':
        return new AppError(
          ErrorCode.QueueFull,
          `This workflow already has ${workflow.maxQueued} runs waiting to start. Try again when the queue drains.`,
        );
    }
  }

  private rememberSignature(signature: string): void {
    this.usedSignatures.add(signature);
    if (this.usedSignatures.size > USED_SIGNATURES_KEPT) {
      this.usedSignatures.delete(this.usedSignatures.values().next().value as string);
    }
  }

  /** docs/contract.md §2.13: the dead letter becomes a new queued run, atomically; no quota, no plan checks. */
  private async requeue(request: LaunchRequest, deadLetterId: string, now: Date): Promise<Launched> {
    const run = await this.deadLetters.requeue(
      deadLetterId,
      this.newRun(request.workflow, request.snapshot(), request, null, now),
      now,
    );
    if (!run) throw new AppError(ErrorCode.NotFound, 'Dead letter not found');
    this.events.emit('run.queued', withRunFacts(runEvent(run), run));
    return { run, replayed: false };
  }

  /**
   * Solo tier (docs/contract.md §8.2, §10.3): schedules need the workspace plan; a manual start of
   * one's own personal workflow needs it among the oldest allowed and its graph within Solo limits.
   * Reruns and webhooks are gated by the monthly cap only.
   */
  private async soloGates(workflow: WorkflowEntity, trigger: LaunchTrigger): Promise<void> {
    if (trigger.kind === 'schedule') {
      throw new PlanViolationError([{ code: 'premium-trigger', message: SCHEDULE_TRIGGER_MESSAGE }]);
    }
    if (trigger.kind !== 'manual' || workflow.workspaceId || workflow.userId !== trigger.caller.userId) return;
    const usable = (await this.workflows.personalIdsOldestFirst(trigger.caller.userId)).slice(0, SOLO_WORKFLOW_LIMIT);
    if (!usable.includes(workflow.id))
      throw new PlanViolationError([{ code: 'workflow-limit', message: SOLO_LOCKED_RUN }]);
    const violations = assessSoloGraph(parseGraph(workflow.data).graph);
    if (violations.length) throw new PlanViolationError(violations);
  }

  /** A request for a run its idempotency key already made: the same run; who asked is recorded (docs/contract.md §4.8). */
  private async replay(run: RunEntity, request: LaunchRequest, now: Date): Promise<Launched> {
    await this.runs.recordEvents(run, [{ triggeredBy: this.requestedBy(request.trigger) }], now);
    if (request.priority !== undefined) {
      await this.runs.setPriority(run.id, request.priority);
      run.queuePriority = request.priority;
    }
    return { run, replayed: true };
  }

  /**
   * Whose login-time plan may stand in for a missing owner row: the caller of a manual start, the
   * owner for a schedule; reruns and webhooks go by the stored plans only.
   */
  private payer(
    trigger: LaunchTrigger,
    workflow: WorkflowEntity,
  ): { userId: string; claimsPlan: string | null } | null {
    if (trigger.kind === 'manual') return trigger.caller;
    if (trigger.kind === 'schedule') return { userId: workflow.userId, claimsPlan: null };
    return null;
  }

  /** A schedule's run is idempotent on (schedule, due time): a firing retried after a crash finds it. */
  private idempotencyKey(request: LaunchRequest): string | null {
    const { trigger } = request;
    if (trigger.kind === 'schedule') return `schedule:${trigger.scheduleId}:${trigger.dueAt.toISOString()}`;
    if (trigger.kind === 'dead_letter') return null;
    return request.idempotencyKey || null;
  }

  /** The run's `triggered_by`. */
  private triggeredBy(trigger: LaunchTrigger): string {
    switch (trigger.kind) {
      case 'manual':
        return `user:${trigger.caller.userId}`;
      case 'rerun':
        return `rerun:${trigger.baseRunId}`;
      case 'dead_letter':
        return `dead_letter:${trigger.deadLetterId}`;
      case 'schedule':
        return `schedule:${trigger.scheduleId}`;
      case 'webhook':
        return 'webhook';
    }
  }

  /** Who asked, as the run's event records it: a rerun's user rather than the run it reruns. */
  private requestedBy(trigger: LaunchTrigger): string {
    return trigger.kind === 'rerun' ? `user:${trigger.caller.userId}` : this.triggeredBy(trigger);
  }

  private newRun(
    workflow: WorkflowEntity,
    snapshot: Record<string, unknown>,
    request: LaunchRequest,
    key: string | null,
    now: Date,
  ): NewRun {
    const ttl = workflow.queuedTtlSec;
    return {
      // Its group, rendered once from the payload it was queued with (docs/contract.md §2.19).
      concurrencyKey:
        workflow.concurrencyKey === null
          ? null
          : concurrencyKeyOf(workflow.concurrencyKey, snapshot, this.groupHashKey),
      queueExpiresAt: ttl === null ? null : new Date(now.getTime() + ttl * 1000),
      ownerId: workflow.userId,
      workflowId: workflow.id,
      workspaceId: workflow.workspaceId,
      snapshot,
      workflowVersion: request.version === undefined ? workflow.version : request.version,
      idempotencyKey: key,
      triggeredBy: this.triggeredBy(request.trigger),
      // Schedules fire outside any request: their runs carry none.
      requestId: request.trigger.kind === 'schedule' ? null : currentRequestId(),
      traceParent: currentTraceParent(),
      queuePriority: request.priority ?? 0,
    };
  }
}
