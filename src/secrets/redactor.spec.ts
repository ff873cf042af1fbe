import { MASK, Redactor, restoreMasked } from './redactor';

describe('Redactor', () => {
  const sut = new Redactor();

  describe('sensitive keys', () => {
    it.each([
      'password',
      'Password',
      'smtpPassword',
      'authPassword',
      'secret',
      'clientSecret',
      'client_secret',
      'awsSecretKey',
      'workflowHeaderSecret',
      'token',
      'authToken',
      'access_token',
      'refreshToken',
      'next_page_token',
      'tokens',
      'apiKey',
      'api_key',
      'API-KEY',
      'x-api-key',
      'authorization',
      'Authorization',
      'proxy-authorization',
      'privateKey',
      'private_key',
      'accessKey',
      'awsAccessKey',
      'aws_access_key_id',
    ])('masks %p', (key) => {
      expect(sut.redact({ [key]: 'hunter22', other: 'visible' })).toEqual({ [key]: MASK, other: 'visible' });
    });

    it.each(['username', 'url', 'webhookUrl', 'key', 'keys', 'author', 'pass', 'api', 'tok', 'privacy', 'accessible'])(
      'keeps %p',
      (key) => {
        expect(sut.redact({ [key]: 'hunter22' })).toEqual({ [key]: 'hunter22' });
      },
    );

    it.each([
      ['a secret reference', 'email:smtp:main'],
      ['an auto reference', 'http:bearer_token:auto-bearertoken-1'],
      ['a template', '{{Trigger.token}}'],
      ['a spaced template', ' {{ Secrets.api_key }} '],
      ['an empty string', ''],
      ['null', null],
      ['undefined', undefined],
      ['a number', 42],
      ['zero', 0],
      ['a boolean', false],
      ['an empty object', {}],
      ['an empty array', []],
    ])('keeps %s', (_label, value) => {
      expect(sut.redact({ token: value })).toEqual({ token: value });
    });

    it.each([
      ['a value with spaces that looks like a reference', 'email:smtp:my key'],
      ['a URL with a port', 'https://user:pass@host'],
      ['three colons', 'a:b:c:d'],
      ['one colon', 'user:pass'],
      ['text around a template', 'Bearer {{token}}'],
      ['two templates', '{{a}}{{b}}'],
      ['whitespace only', ' '],
    ])('masks %s', (_label, value) => {
      expect(sut.redact({ password: value })).toEqual({ password: MASK });
    });

    it('replaces non-empty objects and arrays wholesale', () => {
      expect(
        sut.redact({
          credentials: { ok: true },
          secret: { nested: { deep: 'x' }, ref: 'a:b:c' },
          tokens: ['a', 'b'],
          apiKeys: [{}],
        }),
      ).toEqual({ credentials: { ok: true }, secret: MASK, tokens: MASK, apiKeys: MASK });
    });

    it('walks nested objects and arrays', () => {
      const input = {
        nodes: [
          { id: 'n1', data: { params: { url: 'https://x', token: 'abc', headers: [] } } },
          { id: 'n2', data: { params: { service: 'smtp', smtpPassword: 'pw', to: 'a@b.co' } } },
        ],
        matrix: [[{ apiKey: 'k' }, 'plain'], [[{ private_key: 'pem' }]]],
      };
      expect(sut.redact(input)).toEqual({
        nodes: [
          { id: 'n1', data: { params: { url: 'https://x', token: MASK, headers: [] } } },
          { id: 'n2', data: { params: { service: 'smtp', smtpPassword: MASK, to: 'a@b.co' } } },
        ],
        matrix: [[{ apiKey: MASK }, 'plain'], [[{ private_key: MASK }]]],
      });
    });

    it('masks the value of a {key, value} pair whose key is sensitive (HTTP headers)', () => {
      const headers = [
        { key: 'Authorization', value: 'Bearer abc' },
        { key: 'X-Api-Key', value: 'k-123' },
        { key: 'Accept', value: 'application/json' },
        { key: 'X-Token', value: '{{Trigger.token}}' },
      ];
      expect(sut.redact({ headers })).toEqual({
        headers: [
          { key: 'Authorization', value: MASK },
          { key: 'X-Api-Key', value: MASK },
          { key: 'Accept', value: 'application/json' },
          { key: 'X-Token', value: '{{Trigger.token}}' },
        ],
      });
    });

    it('masks sensitive Map entries and non-empty Buffers under sensitive keys', () => {
      const out = sut.redact({
        map: new Map<unknown, unknown>([
          ['token', 't'],
          ['name', 'n'],
          [1, 'one'],
        ]),
        privateKey: Buffer.from('pem'),
        secretBytes: Buffer.alloc(0),
      });
      expect(out.map).toEqual(
        new Map<unknown, unknown>([
          ['token', MASK],
          ['name', 'n'],
          [1, 'one'],
        ]),
      );
      expect(out.privateKey).toBe(MASK);
      expect(out.secretBytes).toEqual(Buffer.alloc(0));
    });

    it('keeps Dates under sensitive keys', () => {
      const tokenExpiresAt = new Date('2025-01-01T00:00:00Z');
      expect(sut.redact({ tokenExpiresAt })).toEqual({ tokenExpiresAt });
    });
  });

  describe('known secrets', () => {
    it('replaces every occurrence inside long strings', () => {
      const long = 'x'.repeat(10_000) + 'sk_live_42' + 'y'.repeat(10_000) + 'sk_live_42';
      const out = sut.redact({ body: long }, ['sk_live_42']);
      expect(out.body).toBe('x'.repeat(10_000) + MASK + 'y'.repeat(10_000) + MASK);
    });

    it('replaces inside arrays, nested values and kept sensitive values, never in keys', () => {
      const out = sut.redact(
        { list: ['a hunter22 b', ['hunter22']], hunter22: 'ok', nested: { msg: 'pw=hunter22;' }, token: 42 },
        new Set(['hunter22']),
      );
      expect(out).toEqual({
        list: [`a ${MASK} b`, [MASK]],
        hunter22: 'ok',
        nested: { msg: `pw=${MASK};` },
        token: 42,
      });
    });

    it('prefers the longest secret and escapes regex specials', () => {
      const out = sut.redact(['abcd1234', 'a.b*c(d)[e]+$^|\\', 'axbxc(d)'], ['abcd', 'abcd1234', 'a.b*c(d)[e]+$^|\\']);
      expect(out).toEqual([MASK, MASK, 'axbxc(d)']);
    });

    it('ignores secrets shorter than 4 characters and non-strings', () => {
      const secrets = ['abc', '', 'abcd', 7 as unknown as string];
      expect(sut.redact('abc abcd 7', secrets)).toBe(`abc ${MASK} 7`);
    });

    it('accepts any iterable, including a one-shot generator', () => {
      function* secrets() {
        yield 'alpha123';
        yield 'beta4567';
      }
      expect(sut.redact(['alpha123', 'beta4567', 'alpha123'], secrets())).toEqual([MASK, MASK, MASK]);
    });

    it('redacts a top-level string and leaves other primitives alone', () => {
      expect(sut.redact('token=abcd', ['abcd'])).toBe(`token=${MASK}`);
      expect(sut.redact(12345, ['12345'])).toBe(12345);
      expect(sut.redact(null, ['abcd'])).toBeNull();
      expect(sut.redact(undefined)).toBeUndefined();
    });

    it('masks a known secret in its percent-encoded and base64 forms too (an echoed query or Basic auth header)', () => {
      const secret = 'p@ss w/rd+9Zq!';
      expect(sut.redactString(`https://api.test/x?token=${encodeURIComponent(secret)}&page=2`, [secret])).toBe(
        `https://api.test/x?token=${MASK}&page=2`,
      );
      expect(sut.redactString(`https://api.test/${encodeURI(secret)}/hook`, [secret])).not.toContain(encodeURI(secret));
      // Basic auth: the password's bytes sit at any offset inside base64("user:password").
      for (const user of ['a', 'ab', 'abc', 'deploy-bot']) {
        const header = `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
        const masked = sut.redactString(header, [secret]);
        expect(masked).toContain(MASK);
        // What is left cannot give the password back: at most the user name and a byte or two at the edges.
        const left = masked.replace('Basic ', '').split(MASK).join('');
        expect(left.length).toBeLessThanOrEqual(Math.ceil(((user.length + 1) * 4) / 3) + 8);
        expect(Buffer.from(left, 'base64').toString('latin1')).not.toContain(secret.slice(2, -2));
      }
      const urlSafe = Buffer.from(`x${secret}`).toString('base64url');
      expect(sut.redactString(urlSafe, [secret])).toContain(MASK);
      // Ordinary text is left alone.
      expect(sut.redactString('nothing secret here', [secret])).toBe('nothing secret here');
    });

    it('redactString replaces known secrets only', () => {
      expect(sut.redactString('login user=bob password=hunter22 hunter22', ['hunter22'])).toBe(
        `login user=bob password=${MASK} ${MASK}`,
      );
      expect(sut.redactString('password=hunter22')).toBe('password=hunter22');
      expect(sut.redactString('abc', ['abc'])).toBe('abc');
      expect(sut.redactString('', ['abcd'])).toBe('');
    });

    it('does not leak regex state between calls', () => {
      const secrets = ['abcd'];
      for (let i = 0; i < 3; i++) {
        expect(sut.redactString('abcd abcd', secrets)).toBe(`${MASK} ${MASK}`);
        expect(sut.redact(['abcd', 'abcd'], secrets)).toEqual([MASK, MASK]);
      }
    });
  });

  describe('maskCredential (one side of a change-log entry)', () => {
    it.each([
      ['null (absent)', null],
      ['undefined', undefined],
      ['an empty string', ''],
      ['an empty object', {}],
      ['an empty array', []],
      ['a reference', 'email:sendgrid:main'],
      ['a template', '{{Secrets.token}}'],
    ])('shows %s as it is', (_label, value) => {
      expect(sut.maskCredential(value)).toEqual(value);
    });

    it('masks a real value, so absent → value and value → empty show which side changed', () => {
      const change = (from: unknown, to: unknown) => [sut.maskCredential(from), sut.maskCredential(to)];
      expect(change(null, '')).toEqual([null, '']);
      expect(change(undefined, '')).toEqual([undefined, '']);
      expect(change(null, 'hunter22')).toEqual([null, MASK]);
      expect(change('hunter22', '')).toEqual([MASK, '']);
      expect(change({ nested: 'x' }, null)).toEqual([MASK, null]);
    });
  });

  describe('structure', () => {
    it('never mutates its input', () => {
      const input = { a: { password: 'p', list: [{ token: 't' }, 'hunter22'] }, when: new Date(0) };
      const before = structuredClone(input);
      const out = sut.redact(input, ['hunter22']);
      expect(input).toEqual(before);
      expect(out).not.toBe(input);
      expect(out.a).not.toBe(input.a);
      expect(out.a.list).not.toBe(input.a.list);
    });

    it('replaces cycles with [Circular] but copies shared references', () => {
      const shared = { v: 1 };
      const input: Record<string, unknown> = { left: shared, right: shared, list: [] as unknown[] };
      input.self = input;
      (input.list as unknown[]).push(input.list);
      const out = sut.redact(input);
      expect(out.self).toBe('[Circular]');
      expect(out.list).toEqual(['[Circular]']);
      expect(out.left).toEqual({ v: 1 });
      expect(out.right).toEqual({ v: 1 });
    });

    it('masks a cyclic object under a sensitive key', () => {
      const input: Record<string, unknown> = {};
      input.secret = input;
      expect(sut.redact(input)).toEqual({ secret: MASK });
    });

    it('copies Dates and leaves Buffers as is', () => {
      const when = new Date('2025-03-01T10:00:00Z');
      const bytes = Buffer.from('data');
      const out = sut.redact({ when, bytes });
      expect(out.when).toEqual(when);
      expect(out.when).not.toBe(when);
      expect(out.when).toBeInstanceOf(Date);
      expect(out.bytes).toBe(bytes);
    });

    it('truncates values deeper than 64 levels', () => {
      const root: Record<string, unknown> = {};
      let cursor = root;
      for (let i = 1; i <= 100; i++) {
        const next: Record<string, unknown> = { level: i };
        cursor.child = next;
        cursor = next;
      }
      let out = sut.redact(root) as Record<string, unknown>;
      for (let i = 1; i < 64; i++) out = out.child as Record<string, unknown>;
      expect(out.level).toBe(63);
      const level64 = out.child as Record<string, unknown>;
      expect(level64.level).toBe(64);
      expect(level64.child).toBe('[Truncated]');
    });

    it('handles very large arrays of shallow objects without stack issues', () => {
      const input = Array.from({ length: 50_000 }, (_, i) => ({ id: i, token: `t${i}` }));
      const out = sut.redact(input);
      expect(out).toHaveLength(50_000);
      expect(out[49_999]).toEqual({ id: 49_999, token: MASK });
    });

    it('does not let a __proto__ key become the prototype of the copy', () => {
      const input = JSON.parse('{"__proto__":{"password":"p","polluted":true},"a":1}') as Record<string, unknown>;
      const out = sut.redact(input);
      expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
      expect(Object.keys(out)).toEqual(['__proto__', 'a']);
      expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toEqual({ password: MASK, polluted: true });
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('copies class instances as their own enumerable fields, or through toJSON', () => {
      class Run {
        id = 'r1';
        snapshot = { token: 't' };
      }
      class Stamp {
        toJSON() {
          return { password: 'p', at: 'now' };
        }
      }
      expect(sut.redact({ run: new Run(), stamp: new Stamp() })).toEqual({
        run: { id: 'r1', snapshot: { token: MASK } },
        stamp: { password: MASK, at: 'now' },
      });
    });

    it('redacts Errors, keeping their class and hiding known secrets in message and stack', () => {
      const error = Object.assign(new TypeError('auth failed for hunter22'), { apiKey: 'k', code: 'E_AUTH' });
      const out = sut.redact({ error }, ['hunter22']).error;
      expect(out).toBeInstanceOf(TypeError);
      expect(out).not.toBe(error);
      expect(out.message).toBe(`auth failed for ${MASK}`);
      expect(out.stack).not.toContain('hunter22');
      expect(out).toMatchObject({ apiKey: MASK, code: 'E_AUTH' });
      expect(error.message).toBe('auth failed for hunter22');
    });

    it('keeps the answer to repeated key lookups stable', () => {
      for (let i = 0; i < 3; i++)
        expect(sut.redact({ Password: 'x', user: 'u' })).toEqual({ Password: MASK, user: 'u' });
    });
  });
});

describe('restoreMasked', () => {
  it('restores masked values by key', () => {
    const previous = { params: { url: 'https://x', token: 'real', smtpPassword: 'pw' }, label: 'old' };
    const incoming = { params: { url: 'https://y', token: MASK, smtpPassword: 'new-pw' }, label: 'new' };
    expect(restoreMasked(incoming, previous)).toEqual({
      params: { url: 'https://y', token: 'real', smtpPassword: 'new-pw' },
      label: 'new',
    });
  });

  it('restores a wholesale-masked object', () => {
    const previous = { secret: { a: 1, b: [2] } };
    const out = restoreMasked({ secret: MASK }, previous) as typeof previous;
    expect(out).toEqual(previous);
    expect(out.secret).not.toBe(previous.secret);
  });

  it('restores by index in arrays without ids', () => {
    const previous = {
      headers: [
        { key: 'Authorization', value: 'Bearer x' },
        { key: 'Accept', value: 'a' },
      ],
    };
    const incoming = {
      headers: [
        { key: 'Authorization', value: MASK },
        { key: 'Accept', value: MASK },
        { key: 'New', value: MASK },
      ],
    };
    expect(restoreMasked(incoming, previous)).toEqual({
      headers: [
        { key: 'Authorization', value: 'Bearer x' },
        { key: 'Accept', value: 'a' },
        { key: 'New', value: MASK },
      ],
    });
    expect(restoreMasked([MASK, MASK], ['a'])).toEqual(['a', MASK]);
  });

  it('matches {key, value} pairs by key: reordered pairs keep their own secrets, a renamed pair reveals nothing', () => {
    const previous = {
      headers: [
        { key: 'Authorization', value: 'Bearer x' },
        { key: 'X-Api-Key', value: 'k-1' },
        { key: 'X-Api-Key', value: 'k-2' },
      ],
    };
    // Reordered: each value follows its name (and repeated names keep their order).
    expect(
      restoreMasked(
        {
          headers: [
            { key: 'X-Api-Key', value: MASK },
            { key: 'Authorization', value: MASK },
            { key: 'X-Api-Key', value: MASK },
          ],
        },
        previous,
      ),
    ).toEqual({
      headers: [
        { key: 'X-Api-Key', value: 'k-1' },
        { key: 'Authorization', value: 'Bearer x' },
        { key: 'X-Api-Key', value: 'k-2' },
      ],
    });
    // Renamed to a name nobody masks: the old secret is not put under it.
    expect(restoreMasked({ headers: [{ key: 'X-Note', value: MASK }] }, previous)).toEqual({
      headers: [{ key: 'X-Note', value: MASK }],
    });
  });

  it('restores by id in arrays of objects with string ids, whatever the order', () => {
    const previous = {
      nodes: [
        { id: 'a', data: { params: { token: 'token-a' } } },
        { id: 'b', data: { params: { token: 'token-b' } } },
      ],
    };
    const incoming = {
      nodes: [
        { id: 'c', data: { params: { token: MASK } } },
        { id: 'b', data: { params: { token: MASK } } },
        { id: 'a', data: { params: { token: MASK, extra: 1 } } },
      ],
    };
    expect(restoreMasked(incoming, previous)).toEqual({
      nodes: [
        { id: 'c', data: { params: { token: MASK } } },
        { id: 'b', data: { params: { token: 'token-b' } } },
        { id: 'a', data: { params: { token: 'token-a', extra: 1 } } },
      ],
    });
  });

  it('falls back to index matching when not every item has a string id', () => {
    const previous = [{ id: 'a', token: 'ta' }, { token: 'tx' }];
    const incoming = [{ id: 'a', token: MASK }, { token: MASK }];
    expect(restoreMasked(incoming, previous)).toEqual([{ id: 'a', token: 'ta' }, { token: 'tx' }]);
    expect(restoreMasked([{ id: 1, token: MASK }], [{ id: 1, token: 't' }])).toEqual([{ id: 1, token: 't' }]);
  });

  it('leaves MASK when previous lacks the path', () => {
    expect(restoreMasked({ a: { token: MASK } }, { a: {} })).toEqual({ a: { token: MASK } });
    expect(restoreMasked({ a: { token: MASK } }, { a: 'string' })).toEqual({ a: { token: MASK } });
    expect(restoreMasked({ a: { token: MASK } }, undefined)).toEqual({ a: { token: MASK } });
    expect(restoreMasked({ list: [MASK] }, { list: {} })).toEqual({ list: [MASK] });
    expect(restoreMasked(MASK, undefined)).toBe(MASK);
  });

  it('does not read inherited properties of previous', () => {
    expect(restoreMasked({ toString: MASK, constructor: MASK }, {})).toEqual({ toString: MASK, constructor: MASK });
  });

  it('keeps values that are not exactly MASK', () => {
    const previous = { token: 'real' };
    expect(restoreMasked({ token: `${MASK} ` }, previous)).toEqual({ token: `${MASK} ` });
    expect(restoreMasked({ token: '*********' }, previous)).toEqual({ token: '*********' });
    expect(restoreMasked({ token: '' }, previous)).toEqual({ token: '' });
    expect(restoreMasked({ token: null }, previous)).toEqual({ token: null });
    expect(restoreMasked({}, previous)).toEqual({});
  });

  it('round trips a redacted workflow back to the stored one', () => {
    const sut = new Redactor();
    const stored = {
      nodes: [
        {
          id: 'h',
          type: 'actionHttp',
          data: {
            params: { authType: 'bearer', token: 'tok', headers: [{ key: 'Authorization', value: 'Bearer z' }] },
          },
        },
        {
          id: 'e',
          type: 'action',
          data: { params: { service: 'smtp', smtpPassword: 'email:smtp:main', creds: { a: 1 } } },
        },
      ],
      edges: [],
    };
    expect(restoreMasked(sut.redact(stored), stored)).toEqual(stored);
  });

  it('returns a new structure and never mutates its arguments', () => {
    const previous = { a: { token: 'real' }, list: [1, 2] };
    const incoming = { a: { token: MASK }, list: [1, 2], b: { c: 1 } };
    const before = [structuredClone(previous), structuredClone(incoming)];
    const out = restoreMasked(incoming, previous) as typeof incoming;
    expect([previous, incoming]).toEqual(before);
    expect(out).not.toBe(incoming);
    expect(out.a).not.toBe(incoming.a);
    expect(out.b).not.toBe(incoming.b);
    expect(out.list).not.toBe(incoming.list);
  });

  it('handles __proto__ keys and cycles without throwing', () => {
    const incoming = JSON.parse('{"__proto__":{"token":"********"}}') as unknown;
    const previous = JSON.parse('{"__proto__":{"token":"t"}}') as unknown;
    const out = restoreMasked(incoming, previous) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toEqual({ token: 't' });

    const cyclic: Record<string, unknown> = { token: MASK };
    cyclic.self = cyclic;
    expect(() => restoreMasked(cyclic, { token: 't' })).not.toThrow();
    expect((restoreMasked(cyclic, { token: 't' }) as Record<string, unknown>).token).toBe('t');
  });

  it('passes primitives through', () => {
    expect(restoreMasked('x', 'y')).toBe('x');
    expect(restoreMasked(1, 2)).toBe(1);
    expect(restoreMasked(null, { a: 1 })).toBeNull();
    expect(restoreMasked(MASK, 'stored')).toBe('stored');
  });
});
