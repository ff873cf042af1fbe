import { Injectable, MessageEvent } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { concat, defer, fromEvent, interval, merge, NEVER, Observable, of, Subject, Subscription, timer } from 'rxjs';
import { concatMap, filter, finalize, map, share, shareReplay, takeWhile, throttleTime } from 'rxjs/operators';
import type { AuthPrincipal } from '../common/auth/principal';
import { Clock } from '../common/clock';
import { AppError, ErrorCode } from '../common/errors/app-error';
import type { AppEventMap, AppEventName, ArgOf, CredentialRevokedEvent } from '../common/events/app-events';
import { OnAppEvent } from '../common/events/event-bus';
import { AppConfig } from '../config/app-config';
import { NodeRunEntity } from '../database/entities/node-run.entity';
import { NodeRunRepository } from '../database/repositories/node-run.repository';
import { RunRepository } from '../database/repositories/run.repository';
import { WorkflowRepository } from '../database/repositories/workflow.repository';
import { WorkspaceRepository } from '../database/repositories/workspace.repository';
import { toNodeRunResponse, toRunResponse } from '../runs/runs.dto';
import { SecretsService } from '../secrets/secrets.service';
import { permits, WorkflowAccess, WorkflowGrant } from '../workflows/workflow-access';
import { WorkflowsService } from '../workflows/workflows.service';
import { RunState } from './run-state';
import { SseFrame, SseOutput } from './sse-writer';

const RUN_EVENTS = ['run.queued', 'run.started', 'run.paused', 'run.finished'] as const;
const NODE_EVENTS = ['node.started', 'node.finished'] as const;
/** Bursts of lifecycle events (a fast run emits many) become at most one refresh per window. */
const COALESCE_MS = 10;
/**
 * How long a revocation or a membership change is remembered, for a stream that was opening while
 * it happened (between the auth guard or its access check and the stream's subscription).
 */
const RECENT_MS = 5 * 60_000;
/** setTimeout's longest delay; a later expiry is reached in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

type MembershipChangedEvent = AppEventMap['workspace.membership_changed'];

/** A stream that ends when the caller loses read access to its workspace workflow. */
interface ReadAccess {
  workspaceId: string;
  stillAllowed: () => Promise<boolean>;
}

/**
 * Live streams (docs/contract.md §11): typed lifecycle events from the event emitter are
 * bridged into rxjs and drive each stream; a stream re-reads state only when something it shows
 * changed (push, not poll). Every payload passes the shared Redactor; every event has an id.
 */
@Injectable()
export class RunStreamsService {
  private sequence = 0;
  /** One listener per event name for all streams, however many clients are connected. */
  private readonly bus$: Observable<{ name: AppEventName; payload: unknown }>;
  /** One state loader per watched run, shared by every client of that run (refcounted). */
  private readonly runStates = new Map<string, Observable<RunState>>();
  private keepalive$: Observable<MessageEvent> | null = null;
  /** Credentials revoked and users whose memberships changed lately (by key), in order, with their number. */
  private readonly recent = new Map<string, { seq: number; at: number }>();
  private accessSeq = 0;
  /**
   * Open streams by what ends them: a credential (`credentialKey`) and a member of a workspace
   * (`memberKey` + workspace). One event finds its streams by key, instead of passing through a
   * filter of every open stream (10,000 clients made each event 20,000 filter calls).
   */
  private readonly watchers = new Map<string, Set<() => void>>();

