import { CONCURRENCY_KEY_JSON_BUDGET, concurrencyKeyOf, keyTemplateParts } from './concurrency-key';

const trigger = (id: string, label: string) => ({ id, type: 'trigger', data: { label } });
const KEY = Buffer.alloc(32, 7);
const keyOf = (template: string, snapshot: Record<string, unknown>) => concurrencyKeyOf(template, snapshot, KEY);

describe('concurrencyKeyOf', () => {
  const snapshot = (payload: unknown, extra: Record<string, unknown> = {}) => ({
    nodes: [trigger('t1', 'Hook'), trigger('t2', 'Other'), { id: 'h', type: 'actionHttp', data: { label: 'Call' } }],
    edges: [],
    _trigger_context: payload,
    ...extra,
  });

  it('renders the template over the payload under the start trigger’s label, trimmed', () => {
    expect(keyOf('{{Hook.customer_id}}', snapshot({ customer_id: ' c-1 ' }))).toBe('c-1');
    expect(keyOf('cust:{{ Hook.customer.id }}', snapshot({ customer: { id: 42 } }))).toBe('cust:42');
    expect(keyOf('{{Hook.flag}}/{{Hook.none}}', snapshot({ flag: true, none: null }))).toBe('true/null');
    // A run started at another trigger sees the payload under that trigger's label.
    expect(keyOf('{{Other.x}}|{{Hook.x}}', snapshot({ x: 'y' }, { _start_from_node: 't2' }))).toBe('y|');
  });

  it('a missing field or payload is the empty group', () => {
    expect(keyOf('{{Hook.customer_id}}', snapshot({}))).toBe('');
    expect(keyOf('{{Hook.customer_id}}', snapshot(undefined))).toBe('');
    expect(keyOf('{{Hook.a}}', { nodes: 'not a list', _trigger_context: { a: 1 } })).toBe('');
  });

  it('a long group name is stored as its keyed hash: the same input, the same group', () => {
    const long = 'x'.repeat(300);
    const key = keyOf('{{Hook.v}}', snapshot({ v: long }));
    expect(key).toMatch(/^hmac:[0-9a-f]{64}$/);
    expect(keyOf('{{Hook.v}}', snapshot({ v: long }))).toBe(key);
    expect(keyOf('{{Hook.v}}', snapshot({ v: `${long}y` }))).not.toBe(key);
    expect(concurrencyKeyOf('{{Hook.v}}', snapshot({ v: long }), Buffer.alloc(32, 8))).not.toBe(key);
    expect(keyOf('{{Hook.v}}', snapshot({ v: 'x'.repeat(255) }))).toBe('x'.repeat(255));
  });

  it('a group holding what redaction masks is stored as its keyed hash, never as the credential', () => {
    const key = keyOf('{{Hook.api_token}}', snapshot({ api_token: '1234' }));
    expect(key).toMatch(/^hmac:[0-9a-f]{64}$/);
    expect(keyOf('{{Hook.api_token}}', snapshot({ api_token: '1234' }))).toBe(key);
    expect(keyOf('{{Hook.api_token}}', snapshot({ api_token: '4321' }))).not.toBe(key);
    // The whole payload, a credential inside it.
    expect(keyOf('{{Hook}}', snapshot({ user: 'a', password: 'hunter22' }))).toMatch(/^hmac:/);
    expect(keyOf('{{Hook}}', snapshot({ user: 'a' }))).toBe('{"user":"a"}');
  });

  it('objects render as sorted JSON, so equal payloads group together whatever their key order', () => {
    expect(keyOf('{{Hook.o}}', snapshot({ o: { b: 1, a: [2, { d: 'x', c: null }] } }))).toBe(
      '{"a":[2,{"c":null,"d":"x"}],"b":1}',
    );
    expect(keyOf('{{Hook.o}}', snapshot({ o: { b: 1, a: 2 } }))).toBe(
      keyOf('{{Hook.o}}', snapshot({ o: { a: 2, b: 1 } })),
    );
  });

  it('does bounded work on a hostile payload: a megabyte value, a hundred thousand keys, deep nesting', () => {
    const huge = { blob: 'x'.repeat(1_000_000), list: Array.from({ length: 100_000 }, (_, i) => i) };
    const key = keyOf('{{Hook}}', snapshot(huge));
    // The first budget of its JSON counts: stored hashed (longer than a column), the same each time.
    expect(key).toBe(keyOf('{{Hook}}', snapshot({ ...huge, list: [] })));
    const wide = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i]));
    expect(keyOf('{{Hook}}', snapshot(wide))).toBe('{"…":100000}');
    let deep: unknown = 'end';
    for (let i = 0; i < 10_000; i++) deep = [deep];
    expect(keyOf('{{Hook.d}}', snapshot({ d: deep })).length).toBeLessThanOrEqual(CONCURRENCY_KEY_JSON_BUDGET);
    // Only the first ten placeholders are read.
    expect(keyOf(`${'{{Hook.a}}'.repeat(12)}`, snapshot({ a: 'z' }))).toBe('z'.repeat(10));
  });

  it('splits a template as templating reads it', () => {
    expect(keyTemplateParts('a{{ x }}b{{y}}{{')).toEqual({ text: ['a', 'b', '{{'], paths: ['x', 'y'] });
    expect(keyTemplateParts('{{ }}').paths).toEqual(['']);
  });
});
