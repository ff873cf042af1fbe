/**
 * Domain errors carry a stable `code` that the exception filter maps to an HTTP status and writes
 * into the DSentr envelope `{success:false,status:"error",message,code}`.
 */
export enum ErrorCode {
  InvalidRequest = 'invalid_request',
  InvalidJson = 'invalid_json',
  UnsupportedMediaType = 'unsupported_media_type',
  PayloadTooLarge = 'payload_too_large',
  Unauthorized = 'unauthorized',
  InvalidCredentials = 'invalid_credentials',
  UnverifiedEmail = 'unverified_email',
  CsrfFailed = 'csrf_failed',
  Forbidden = 'forbidden',
  NotFound = 'not_found',
  MethodNotAllowed = 'method_not_allowed',
  Conflict = 'conflict',
  WorkflowConflict = 'workflow_conflict',
  EmailTaken = 'email_taken',
  RateLimited = 'rate_limited',
  WorkspacePlanRequired = 'workspace_plan_required',
  WorkspaceMemberLimit = 'workspace_member_limit',
  WorkspaceRunLimit = 'workspace_run_limit',
  /** A start refused because its concurrency group is full and the workflow rejects over the limit. */
  ConcurrencyLimited = 'concurrency_limited',
  /** A start refused because the workflow already has `max_queued` runs waiting. */
  QueueFull = 'queue_full',
  /** An invitation that was accepted, declined, revoked or has expired. */
  InvitationUnusable = 'invitation_unusable',
  /** An e-mailed link's token (verification, password reset) that is unknown, used or expired. */
  InvalidToken = 'invalid_token',
  /** An OAuth integration (Google, Slack…) that this server has no provider for. */
  IntegrationNotConfigured = 'integration_not_configured',
  InternalError = 'internal_error',
  ServiceUnavailable = 'service_unavailable',
  DatabaseBusy = 'database_busy',
}

const STATUS: Record<ErrorCode, number> = {
  [ErrorCode.InvalidRequest]: 400,
  [ErrorCode.InvalidJson]: 400,
  [ErrorCode.UnsupportedMediaType]: 415,
  [ErrorCode.PayloadTooLarge]: 413,
  [ErrorCode.Unauthorized]: 401,
  [ErrorCode.InvalidCredentials]: 401,
  [ErrorCode.UnverifiedEmail]: 403,
  [ErrorCode.CsrfFailed]: 403,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.MethodNotAllowed]: 405,
  [ErrorCode.Conflict]: 409,
  [ErrorCode.WorkflowConflict]: 409,
  [ErrorCode.EmailTaken]: 409,
  [ErrorCode.RateLimited]: 429,
  [ErrorCode.WorkspacePlanRequired]: 403,
  [ErrorCode.WorkspaceMemberLimit]: 400,
  [ErrorCode.WorkspaceRunLimit]: 429,
  [ErrorCode.ConcurrencyLimited]: 429,
  [ErrorCode.QueueFull]: 429,
  [ErrorCode.InvitationUnusable]: 400,
  [ErrorCode.InvalidToken]: 400,
  // The connection the request names cannot exist: there is nothing to find.
  [ErrorCode.IntegrationNotConfigured]: 404,
  [ErrorCode.InternalError]: 500,
  [ErrorCode.ServiceUnavailable]: 503,
  [ErrorCode.DatabaseBusy]: 503,
};

const DEFAULT_MESSAGE: Partial<Record<ErrorCode, string>> = {
  [ErrorCode.InvalidJson]: 'Request body is not valid JSON',
  [ErrorCode.UnsupportedMediaType]: 'Content-Type must be application/json',
  [ErrorCode.PayloadTooLarge]: 'Request body is too large',
  [ErrorCode.Unauthorized]: 'Session is required',
  [ErrorCode.InvalidCredentials]: 'Invalid email or password',
  [ErrorCode.UnverifiedEmail]: 'Please verify your email address before logging in',
  [ErrorCode.CsrfFailed]: 'Missing or invalid CSRF token',
  [ErrorCode.Forbidden]: 'Forbidden',
  [ErrorCode.NotFound]: 'Not found',
  [ErrorCode.RateLimited]: 'Too many requests. Please wait a moment and try again.',
  [ErrorCode.WorkspacePlanRequired]: 'This feature requires a workspace plan. Upgrade in Settings → Plan.',
  [ErrorCode.InternalError]: 'Internal server error',
  [ErrorCode.ServiceUnavailable]: 'Service unavailable',
  [ErrorCode.DatabaseBusy]: 'The database is busy. Please try again shortly.',
};

export class AppError extends Error {
  readonly status: number;
  /** Response headers that belong to this answer (Retry-After on a 503). */
  readonly headers?: Record<string, string>;

  /**
   * `extra` keys are merged into the envelope (e.g. the current workflow on a 409); `status`
   * overrides the code's usual status where the wire contract differs (422 for a wrong body shape).
   */
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly extra?: Record<string, unknown>,
    status?: number,
  ) {
    super(message ?? DEFAULT_MESSAGE[code] ?? code);
    this.status = status ?? STATUS[code];
  }

  static statusOf(code: ErrorCode): number {
    return STATUS[code];
  }
}

/**
 * The database refused the write lock for the whole wait (SQLite: another connection holds it).
 * Nothing was written; the client may retry after `retryAfterSeconds`.
 */
export class DatabaseBusyError extends AppError {
  override readonly headers: Record<string, string>;

  constructor(readonly retryAfterSeconds: number) {
    super(ErrorCode.DatabaseBusy);
    this.headers = { 'Retry-After': String(retryAfterSeconds) };
  }
}

export interface PlanViolation {
  code: string;
  message: string;
  nodeLabel?: string;
}

export const PLAN_VIOLATION_SUMMARY =
  'Solo plan restrictions prevent this workflow from running. Upgrade in Settings → Plan or adjust the nodes listed below.';

/** docs/contract.md §1.4: always 403, `violations[]`, no top-level code; one violation lends its message. */
export class PlanViolationError extends Error {
  readonly status = 403;

  constructor(readonly violations: PlanViolation[]) {
    super(violations.length === 1 ? violations[0].message : PLAN_VIOLATION_SUMMARY);
  }
}

/** docs/contract.md §1.4: runaway protection answers 429 with exactly `{"error":"runaway_protection_triggered"}`. */
export class RunawayProtectionError extends Error {
  readonly status = 429;

  constructor() {
    super('runaway_protection_triggered');
  }
}
