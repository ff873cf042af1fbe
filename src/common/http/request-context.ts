import { Injectable, NestMiddleware } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { REQUEST_ID } from './logging';

const context = new AsyncLocalStorage<{ requestId: string | null }>();

/**
 * Makes the id of the request being served reachable from the code it calls: a run started by a
 * request records it, so the worker's log lines for the run carry it. Mounted after pino-http
 * (the logger module's middleware is global, so it runs first), which sets `req.id`. Only the id
 * is kept: timers created while serving a request keep its context alive.
 */
@Injectable()
export class RequestContextMiddleware implements NestMiddleware {
  use(req: IncomingMessage & { id?: unknown }, _res: ServerResponse, next: () => void): void {
    const id = req.id;
    context.run({ requestId: typeof id === 'string' && REQUEST_ID.test(id) ? id : null }, next);
  }
}

/** The id of the HTTP request being served (`x-request-id`), or null outside one. */
export function currentRequestId(): string | null {
  return context.getStore()?.requestId ?? null;
}
