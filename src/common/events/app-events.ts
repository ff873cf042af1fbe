/**
 * The typed event map: every event name and payload is declared here once. Emit and listen
 * through `EventBus` / `@OnAppEvent` so no string literal is repeated at call sites.
 */
export interface AppEventMap {
  /** A workspace's plan changed (later modules react: e.g. webhook HMAC is forced off on solo). */
  'workspace.plan_changed': { workspaceId: string; plan: 'solo' | 'workspace'; actorId: string };
  /** A workflow document was created or changed (content, lock…); `updatedAt` is its new concurrency token. */
  'workflow.created': WorkflowChangedEvent;
  'workflow.updated': WorkflowChangedEvent;
  'workflow.deleted': { workflowId: string; workspaceId: string | null; actorId: string };
  /** A workflow's run-notification endpoints changed (dispatchers drop what they cached). */
  'notification.endpoints_changed': { workflowId: string };
  /** A notification is due now (a redeliver): the dispatcher in this process looks at once. */
  'notification.queued': { workflowId: string };
  /** Run lifecycle (docs/contract.md §4.3); payloads are small, clients fetch bodies by id. */
  'run.queued': RunEvent;
  'run.started': RunEvent & { attempt: number };
  'run.paused': RunEvent & { resumeAt: string };
  'run.finished': RunEvent & { status: 'succeeded' | 'failed' | 'canceled' | 'expired'; error: string | null };
  /** Asks the worker executing the run (in this process) to stop it now. */
  'run.cancel_requested': RunEvent;
  'node.started': RunEvent & { nodeId: string; nodeType: string };
  'node.finished': RunEvent & { nodeId: string; status: 'succeeded' | 'failed' };
  /** A member added a secret in workspace mode: a history event on every workflow of the workspace. */
  'workspace.secret_created': { workspaceId: string; actorId: string; reference: string };
  /**
   * A credential stopped working: a session logged out or found expired, an API key revoked.
   * Streams opened with it end (SECURITY.md: live streams follow access).
   */
  'auth.credential_revoked': CredentialRevokedEvent;
  /**
   * A user's membership of a workspace was added, removed (removal or leaving) or changed role.
   * Emitted after the change is committed; streams of that user re-check what they may see.
   */
  'workspace.membership_changed': {
    workspaceId: string;
    userId: string;
    change: 'added' | 'removed' | 'role_changed';
    actorId: string;
  };
}

/** Which credential: a session by the hash of its token (its row key), or an API key by id. */
export type CredentialRevokedEvent = {
  userId: string;
  reason: 'logout' | 'expired' | 'revoked';
} & ({ sessionTokenHash: string; apiKeyId?: never } | { apiKeyId: string; sessionTokenHash?: never });

export interface WorkflowChangedEvent {
  workflowId: string;
  workspaceId: string | null;
  actorId: string;
  updatedAt: string;
}

export type AppEventName = keyof AppEventMap;

/** The payload an event of that name carries (immich's `ArgOf`): what its handlers take. */
export type ArgOf<E extends AppEventName> = AppEventMap[E];

export interface RunEvent {
  runId: string;
  workflowId: string;
  workspaceId: string | null;
  ownerId: string;
}

/**
 * The run part of every run and node event, built in one place so every emitter sends the same
 * ids (streams filter on them, the PostgreSQL relay packs them) and nothing more of the row.
 */
export function runEvent(run: {
  id: string;
  workflowId: string;
  workspaceId: string | null;
  ownerId: string;
}): RunEvent {
  return { runId: run.id, workflowId: run.workflowId, workspaceId: run.workspaceId, ownerId: run.ownerId };
}
