import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { HttpReply, HttpRequest, RawRequest, RawResponse } from '../http/http';
import { AppError, ErrorCode } from './app-error';
import { loggablePath } from '../http/logging';
import { codeForStatus, envelopeFor, errorEnvelope, ErrorResponse } from './envelope';

/**
 * Every error leaves in the DSentr envelope. Framework exceptions (unknown route, bad method…)
 * are mapped by status; anything unexpected becomes a 500 with an error id that is logged with
 * the cause, and never a stack trace in the body.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<HttpReply | RawResponse>();
    const req = ctx.getRequest<HttpRequest | RawRequest>();
    const { status, body, headers } = this.toResponse(exception, req);
    const raw = 'raw' in res ? res.raw : res;
    if (raw.headersSent) {
      // A streaming response (SSE, download) failed midway: all we can do is end it.
      raw.end();
      return;
    }
    if ('raw' in res) {
      if (headers) res.headers(headers);
      void res.code(status).send(body);
      return;
    }
    // Nest middleware sees Node's own response.
    raw.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8' });
    raw.end(JSON.stringify(body));
  }

  toResponse(exception: unknown, req: { method?: string; url?: string }): ErrorResponse {
    const known = envelopeFor(exception);
    if (known) return known;
    const serverStatus = fastifyErrorStatus(exception);
    if (serverStatus !== null) {
      const code = codeForStatus(serverStatus);
      return { status: serverStatus, body: errorEnvelope(new AppError(code).message, code) };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status < 500) {
        return { status, body: errorEnvelope(this.httpMessage(exception, status), codeForStatus(status)) };
      }
    }
    const errorId = randomUUID();
    const err = exception instanceof Error ? exception : new Error(String(exception));
    // Only name, message and stack: driver errors carry query parameters that may hold secrets.
    this.logger.error(
      {
        errorId,
        method: req.method,
        path: loggablePath(req.url),
        err: { name: err.name, message: err.message, stack: err.stack },
      },
      'unhandled error',
    );
    const status = exception instanceof HttpException ? exception.getStatus() : 500;
    return {
      status,
      body: errorEnvelope(
        `${new AppError(ErrorCode.InternalError).message} (error id ${errorId})`,
        ErrorCode.InternalError,
        {
          error_id: errorId,
        },
      ),
    };
  }

  private httpMessage(exception: HttpException, status: number): string {
    if (status === 404) return 'Not found';
    const response = exception.getResponse();
    if (typeof response === 'string') return response;
    const message = (response as { message?: unknown }).message;
    if (Array.isArray(message)) return message.join('; ');
    return typeof message === 'string' ? message : exception.message;
  }
}

/** The HTTP server's own refusals (a malformed Content-Type, an unreadable URL): their 4xx status. */
function fastifyErrorStatus(exception: unknown): number | null {
  const { code, statusCode } = (exception ?? {}) as { code?: unknown; statusCode?: unknown };
  if (typeof code !== 'string' || !code.startsWith('FST_')) return null;
  return typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500 ? statusCode : null;
}
