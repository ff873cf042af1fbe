import { AsyncLocalStorage } from 'node:async_hooks';
import { REQUEST_ID } from './logging';

const context = new AsyncLocalStorage<{ requestId: string | null }>();

/**
 * Makes the id of the request being served reachable from the code it calls: a run started by a
 * request records it, so the worker's log lines for the run carry it. Entered once the body is
 * read (configure-app.ts), so nothing after it loses it. Only the id is kept: timers created
 * while serving a request keep its context alive.
 */
export function runInRequestContext(id: unknown, next: () => void): void {
  context.run({ requestId: typeof id === 'string' && REQUEST_ID.test(id) ? id : null }, next);
}

/** The id of the HTTP request being served (`x-request-id`), or null outside one. */
export function currentRequestId(): string | null {
  return context.getStore()?.requestId ?? null;
}
