import { AppError, DatabaseBusyError, ErrorCode, PLAN_VIOLATION_SUMMARY, PlanViolationError } from './app-error';
import { codeForStatus, envelopeFor } from './envelope';

describe('envelopes (docs/contract.md §1.4)', () => {
  it('writes an AppError as the DSentr envelope with its status', () => {
    expect(envelopeFor(new AppError(ErrorCode.WorkspaceMemberLimit, 'full'))).toEqual({
      status: 400,
      body: { success: false, status: 'error', message: 'full', code: 'workspace_member_limit' },
    });
    expect(envelopeFor(new AppError(ErrorCode.WorkspaceRunLimit))!.status).toBe(429);
    expect(envelopeFor(new AppError(ErrorCode.Conflict, 'stale', { workflow: { id: 'w' } }))!.body).toEqual({
      success: false,
      status: 'error',
      message: 'stale',
      code: 'conflict',
      workflow: { id: 'w' },
    });
  });

  it('a plan violation is a 403 with violations[] and no top-level code', () => {
    const one = { code: 'node-limit', message: 'Remove 2 nodes' };
    expect(envelopeFor(new PlanViolationError([one]))).toEqual({
      status: 403,
      body: { success: false, status: 'error', message: 'Remove 2 nodes', violations: [one] },
    });
    const two = [one, { code: 'premium-trigger', message: 'Schedules need a workspace plan', nodeLabel: 'Every hour' }];
    expect(envelopeFor(new PlanViolationError(two))!.body).toEqual({
      success: false,
      status: 'error',
      message: PLAN_VIOLATION_SUMMARY,
      violations: two,
    });
  });

  it('leaves unknown errors to the 500 path and maps framework statuses to codes', () => {
    expect(envelopeFor(new Error('boom'))).toBeNull();
    expect(codeForStatus(404)).toBe('not_found');
    expect(codeForStatus(415)).toBe('unsupported_media_type');
    expect(codeForStatus(418)).toBe('invalid_request');
    expect(codeForStatus(502)).toBe('internal_error');
  });
});

describe('database refusals of the caller’s text', () => {
  it('PostgreSQL NUL in text (22021) or \\u0000 in jsonb (22P05) is a 400, whether raw or wrapped by TypeORM', () => {
    const raw = Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: '22021' });
    const wrapped = Object.assign(new Error('unsupported Unicode escape sequence'), { driverError: { code: '22P05' } });
    for (const error of [raw, wrapped]) {
      expect(envelopeFor(error)).toEqual({
        status: 400,
        body: {
          success: false,
          status: 'error',
          message: 'Text cannot contain NUL (\\u0000) characters',
          code: 'invalid_request',
        },
      });
    }
    expect(envelopeFor(Object.assign(new Error('deadlock'), { code: '40P01' }))).toBeNull();
  });
});

describe('a busy database', () => {
  const busy = {
    status: 503,
    body: {
      success: false,
      status: 'error',
      message: 'The database is busy. Please try again shortly.',
      code: 'database_busy',
    },
  };

  it('DatabaseBusyError is a 503 database_busy with its Retry-After', () => {
    expect(envelopeFor(new DatabaseBusyError(5))).toEqual({ ...busy, headers: { 'Retry-After': '5' } });
  });

  it('a SQLite busy or locked refusal that reached the filter raw or wrapped by TypeORM is a 503 too', () => {
    const raw = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    const wrapped = Object.assign(new Error('database table is locked'), { driverError: { code: 'SQLITE_LOCKED' } });
    for (const error of [raw, wrapped]) {
      expect(envelopeFor(error)).toEqual({ ...busy, headers: { 'Retry-After': '1' } });
    }
    expect(envelopeFor(Object.assign(new Error('constraint'), { code: 'SQLITE_CONSTRAINT_UNIQUE' }))).toBeNull();
  });
});
