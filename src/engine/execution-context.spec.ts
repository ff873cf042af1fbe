import { contextKey, initialContext, withNodeOutputs } from './execution-context';

const node = (id: string, label?: unknown, type = 'action') => ({
  id,
  type,
  data: label === undefined ? {} : { label },
});

describe('contextKey (docs/contract.md §5.3)', () => {
  it.each([
    ['a plain label', node('n1', 'HTTP Request'), 'HTTP Request'],
    ['a label with surrounding spaces', node('n1', '  Hook  '), 'Hook'],
    ['an empty label', node('n1', ''), 'n1'],
    ['a blank label', node('n1', '   '), 'n1'],
    ['no label', node('n1'), 'n1'],
    ['a numeric label', node('n1', 42), 'n1'],
    ['a null label', node('n1', null), 'n1'],
    ['an object label', node('n1', { text: 'x' }), 'n1'],
  ])('%s', (_name, n, expected) => {
    expect(contextKey(n)).toBe(expected);
  });
});

describe('withNodeOutputs', () => {
  it('stores outputs under the label and its lower-cased alias, without mutating the input', () => {
    const before = { Hook: { a: 1 } };
    const after = withNodeOutputs(before, node('n2', ' HTTP Request '), { status: 200 });
    expect(after).toEqual({ Hook: { a: 1 }, 'HTTP Request': { status: 200 }, 'http request': { status: 200 } });
    expect(before).toEqual({ Hook: { a: 1 } });
    expect(after).not.toBe(before);
  });

  it('stores a single key when the label is already lower-case', () => {
    expect(withNodeOutputs({}, node('n1', 'fetch'), 1)).toEqual({ fetch: 1 });
  });

  it('falls back to the node id (and lower-cases it too) when the label is empty', () => {
    expect(withNodeOutputs({}, node('action-1', ''), 'x')).toEqual({ 'action-1': 'x' });
    expect(withNodeOutputs({}, node('Action-1', ''), 'x')).toEqual({ 'Action-1': 'x', 'action-1': 'x' });
  });

  it('lets later nodes with the same label overwrite earlier ones', () => {
    let ctx = withNodeOutputs({}, node('a', 'Step'), { n: 1 });
    ctx = withNodeOutputs(ctx, node('b', 'Step'), { n: 2 });
    expect(ctx).toEqual({ Step: { n: 2 }, step: { n: 2 } });
  });

  it('stores falsy outputs as they are', () => {
    expect(withNodeOutputs({}, node('n', 'x'), null)).toEqual({ x: null });
    expect(withNodeOutputs({}, node('n', 'x'), 0)).toEqual({ x: 0 });
  });

  it('keeps a __proto__ label as an own key', () => {
    const ctx = withNodeOutputs({}, node('n', '__proto__'), { polluted: true });
    expect(Object.prototype.hasOwnProperty.call(ctx, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(ctx)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('initialContext', () => {
  const graph = [
    node('action-1', 'HTTP', 'actionHttp'),
    node('trigger-1', 'Manual', 'trigger'),
    node('trigger-2', '  Hook ', 'trigger'),
    node('trigger-3', '', 'trigger'),
  ];

  it('is empty without a trigger context or resume context', () => {
    expect(initialContext({ nodes: graph })).toEqual({});
  });

  it.each([
    ['the start node when it is a trigger', 'trigger-2', 'Hook'],
    ['the id when the start trigger has no label', 'trigger-3', 'trigger-3'],
    ['the first trigger in graph order when there is no start node', undefined, 'Manual'],
    ['the first trigger when the start node is null', null, 'Manual'],
    ['the first trigger when the start node is not a trigger', 'action-1', 'Manual'],
    ['the first trigger when the start node does not exist', 'ghost', 'Manual'],
  ])('stores the payload under %s', (_name, startNodeId, key) => {
    const payload = { order: { id: 7 } };
    expect(initialContext({ nodes: graph, startNodeId, triggerContext: payload })).toEqual({ [key]: payload });
  });

  it('uses "trigger" when the graph has no trigger, and never adds a lower-cased alias', () => {
    expect(initialContext({ nodes: [node('a', 'A', 'actionHttp')], triggerContext: [1, 2] })).toEqual({
      trigger: [1, 2],
    });
    expect(initialContext({ nodes: [], triggerContext: 'x' })).toEqual({ trigger: 'x' });
  });

  it.each([[null], [0], [''], [false], [[]]])(
    'stores falsy/empty payload %p (only undefined means none)',
    (payload) => {
      expect(initialContext({ nodes: graph, triggerContext: payload })).toEqual({ Manual: payload });
    },
  );

  it('starts from the resume context (copied, not mutated)', () => {
    const resumeContext = { Manual: { old: true }, HTTP: { status: 200 } };
    const ctx = initialContext({ nodes: graph, resumeContext, triggerContext: { fresh: true } });
    expect(ctx).toEqual({ Manual: { old: true }, HTTP: { status: 200 } });
    expect(ctx).not.toBe(resumeContext);

    const other = initialContext({ nodes: graph, startNodeId: 'trigger-2', resumeContext, triggerContext: 1 });
    expect(other).toEqual({ Manual: { old: true }, HTTP: { status: 200 }, Hook: 1 });
    expect(resumeContext).toEqual({ Manual: { old: true }, HTTP: { status: 200 } });
  });

  it('treats a null resume context as a fresh start', () => {
    expect(initialContext({ nodes: graph, resumeContext: null, triggerContext: { a: 1 } })).toEqual({
      Manual: { a: 1 },
    });
  });

  it('does not overwrite an existing key even when its value is null', () => {
    expect(initialContext({ nodes: graph, resumeContext: { Manual: null }, triggerContext: { a: 1 } })).toEqual({
      Manual: null,
    });
  });
});
