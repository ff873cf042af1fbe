import type { HttpRequest as Request } from '../http/http';
import { readCredential } from './credentials';

const req = (headers: Record<string, string>, cookies: Record<string, string> = {}) =>
  ({ headers, cookies }) as unknown as Request;
const uuid = '6F1C1B9E-3F7A-4D33-9C55-1B0E2F0A9A10';

describe('readCredential (docs/contract.md §1.1)', () => {
  it('reads a bearer session id, case-insensitive scheme, lower-cased token', () => {
    expect(readCredential(req({ authorization: `BEARER ${uuid}` }))).toEqual({
      kind: 'session',
      token: uuid.toLowerCase(),
      via: 'bearer',
    });
  });

  it('reads an API key', () => {
    expect(readCredential(req({ authorization: 'Bearer rl_abc' }))).toEqual({ kind: 'api_key', token: 'rl_abc' });
  });

  it('prefers the header over the cookie', () => {
    expect(readCredential(req({ authorization: 'Bearer rl_x' }, { dsentr_session: uuid })).kind).toBe('api_key');
  });

  it('falls back to the cookie', () => {
    expect(readCredential(req({}, { dsentr_session: uuid }))).toEqual({
      kind: 'session',
      token: uuid.toLowerCase(),
      via: 'cookie',
    });
  });

  it.each([
    [{ authorization: 'Basic abc' }, {}, 'Invalid session token'],
    [{ authorization: 'Bearer' }, {}, 'Invalid session token'],
    [{ authorization: 'Bearer nope' }, {}, 'Invalid session token'],
    [{}, { dsentr_session: 'nope' }, 'Invalid session token'],
    [{}, {}, 'Session is required'],
  ])('rejects %p %p with %p', (headers, cookies, message) => {
    expect(() => readCredential(req(headers, cookies))).toThrow(message);
  });
});
