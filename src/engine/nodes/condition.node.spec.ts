import type { OutboundHttp } from '../../egress/outbound-http';
import { NodeError, type NodeContext } from '../node-types';
import { ConditionNode, floatText, resolveOperand, valuesEqual } from './condition.node';

const context: Record<string, unknown> = {
  Hook: { amount: 150, name: 'Widget Pro', status: 'paid', tags: ['a', 'b'], meta: { x: 1, y: [1, 2] }, zero: 0 },
  HTTP: { status: 200, body: { ok: true, items: [{ id: 'i-1' }], version: '10' }, nothing: null },
  Alpha: { shared: 'from Alpha' },
  Zeta: { shared: 'from Zeta', only: 'z' },
  list: [1, 2, 3],
  flag: true,
  count: '12',
  word: 'apple',
};

function nodeContext(ctx: Record<string, unknown>): NodeContext {
  return {
    context: ctx,
    run: { runId: 'run-1', workflowId: 'wf-1', ownerId: 'user-1', workspaceId: null },
    signal: new AbortController().signal,
    http: {} as unknown as OutboundHttp,
    now: () => new Date(),
  };
}

const evaluate = async (data: Record<string, unknown>, ctx: Record<string, unknown> = context) =>
  new ConditionNode().execute({ id: 'cond-1', type: 'condition', data }, nodeContext(ctx));

const expr = async (expression: string, ctx?: Record<string, unknown>) => {
  const result = await evaluate({ expression }, ctx);
  return result.branch;
};

