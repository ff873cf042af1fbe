import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { AppError, ErrorCode } from './app-error';
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
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request>();
    const { status, body, headers } = this.toResponse(exception, req);
    if (res.headersSent) {
      // A streaming response (SSE, download) failed midway: all we can do is end it.
      res.end();
      return;
    }
    if (headers) res.set(headers);
    res.status(status).json(body);
  }

  toResponse(exception: unknown, req: Request): ErrorResponse {
    const known = envelopeFor(exception);
    if (known) return known;
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
      { errorId, method: req.method, path: req.path, err: { name: err.name, message: err.message, stack: err.stack } },
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
