/**
 * The typed event map: every event name and payload is declared here once. Emit and listen
 * through `EventBus` / `@OnAppEvent` so no string literal is repeated at call sites.
 */
export interface AppEventMap {
  /** A workspace's plan changed (later modules react: e.g. webhook HMAC is forced off on solo). */
  'workspace.plan_changed': { workspaceId: string; plan: 'solo' | 'workspace'; actorId: string };
}

export type AppEventName = keyof AppEventMap;