describe('ConditionNode (docs/contract.md §5.5)', () => {
  it('returns { outputs: { result }, branch: result }', async () => {
    await expect(evaluate({ expression: '1 == 1' })).resolves.toEqual({ outputs: { result: true }, branch: true });
    await expect(evaluate({ expression: '1 == 2' })).resolves.toEqual({ outputs: { result: false }, branch: false });
  });

  describe('operand resolution', () => {
    it.each([
      ['{{Hook.amount}} > 100', true],
      ['{{ Hook.amount }} > 200', false],
      ['{{Hook.name}} == Widget Pro', true],
      ['{{HTTP.body.items.0.id}} == i-1', true],
      ['{{Hook.missing}} == ""', true],
      ['Hook.amount == 150', true],
      ['HTTP.body.ok == true', true],
      ['HTTP.body.items.0.id == "i-1"', true],
      ['Hook.amount.deeper == 150', true],
      ['HTTP.nothing == null', true],
      ['amount >= 150', true],
      // `status` exists in HTTP and Hook: top-level keys are searched in sorted order ("HTTP" < "Hook").
      ['status == 200', true],
      ['status == paid', false],
      ['name == Widget Pro', true],
      ['HTTP.status == 200', true],
      ['shared == from Alpha', true],
      ['only == z', true],
      ['word == apple', true],
      ['word == "apple"', true],
      ["word == 'apple'", true],
      ['unknown == unknown', true],
      ['unknown == other', false],
    ])('%s → %s', async (expression, expected) => {
      await expect(expr(expression)).resolves.toBe(expected);
    });

    it.each([
      ['', null],
      ['   ', null],
      ['Hook.amount', 150],
      ['Hook', context.Hook],
      ['list.1', 2],
      ['list.9', 'list.9'],
      ['amount', 150],
      ['shared', 'from Alpha'],
      ['42', 42],
      ['3.5', 3.5],
      ['-2', -2],
      ['[1, 2]', [1, 2]],
      ['{"a":1}', { a: 1 }],
      ['null', null],
      ['false', false],
      ['"quoted text"', 'quoted text'],
      ["'single'", 'single'],
      ['  padded words  ', 'padded words'],
      ['{{Hook.meta}}', { x: 1, y: [1, 2] }],
      ['{{Hook.tags}}', ['a', 'b']],
      ['total: {{Hook.amount}}', 'total: 150'],
      ['{{nope}}', ''],
    ])('resolveOperand(%p)', (raw, expected) => {
      expect(resolveOperand(raw, context)).toEqual(expected);
    });

    it('looks keys up in top-level objects in sorted key order and ignores arrays', () => {
      const ctx = { b: { k: 'from b' }, a: { k: 'from a' }, arr: [{ k: 'in array' }], s: 'k' };
      expect(resolveOperand('k', ctx)).toBe('from a');
      expect(resolveOperand('0', { arr: ['x'] })).toBe(0);
    });

    it('does not resolve inherited properties', () => {
      expect(resolveOperand('toString', { a: {} })).toBe('toString');
      expect(resolveOperand('__proto__', { a: {} })).toBe('__proto__');
    });
  });

  describe('operator detection', () => {
    it.each([
      ['name contains Pro', true],
      ['{{Hook.name}} contains Pro', true],
      ['{{Hook.name}} contains pro', false],
      ['Hook.name contains  Widget ', true],
      ['a >= b', false],
      ['5 >= 5', true],
      ['5 <= 4', false],
      ['5 == 5', true],
      ['5 != 5', false],
      ['6 > 5', true],
      ['6 < 5', false],
      ['a==a', true],
      ['3>2', true],
      ['2<=2', true],
      ['1!=2', true],
      ['x contains y >= 1', false],
      // `>=` is tried before `==`: "2" vs "1 == false" compares lexically.
      ['2 >= 1 == false', true],
      ['a<=b==c', true],
      ['b<=a==c', false],
      ['note == a>b', false],
    ])('%s → %s', async (expression, expected) => {
      await expect(expr(expression)).resolves.toBe(expected);
    });

    it('splits at the first occurrence of the first matching operator', async () => {
      // `==` is tried before `>`: "1 > 0 == 1 > 0" → left "1 > 0", right "1 > 0" (same literal strings).
      await expect(expr('1 > 0 == 1 > 0')).resolves.toBe(true);
      // ` contains ` wins over `==` even when `==` comes first.
      await expect(expr('a == b contains ==')).resolves.toBe(true);
    });

    it('treats an operator with an empty side as comparing with null', async () => {
      await expect(expr('== ""')).resolves.toBe(true);
      await expect(expr('Hook.missing ==')).resolves.toBe(false);
      await expect(expr('{{Hook.missing}} ==')).resolves.toBe(true);
    });

    it.each(['no operator here', 'contains', 'a contains', '=', '!', 'a = b', 'a ≠ b', '!a'])(
      'rejects %p as an unsupported expression',
      async (expression) => {
        const attempt = evaluate({ expression });
        await expect(attempt).rejects.toBeInstanceOf(NodeError);
        await expect(attempt).rejects.toThrow('Unsupported condition expression');
      },
    );
  });

  describe('equality', () => {
    it.each([
      ['"1" == 1', '1', 1, true],
      ['1.5 == "1.5"', 1.5, '1.5', true],
      ['"1.0" == 1', '1.0', 1, false],
      ['1 == 1', 1, 1, true],
      ['"a" == "a"', 'a', 'a', true],
      ['"a" == "A"', 'a', 'A', false],
      ['true == "true"', true, 'true', true],
      ['false == "false"', false, 'false', true],
      ['true == 1', true, 1, false],
      ['null == ""', null, '', true],
      ['null == null', null, null, true],
      ['null == 0', null, 0, false],
      ['null == false', null, false, false],
      ['[1,2] == [1,2]', [1, 2], [1, 2], true],
      ['[1,2] == [2,1] (order-sensitive)', [1, 2], [2, 1], false],
      ['[1,2] == [1,2,3]', [1, 2], [1, 2, 3], false],
      ['{a,b} == {b,a} (key order ignored)', { a: 1, b: [2] }, { b: [2], a: 1 }, true],
      ['{a:1} == {a:2}', { a: 1 }, { a: 2 }, false],
      ['{a:1} == {a:1,b:2}', { a: 1 }, { a: 1, b: 2 }, false],
      ['{} == []', {}, [], false],
      ['[] == []', [], [], true],
      ['[1] == 1', [1], 1, false],
      ['[] == ""', [], '', false],
      ['{} == null', {}, null, false],
      ['[["1"]] == [[1]] (nested strictly)', [['1']], [[1]], false],
      ['{a:{b:null}} == {a:{b:null}}', { a: { b: null } }, { a: { b: null } }, true],
    ])('%s', (_name, left, right, expected) => {
      expect(valuesEqual(left, right)).toBe(expected);
      expect(valuesEqual(right, left)).toBe(expected);
    });

    it.each([
      ['{{Hook.tags}} == ["a","b"]', true],
      ['{{Hook.tags}} == ["b","a"]', false],
      ['{{Hook.tags}} != ["b","a"]', true],
      ['{{Hook.meta}} == {"y":[1,2],"x":1}', true],
      ['{{Hook.meta}} == {"x":1}', false],
      ['Hook.tags == Hook.meta', false],
      ['Hook.tags != Hook.meta', true],
      ['list == [1,2,3]', true],
      ['list == [1,2]', false],
      ['HTTP.body == {"ok":true,"items":[{"id":"i-1"}],"version":"10"}', true],
      ['"1" == 1', true],
      ['{{HTTP.nothing}} == ""', true],
      ['HTTP.nothing == ""', true],
      ['flag == "true"', true],
      ['flag != false', true],
      ['Hook.zero == false', false],
    ])('deep equality in expressions (deviation 21 in docs/deviations.md): %s → %s', async (expression, expected) => {
      await expect(expr(expression)).resolves.toBe(expected);
    });
  });

  describe('ordering', () => {
    it.each([
      ['10 > 9', true],
      ['"10" > "9"', true],
      ['count > 9', true],
      ['HTTP.body.version > 9', true],
      ['HTTP.body.version > "9"', true],
      ['10a > 9a', false],
      ['b > a', true],
      ['apple < banana', true],
      ['Zebra < apple', true],
      ['abc >= abc', true],
      ['abc <= abd', true],
      ['abd <= abc', false],
      ['1.5 >= 1.5', true],
      ['0.1 <= 0.2', true],
      ['2 >= 3', false],
      ['true > false', true],
      ['true >= 1', true],
      ['flag > 0', true],
      ['1e3 > 999', true],
      ['" 5 " < 6', true],
      ['{{Hook.amount}} <= 150', true],
      ['{{Hook.amount}} < 150', false],
      ['-1 < 0', true],
      ['{{Hook.missing}} < a', true],
      ['{{Hook.tags}} > 1', false],
      ['{{Hook.tags}} < 1', false],
      ['{{Hook.tags}} >= {{Hook.tags}}', false],
      ['{{Hook.meta}} <= {{Hook.meta}}', false],
    ])('%s → %s', async (expression, expected) => {
      await expect(expr(expression)).resolves.toBe(expected);
    });

    it('compares numeric-looking strings numerically and others lexically (by UTF-8 bytes)', async () => {
      await expect(expr('a > b', { x: { a: '10', b: '9' } })).resolves.toBe(true);
      await expect(expr('a > b', { x: { a: 'item10', b: 'item9' } })).resolves.toBe(false);
      await expect(expr('a > b', { x: { a: '\u{1F600}', b: '\uFF21' } })).resolves.toBe(true);
    });

    it('accepts the reference float syntax (inf, nan, leading dot)', async () => {
      await expect(expr('a > b', { x: { a: 'inf', b: 1e308 } })).resolves.toBe(true);
      await expect(expr('a > b', { x: { a: 'NaN', b: 1 } })).resolves.toBe(false);
      await expect(expr('a >= b', { x: { a: 'nan', b: 'NaN' } })).resolves.toBe(false);
      await expect(expr('a > b', { x: { a: 'NaN', b: 'A' } })).resolves.toBe(true); // lexical: "A" is not numeric
      await expect(expr('a < b', { x: { a: 'NaN', b: 1 } })).resolves.toBe(false);
      await expect(expr('a < b', { x: { a: '.5', b: 1 } })).resolves.toBe(true);
    });
  });

  describe('contains', () => {
    it.each([
      ['{{Hook.name}} contains Widget', true],
      ['Hook.name contains "Pro"', true],
      ['Hook.name contains Basic', false],
      ['Hook.amount contains 5', true],
      ['Hook.amount contains 6', false],
      ['flag contains ru', true],
      ['Hook.tags contains a', false],
      ['Hook.meta contains x', false],
      ['Hook.name contains {{Hook.tags}}', false],
      ['Hook.name contains ""', true],
      ['word contains {{Hook.missing}}', true],
      ['HTTP.nothing contains a', false],
    ])('%s → %s', async (expression, expected) => {
      await expect(expr(expression)).resolves.toBe(expected);
    });
  });

  describe('legacy mode (empty expression)', () => {
    it.each<[Record<string, unknown>, boolean]>([
      [{ field: 'Hook.status', value: 'paid' }, true],
      [{ field: 'Hook.status', operator: 'equals', value: 'paid' }, true],
      [{ field: ' Hook.status ', operator: 'equals', value: ' paid ' }, true],
      [{ field: 'name', value: 'Widget Pro' }, true],
      [{ field: 'status', value: '200' }, true],
      [{ field: 'Hook.status', operator: 'not equals', value: 'paid' }, false],
      [{ field: 'Hook.status', operator: 'not equals', value: 'due' }, true],
      [{ field: 'Hook.name', operator: 'contains', value: 'Pro' }, true],
      [{ field: 'Hook.tags', operator: 'contains', value: 'a' }, false],
      [{ field: 'Hook.amount', operator: 'greater than', value: '100' }, true],
      [{ field: 'Hook.amount', operator: 'less than', value: '100' }, false],
      [{ field: 'Hook.amount', operator: 'less than', value: '{{HTTP.status}}' }, true],
      [{ field: 'Hook.amount', operator: 'greater than', value: 100 }, true],
      [{ field: 'Hook.tags', value: ['a', 'b'] }, true],
      [{ field: 'Hook.tags', value: '["b","a"]' }, false],
      [{ field: 'Hook.missing', value: '' }, false],
      [{ field: '{{Hook.missing}}' }, true],
      [{ field: '{{Hook.missing}}', value: null }, true],
      [{ field: 'Hook.amount', operator: 'Equals', value: '150' }, false],
      [{ field: 'Hook.amount', operator: '>=', value: '150' }, false],
      [{ field: 'Hook.amount', operator: 'greater than or equal', value: '1' }, false],
      [{ field: 'Hook.amount', operator: 7, value: '150' }, true],
      [{ expression: '   ', field: 'Hook.amount', value: '150' }, true],
      [{ expression: 42, field: 'Hook.amount', value: '150' }, true],
    ])('%p → %s', async (data, expected) => {
      const result = await evaluate(data);
      expect(result).toEqual({ outputs: { result: expected }, branch: expected });
    });

    it.each<[Record<string, unknown>]>([
      [{}],
      [{ field: '' }],
      [{ field: '   ' }],
      [{ field: 5 }],
      [{ expression: '', operator: 'equals' }],
    ])('requires a field: %p', async (data) => {
      const attempt = evaluate(data);
      await expect(attempt).rejects.toBeInstanceOf(NodeError);
      await expect(attempt).rejects.toThrow('Missing condition field');
    });

    it('prefers the expression when both are present', async () => {
      await expect(evaluate({ expression: '1 == 2', field: 'Hook.amount', value: '150' })).resolves.toMatchObject({
        branch: false,
      });
    });
  });

  describe('floatText (the reference number text)', () => {
    it.each([
      [1, '1'],
      [1.5, '1.5'],
      [-2.25, '-2.25'],
      [1e21, '1000000000000000000000'],
      [1.5e22, '15000000000000000000000'],
      [-1e21, '-1000000000000000000000'],
      [1e-7, '0.0000001'],
      [1.25e-7, '0.000000125'],
      [0, '0'],
      [-0, '-0'],
      [Infinity, 'inf'],
      [-Infinity, '-inf'],
      [NaN, 'NaN'],
    ])('%p → %p', (n, text) => {
      expect(floatText(n)).toBe(text);
    });
  });
});
