import { AppError, DatabaseBusyError, ErrorCode, PlanViolationError, RunawayProtectionError } from './app-error';

export interface ErrorEnvelope {
  success: false;
  status: 'error';
  message: string;
  code: string | null;
  [extra: string]: unknown;
}

export function errorEnvelope(message: string, code: string | null, extra?: Record<string, unknown>): ErrorEnvelope {
  return { success: false, status: 'error', message, code, ...extra };
}

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: ErrorCode.InvalidRequest,
  401: ErrorCode.Unauthorized,
  403: ErrorCode.Forbidden,
  404: ErrorCode.NotFound,
  405: ErrorCode.MethodNotAllowed,
  409: ErrorCode.Conflict,
  413: ErrorCode.PayloadTooLarge,
  415: ErrorCode.UnsupportedMediaType,
  422: ErrorCode.InvalidRequest,
  429: ErrorCode.RateLimited,
  503: ErrorCode.ServiceUnavailable,
};

export function codeForStatus(status: number): ErrorCode {
  return CODE_BY_STATUS[status] ?? (status >= 500 ? ErrorCode.InternalError : ErrorCode.InvalidRequest);
}

export interface ErrorResponse {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

/** The answer to a known error; `null` when the error is unexpected (a 500 with an error id). */
export function envelopeFor(error: unknown): ErrorResponse | null {
  if (error instanceof RunawayProtectionError) {
    return { status: 429, body: { error: 'runaway_protection_triggered' } };
  }
  if (error instanceof PlanViolationError) {
    return {
      status: error.status,
      body: { success: false, status: 'error', message: error.message, violations: error.violations },
    };
  }
  if (error instanceof AppError) {
    return {
      status: error.status,
      body: errorEnvelope(error.message, error.code, error.extra),
      headers: error.headers,
    };
  }
  if (isUnstorableText(error)) {
    return { status: 400, body: errorEnvelope(UNSTORABLE_TEXT, ErrorCode.InvalidRequest) };
  }
  // The Db waits for the lock and answers DatabaseBusyError itself; this catches a driver refusal
  // that reached here some other way (a read during WAL recovery, a statement outside Db).
  if (isDatabaseBusy(error)) {
    const busy = new DatabaseBusyError(1);
    return { status: busy.status, body: errorEnvelope(busy.message, busy.code), headers: busy.headers };
  }
  return null;
}

/** SQLite refused a lock another connection holds (SQLITE_BUSY*, SQLITE_LOCKED*), raw or wrapped by TypeORM. */
export function isDatabaseBusy(error: unknown): boolean {
  const e = error as { code?: unknown; driverError?: { code?: unknown } } | null | undefined;
  const code = e?.driverError?.code ?? e?.code;
  return typeof code === 'string' && /^SQLITE_(BUSY|LOCKED)/.test(code);
}

const UNSTORABLE_TEXT = 'Text cannot contain NUL (\\u0000) characters';

/**
 * PostgreSQL refuses NUL in text (22021) and `\u0000` in jsonb (22P05); SQLite stores both. Either
 * reaches the database from the caller's own input (a name, a path segment, a payload), so it is
 * their 400, found by the fuzz test as a 500.
 */
function isUnstorableText(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code ?? (error as { driverError?: { code?: unknown } }).driverError?.code;
  return code === '22021' || code === '22P05';
}
