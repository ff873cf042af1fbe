import { concurrencyKeyOf } from './concurrency-key';

const trigger = (id: string, label: string) => ({ id, type: 'trigger', data: { label } });

describe('concurrencyKeyOf', () => {
  const snapshot = (payload: unknown, extra: Record<string, unknown> = {}) => ({
    nodes: [trigger('t1', 'Hook'), trigger('t2', 'Other'), { id: 'h', type: 'actionHttp', data: { label: 'Call' } }],
    edges: [],
    _trigger_context: payload,
    ...extra,
  });

  it('renders the template over the payload under the start trigger’s label, trimmed', () => {
    expect(concurrencyKeyOf('{{Hook.customer_id}}', snapshot({ customer_id: ' c-1 ' }))).toBe('c-1');
    expect(concurrencyKeyOf('cust:{{Hook.customer.id}}', snapshot({ customer: { id: 42 } }))).toBe('cust:42');
    // A run started at another trigger sees the payload under that trigger's label.
    expect(concurrencyKeyOf('{{Other.x}}|{{Hook.x}}', snapshot({ x: 'y' }, { _start_from_node: 't2' }))).toBe('y|');
  });

  it('a missing field or payload is the empty group', () => {
    expect(concurrencyKeyOf('{{Hook.customer_id}}', snapshot({}))).toBe('');
    expect(concurrencyKeyOf('{{Hook.customer_id}}', snapshot(undefined))).toBe('');
    expect(concurrencyKeyOf('{{Hook.a}}', { nodes: 'not a list', _trigger_context: { a: 1 } })).toBe('');
  });

  it('a long group name is stored as its hash: the same input, the same group', () => {
    const long = 'x'.repeat(300);
    const key = concurrencyKeyOf('{{Hook.v}}', snapshot({ v: long }));
    expect(key).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(concurrencyKeyOf('{{Hook.v}}', snapshot({ v: long }))).toBe(key);
    expect(concurrencyKeyOf('{{Hook.v}}', snapshot({ v: `${long}y` }))).not.toBe(key);
    expect(concurrencyKeyOf('{{Hook.v}}', snapshot({ v: 'x'.repeat(255) }))).toBe('x'.repeat(255));
  });

  it('a group holding what redaction masks is stored as its hash, never as the credential', () => {
    const key = concurrencyKeyOf('{{Hook.api_token}}', snapshot({ api_token: 'tok-123456' }));
    expect(key).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(concurrencyKeyOf('{{Hook.api_token}}', snapshot({ api_token: 'tok-123456' }))).toBe(key);
    expect(concurrencyKeyOf('{{Hook.api_token}}', snapshot({ api_token: 'tok-654321' }))).not.toBe(key);
    // The whole payload, credentials inside it.
    expect(concurrencyKeyOf('{{Hook}}', snapshot({ user: 'a', password: 'hunter22' }))).toMatch(/^sha256:/);
    expect(concurrencyKeyOf('{{Hook}}', snapshot({ user: 'a' }))).toBe('{"user":"a"}');
  });

  it('objects render as sorted JSON, so equal payloads group together whatever their key order', () => {
    expect(concurrencyKeyOf('{{Hook.o}}', snapshot({ o: { b: 1, a: 2 } }))).toBe(
      concurrencyKeyOf('{{Hook.o}}', snapshot({ o: { a: 2, b: 1 } })),
    );
  });
});