  constructor(
    private readonly emitter: EventEmitter2,
    private readonly runs: RunRepository,
    private readonly nodeRuns: NodeRunRepository,
    private readonly workflows: WorkflowRepository,
    private readonly access: WorkflowAccess,
    private readonly workspaces: WorkspaceRepository,
    private readonly secrets: SecretsService,
    private readonly workflowService: WorkflowsService,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {
    const names: AppEventName[] = [
      ...RUN_EVENTS,
      ...NODE_EVENTS,
      'run.cancel_requested',
      'workflow.updated',
      'workflow.deleted',
      'workspace.membership_changed',
    ];
    this.bus$ = merge(
      ...names.map((name) => fromEvent(this.emitter, name).pipe(map((payload) => ({ name, payload })))),
    ).pipe(share());
  }

  /**
   * `GET /api/workflows/runs/events`: `status` when has_running/has_queued change, `tick` otherwise.
   * The caller's memberships are re-read on every refresh, and a change of them is a refresh: a
   * removed member's status stops counting (and hearing of) that workspace's runs.
   */
  async globalStatus(caller: AuthPrincipal): Promise<Observable<MessageEvent>> {
    const since = this.accessSeq;
    let memberOf = new Set((await this.workspaces.membershipsForUser(caller.userId)).map((m) => m.workspace.id));
    let last = '';
    const changes = merge(
      this.on(RUN_EVENTS).pipe(
        filter((e) => (e.workspaceId === null ? e.ownerId === caller.userId : memberOf.has(e.workspaceId))),
      ),
      this.on(['workspace.membership_changed']).pipe(filter((e) => e.userId === caller.userId)),
    );
    const state = this.refreshOn(changes, async () => {
      const memberships = await this.workspaces.membershipsForUser(caller.userId);
      memberOf = new Set(memberships.map((m) => m.workspace.id));
      const active = await this.runs.listActive([...(await this.visibleWorkflowIds(caller, [...memberOf]))]);
      return {
        has_running: active.some((r) => r.status === 'running'),
        has_queued: active.some((r) => r.status === 'queued'),
      };
    }).pipe(
      filter((status) => {
        const key = JSON.stringify(status);
        if (key === last) return false;
        last = key;
        return true;
      }),
      map((status) => this.message('status', status)),
    );
    const ticks = interval(this.config.http.sseKeepaliveMs).pipe(map(() => this.message('tick', {})));
    return this.followAccess(caller, merge(state, ticks, this.keepalive()), since);
  }

  /** `GET /:id/runs/events-stream`: `runs` (the active runs) whenever that list changes. */
  async activeRuns(caller: AuthPrincipal, workflowId: string): Promise<Observable<MessageEvent>> {
    const since = this.accessSeq;
    const grant = await this.access.require(caller, workflowId, 'read');
    let last: string | null = null;
    const changes = this.on(RUN_EVENTS).pipe(filter((e) => e.workflowId === workflowId));
    const runs = this.refreshOn(changes, () => this.runs.listActive([workflowId])).pipe(
      filter((list) => {
        const key = list.map((r) => `${r.id}:${r.status}`).join(',');
        if (key === last) return false;
        last = key;
        return true;
      }),
      map((list) =>
        this.message(
          'runs',
          list.map((r) => this.secrets.redactor.redact(toRunResponse(r))),
        ),
      ),
    );
    return this.followAccess(caller, merge(runs, this.keepalive()), since, this.readAccess(caller, grant));
  }

  /**
   * `GET /:id/runs/:run/events`: `run` when the run changed, `node_runs` when a node run did. The
   * event id is the state version (`<run ms>.<node runs ms>`), so a reconnect with Last-Event-ID
   * gets exactly what changed since (docs/contract.md §11), and nothing twice.
   */
  async runDetail(
    caller: AuthPrincipal,
    workflowId: string,
    runId: string,
    lastEventId?: string,
  ): Promise<Observable<SseOutput>> {
    const since = this.accessSeq;
    const grant = await this.access.require(caller, workflowId, 'read');
    const run = await this.runs.findForWorkflow(workflowId, runId);
    if (!run) throw new AppError(ErrorCode.NotFound, 'Run not found');
    const [lastRun, lastNodes] = (lastEventId ?? '').split('.').map((v) => Number(v) || 0);
    let runVersion = lastRun ?? 0;
    let nodeVersion = lastNodes ?? 0;
    // Synchronous steps only: this runs once per client for every change of the run.
    const updates = this.runState(runId).pipe(
      map((state) => {
        const frame = state.framesSince(runVersion, nodeVersion);
        runVersion = Math.max(runVersion, state.runVersion);
        nodeVersion = Math.max(nodeVersion, state.nodeVersion);
        return frame;
      }),
      filter((frame): frame is SseFrame => frame !== null),
    );
    return this.followAccess(caller, merge(updates, this.keepalive()), since, this.readAccess(caller, grant));
  }

  /**
   * The current state of a run, loaded once per change for all its watchers and serialised once
   * (redacted), so N clients cost one query and one JSON encoding per change, not N.
   */
  private runState(runId: string): Observable<RunState> {
    let state = this.runStates.get(runId);
    if (!state) {
      const changes = this.on([...RUN_EVENTS, ...NODE_EVENTS, 'run.cancel_requested']).pipe(
        filter((e) => e.runId === runId),
      );
      state = this.refreshOn(changes, async () => {
        const current = await this.runs.findById(runId);
        const nodeRuns = current ? await this.nodeRuns.nodeRuns(current.workflowId, runId) : [];
        return current
          ? new RunState(
              current.updatedAt.getTime(),
              latest(nodeRuns),
              JSON.stringify(this.secrets.redactor.redact(toRunResponse(current))),
              JSON.stringify(this.secrets.redactor.redact(nodeRuns.map(toNodeRunResponse))),
            )
          : null;
      }).pipe(
        filter((s): s is RunState => s !== null),
        finalize(() => this.runStates.delete(runId)),
        shareReplay({ bufferSize: 1, refCount: true }),
      );
      this.runStates.set(runId, state);
    }
    return state;
  }

  /** `GET /:id/events`: the workflow now and on every change; `error` and the end when it is deleted. */
  async workflow(caller: AuthPrincipal, workflowId: string, workspace?: string): Promise<Observable<MessageEvent>> {
    const since = this.accessSeq;
    // The same checks (404/403) as GET /api/workflows/:id, answered before the stream opens.
    const opened = (await this.workflowService.get(caller, workflowId, workspace)).workflow;
    const changes = merge(
      this.on(['workflow.updated']).pipe(filter((e) => e.workflowId === workflowId)),
      this.on(['workflow.deleted']).pipe(filter((e) => e.workflowId === workflowId)),
    );
    const updates = this.refreshOn(changes, async () => {
      try {
        return (await this.workflowService.get(caller, workflowId, workspace)).workflow;
      } catch (error) {
        if (error instanceof AppError && error.status === 404) return null;
        throw error;
      }
    }).pipe(
      takeWhile((wf) => wf !== null, true),
      map((wf) => (wf ? this.message('workflow', wf) : this.message('error', { error: 'workflow_not_found' }))),
    );
    const stream = merge(updates, this.keepalive()).pipe(takeWhile((m) => m.type !== 'error', true));
    const workspaceId = opened.workspace_id;
    return this.followAccess(
      caller,
      stream,
      since,
      workspaceId ? { workspaceId, stillAllowed: () => this.mayRead(caller, workflowId) } : undefined,
    );
  }

  // --- access -----------------------------------------------------------------------------------

  /**
   * `stream` until the caller may no longer see it: the credential that opened it is revoked
   * (logout, API key revocation) or expires (one timer, at its expiry), or, with `access`, a
   * change of the caller's membership of the workflow's workspace leaves them without read
   * access. Then `error` {"error":"access_revoked"} and the end, which ends the response.
   * Event-driven, nothing is polled. `since` (the change count before the access check the stream
   * opened with) catches a change made while the stream was opening.
   */
  private followAccess<T extends SseOutput>(
    caller: AuthPrincipal,
    stream: Observable<T>,
    since: number,
    access?: ReadAccess,
  ): Observable<T | MessageEvent> {
    // Plain callbacks rather than operators: this runs once per client, and with 10,000 clients
    // on one run the operator chain it replaced was a third of each connection's memory.
    return new Observable<T | MessageEvent>((subscriber) => {
      const teardown = new Subscription();
      const end = () => {
        if (subscriber.closed) return;
        subscriber.next(this.message('error', { error: 'access_revoked' }));
        subscriber.complete();
      };
      // The stream first: a state it already holds goes out before an end found below.
      teardown.add(
        stream.subscribe({
          next: (value) => subscriber.next(value),
          error: (error: unknown) => subscriber.error(error),
          complete: () => subscriber.complete(),
        }),
      );
      const credential = credentialKey(caller);
      if (credential && this.recent.has(credential)) end();
      // Ended already (by the stream itself, or just above): nothing to watch.
      if (subscriber.closed) return teardown;
      if (credential) teardown.add(this.watch(credential, end));
      teardown.add(this.expiry(caller).subscribe(end));
      if (access) {
        // Built at the first change only: most streams never see one. Changes within COALESCE_MS
        // are one re-check; re-checks run one at a time.
        let changes: Subject<void> | null = null;
        const changed = () => {
          if (!changes) {
            changes = new Subject<void>();
            teardown.add(
              changes
                .pipe(
                  throttleTime(COALESCE_MS, undefined, { leading: true, trailing: true }),
                  concatMap(() => defer(access.stillAllowed)),
                  filter((allowed) => !allowed),
                )
                .subscribe({ next: end, error: (error: unknown) => subscriber.error(error) }),
            );
          }
          changes.next();
        };
        if ((this.recent.get(memberKey(caller.userId))?.seq ?? 0) > since) changed();
        teardown.add(this.watch(`${memberKey(caller.userId)}|${access.workspaceId}`, changed));
      }
      return teardown;
    });
  }

  /** Emits once when the caller's credential expires (by the app's clock); never for one without expiry. */
  private expiry(caller: AuthPrincipal): Observable<unknown> {
    const at = caller.expiresAt?.getTime();
    if (at === undefined) return NEVER;
    return defer(() => {
      const left = at - this.clock.now().getTime();
      return left > MAX_TIMER_MS
        ? timer(MAX_TIMER_MS).pipe(concatMap(() => this.expiry(caller)))
        : timer(Math.max(0, left));
    });
  }

  private readAccess(caller: AuthPrincipal, grant: WorkflowGrant): ReadAccess | undefined {
    const { id, workspaceId } = grant.workflow;
    return workspaceId ? { workspaceId, stillAllowed: () => this.mayRead(caller, id) } : undefined;
  }

  /** The check the streams opened with (WorkflowAccess, `read`), asked again. */
  private async mayRead(caller: AuthPrincipal, workflowId: string): Promise<boolean> {
    const grant = await this.access.find(caller, workflowId);
    return grant !== null && permits(grant.standing, 'read');
  }

  @OnAppEvent('auth.credential_revoked')
  rememberRevoked(event: CredentialRevokedEvent): void {
    const key = credentialKey(event);
    if (!key) return;
    this.remember(key);
    this.notify(key);
  }

  @OnAppEvent('workspace.membership_changed')
  rememberMembershipChange(event: MembershipChangedEvent): void {
    this.remember(memberKey(event.userId));
    this.notify(`${memberKey(event.userId)}|${event.workspaceId}`);
  }

  /** Calls `callback` each time `key` is notified, until the returned teardown runs. */
  private watch(key: string, callback: () => void): () => void {
    let set = this.watchers.get(key);
    if (!set) this.watchers.set(key, (set = new Set()));
    set.add(callback);
    return () => {
      set.delete(callback);
      if (!set.size && this.watchers.get(key) === set) this.watchers.delete(key);
    };
  }

  private notify(key: string): void {
    // A copy: a stream that ends on this call unsubscribes from the set being walked.
    for (const callback of [...(this.watchers.get(key) ?? [])]) callback();
  }

  /** Keeps `key` as the latest change; forgets changes older than RECENT_MS (the oldest come first). */
  private remember(key: string): void {
    const now = Date.now();
    for (const [old, { at }] of this.recent) {
      if (now - at < RECENT_MS) break;
      this.recent.delete(old);
    }
    this.recent.delete(key);
    this.accessSeq += 1;
    this.recent.set(key, { seq: this.accessSeq, at: now });
  }

  // --- plumbing -------------------------------------------------------------------------------

  /** The emitter's typed events as an observable; the listener goes when the stream is closed. */
  private on<E extends AppEventName>(names: readonly E[]): Observable<ArgOf<E>> {
    return this.bus$.pipe(
      filter((e): e is { name: E; payload: ArgOf<E> } => (names as readonly AppEventName[]).includes(e.name)),
      map((e) => e.payload),
    );
  }

  /** Loads once at subscription, then again (coalesced) after each change. */
  private refreshOn<T>(changes: Observable<unknown>, load: () => Promise<T>): Observable<T> {
    return concat(of(null), changes.pipe(throttleTime(COALESCE_MS, undefined, { leading: true, trailing: true }))).pipe(
      concatMap(() => defer(load)),
    );
  }

  /** One timer for every connection's keepalive comments. */
  private keepalive(): Observable<MessageEvent> {
    this.keepalive$ ??= interval(this.config.http.sseKeepaliveMs).pipe(
      map(() => ({ comment: 'keepalive' }) as MessageEvent),
      share(),
    );
    return this.keepalive$;
  }

  private message(type: string, data: unknown, id?: string): MessageEvent {
    this.sequence += 1;
    return { type, data: data as object, id: id ?? `${Date.now()}-${this.sequence}` };
  }

  /** Workflows the caller owns or sees through a membership of `workspaceIds` (deviation 14 in docs/deviations.md). */
  private async visibleWorkflowIds(caller: AuthPrincipal, workspaceIds: string[]): Promise<Set<string>> {
    const workflows = await this.workflows.listVisibleTo(caller.userId, workspaceIds);
    return new Set(workflows.map((w) => w.id));
  }
}

/** The credential a principal or a revocation names, as a key of `recent`. */
function credentialKey(c: { sessionTokenHash?: string; apiKeyId?: string }): string | null {
  if (c.sessionTokenHash) return `session:${c.sessionTokenHash}`;
  if (c.apiKeyId) return `key:${c.apiKeyId}`;
  return null;
}

function memberKey(userId: string): string {
  return `member:${userId}`;
}

function latest(nodeRuns: NodeRunEntity[]): number {
  return nodeRuns.reduce((max, n) => Math.max(max, n.updatedAt.getTime()), 0);
}
