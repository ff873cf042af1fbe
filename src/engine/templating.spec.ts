import { flexibleParse, renderDeep, renderTemplate, resolvePath, stableStringify } from './templating';

const context = {
  Hook: { order: { id: 42, items: [{ sku: 'A-1' }, { sku: 'B-2' }], note: 'hi' }, flag: true, nothing: null },
  http: { status: 200, body: { b: 1, a: [1, 'x'] } },
};

describe('templating (docs/contract.md §5.3)', () => {
  it.each([
    ['Order {{Hook.order.id}}', 'Order 42'],
    ['{{ Hook.order.items.1.sku }}', 'B-2'],
    ['{{Hook.order.note}}!', 'hi!'],
    ['{{Hook.flag}}/{{Hook.nothing}}', 'true/null'],
    ['{{http.body}}', '{"a":[1,"x"],"b":1}'],
    ['[{{missing.path}}]', '[]'],
    ['{{Hook.order.items.9.sku}}', ''],
    ['{{Hook.order.id.deeper}}', '42'],
    ['no templates', 'no templates'],
    ['open {{Hook.order.id', 'open {{Hook.order.id'],
    ['{{Hook.order.id}} and {{http.status}}', '42 and 200'],
    ['{{}}', ''],
  ])('%s → %s', (template, expected) => {
    expect(renderTemplate(template, context)).toBe(expected);
  });

  it('resolves paths, missing → undefined', () => {
    expect(resolvePath(context, 'Hook.order.items.0')).toEqual({ sku: 'A-1' });
    expect(resolvePath(context, 'Hook.order.items.x')).toBeUndefined();
    expect(resolvePath(context, 'nope')).toBeUndefined();
    expect(resolvePath(context, '__proto__')).toBeUndefined();
  });

  it('renders deeply without touching keys', () => {
    expect(renderDeep({ '{{k}}': ['{{Hook.order.id}}', 3], nested: { v: '{{http.status}}' } }, context)).toEqual({
      '{{k}}': ['42', 3],
      nested: { v: '200' },
    });
  });

  it('stringifies with sorted keys', () => {
    expect(stableStringify({ b: [{ d: 1, c: 2 }], a: null })).toBe('{"a":null,"b":[{"c":2,"d":1}]}');
  });

  it.each([
    ['42', 42],
    ['{"a":1}', { a: 1 }],
    ['"quoted"', 'quoted'],
    ["'single'", 'single'],
    ['plain text', 'plain text'],
    ['true', true],
  ])('flexibleParse(%p)', (input, expected) => {
    expect(flexibleParse(input)).toEqual(expected);
  });
});
