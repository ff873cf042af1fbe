import { isMalformed, nodeLabel, parseGraph, triggerKind, type GraphProblem } from './graph';

const node = (id: unknown, extra: Record<string, unknown> = {}) => ({ id, type: 'action', data: {}, ...extra });
const edge = (source: unknown, target: unknown, extra: Record<string, unknown> = {}) => ({ source, target, ...extra });
const codes = (problems: readonly GraphProblem[]) => problems.map((p) => p.code);

describe('parseGraph', () => {
  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a number', 42],
    ['a string', '{"nodes":[],"edges":[]}'],
    ['an array', [node('a')]],
  ])('a graph that is %s is not an object and has no nodes', (_name, input) => {
    const { graph, problems } = parseGraph(input);
    expect(codes(problems)).toEqual(['not_an_object']);
    expect(graph.nodes).toEqual([]);
    expect(graph.edges).toEqual([]);
  });

  it('nodes or edges that are not arrays are reported, and the other one is still read', () => {
    const noEdges = parseGraph({ nodes: [node('a')] });
    expect(codes(noEdges.problems)).toEqual(['not_arrays']);
    expect(noEdges.graph.nodes.map((n) => n.id)).toEqual(['a']);
    const nodesObject = parseGraph({ nodes: { 0: node('a') }, edges: [] });
    expect(codes(nodesObject.problems)).toEqual(['not_arrays']);
    expect(nodesObject.graph.nodes).toEqual([]);
  });

  it('a node id is a non-blank string: numbers, blanks and missing ids are invalid nodes', () => {
    const { graph, problems } = parseGraph({
      nodes: [node(3), node(''), node('  '), node(null), { type: 'trigger' }, null, 'a', [], node('ok')],
      edges: [],
    });
    expect(problems).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((index) => ({ code: 'invalid_node', index })));
    expect(graph.nodes.map((n) => [n.id, n.index])).toEqual([['ok', 8]]);
    expect(graph.node('3')).toBeUndefined();
  });

  it('a node keeps its id as stored (not trimmed)', () => {
    expect(parseGraph({ nodes: [node(' a ')], edges: [] }).graph.node(' a ')?.id).toBe(' a ');
  });

  it('a missing or non-string type reads as empty, a non-object data as {}, a bad position as null', () => {
    const { graph, problems } = parseGraph({
      nodes: [{ id: 'a', type: 7, data: 'text', position: { x: '1', y: 2 } }, { id: 'b' }],
      edges: [],
    });
    expect(problems).toEqual([]);
    expect(graph.nodes).toEqual([
      { id: 'a', type: '', data: {}, storedData: 'text', position: null, index: 0 },
      { id: 'b', type: '', data: {}, storedData: undefined, position: null, index: 1 },
    ]);
  });

  it('data is the stored object, shared rather than copied', () => {
    const data = { label: 'A', params: { url: 'x' } };
    const { graph } = parseGraph({ nodes: [{ id: 'a', type: 'action', data, position: { x: 1, y: 2 } }], edges: [] });
    expect(graph.node('a')!.data).toBe(data);
    expect(graph.node('a')!.position).toEqual({ x: 1, y: 2 });
  });

  it('duplicate ids are reported; the first wins lookups and both stay in nodes', () => {
    const first = node('a', { type: 'trigger' });
    const { graph, problems } = parseGraph({ nodes: [first, node('b'), node('a')], edges: [] });
    expect(problems).toEqual([{ code: 'duplicate_node_id', id: 'a', index: 2 }]);
    expect(graph.node('a')!.type).toBe('trigger');
    expect(graph.nodes.map((n) => n.id)).toEqual(['a', 'b', 'a']);
  });

  it('edges need string source and target; they are named by id, else by index', () => {
    const { graph, problems } = parseGraph({
      nodes: [node('a'), node('b')],
      edges: [edge('a', 1, { id: 'e1' }), null, edge('a', undefined), 'a→b', edge('a', 'b', { id: '' })],
    });
    expect(problems).toEqual([
      { code: 'invalid_edge', index: 0, name: 'e1' },
      { code: 'invalid_edge', index: 1, name: '#1' },
      { code: 'invalid_edge', index: 2, name: '#2' },
      { code: 'invalid_edge', index: 3, name: '#3' },
    ]);
    expect(graph.edges).toEqual([{ id: '', source: 'a', target: 'b', sourceHandle: null, index: 4 }]);
  });

  it('edges to missing nodes are reported and kept (a traversal drops what it cannot find)', () => {
    const { graph, problems } = parseGraph({
      nodes: [node('a')],
      edges: [edge('a', 'gone', { id: 'e1' }), edge('ghost', 'a')],
    });
    expect(problems).toEqual([
      { code: 'dangling_edge', index: 0, name: 'e1', source: 'a', target: 'gone' },
      { code: 'dangling_edge', index: 1, name: '#1', source: 'ghost', target: 'a' },
    ]);
    expect(graph.outgoing('a').map((e) => e.target)).toEqual(['gone']);
    expect(problems.some(isMalformed)).toBe(false);
  });

  it('outgoing lists edges in stored order, with their handle, and nothing for a node without any', () => {
    const { graph } = parseGraph({
      nodes: [node('c'), node('t'), node('f')],
      edges: [edge('c', 't', { sourceHandle: 'cond-true' }), edge('c', 'f', { sourceHandle: 'cond-false' })],
    });
    expect(graph.outgoing('c').map((e) => [e.target, e.sourceHandle])).toEqual([
      ['t', 'cond-true'],
      ['f', 'cond-false'],
    ]);
    expect(graph.outgoing('t')).toEqual([]);
    expect(graph.outgoing('nope')).toEqual([]);
  });

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])(
    'a prototype key %p is an ordinary id, found only when it is one',
    (id) => {
      const empty = parseGraph({ nodes: [node('a')], edges: [] }).graph;
      expect(empty.node(id)).toBeUndefined();
      expect(empty.outgoing(id)).toEqual([]);
      const { graph, problems } = parseGraph({ nodes: [node(id), node('a')], edges: [edge(id, 'a')] });
      expect(problems).toEqual([]);
      expect(graph.node(id)!.id).toBe(id);
      expect(graph.outgoing(id).map((e) => e.target)).toEqual(['a']);
      expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
    },
  );

  it('an entry that throws when read is an invalid node, not an exception', () => {
    const hostile = {
      id: 'h',
      get data(): unknown {
        throw new Error('boom');
      },
    };
    const { graph, problems } = parseGraph({ nodes: [hostile, node('ok')], edges: [] });
    expect(problems).toEqual([{ code: 'invalid_node', index: 0 }]);
    expect(graph.nodes.map((n) => n.id)).toEqual(['ok']);
  });

  it('malformed problems are those that keep a graph from running as stored', () => {
    expect(codes(parseGraph(null).problems).filter((c) => isMalformed({ code: c } as GraphProblem))).toEqual([
      'not_an_object',
    ]);
    expect(parseGraph({ nodes: [node(1)], edges: [] }).problems.some(isMalformed)).toBe(true);
    expect(parseGraph({ nodes: [node('a'), node('a')], edges: [] }).problems.some(isMalformed)).toBe(false);
  });

  it('the parsed graph is read-only', () => {
    const { graph } = parseGraph({ nodes: [node('a')], edges: [edge('a', 'a')] });
    expect(Object.isFrozen(graph)).toBe(true);
    expect(Object.isFrozen(graph.nodes)).toBe(true);
    expect(Object.isFrozen(graph.nodes[0])).toBe(true);
    expect(Object.isFrozen(graph.edges[0])).toBe(true);
  });

  it('a frozen graph object is parsed once; a mutable one every time', () => {
    const frozen = Object.freeze({ nodes: Object.freeze([node('a')]), edges: Object.freeze([]) });
    expect(parseGraph(frozen)).toBe(parseGraph(frozen));
    const mutable = { nodes: [node('a')], edges: [] };
    const before = parseGraph(mutable);
    mutable.nodes.push(node('b'));
    expect(before.graph.nodes).toHaveLength(1);
    expect(parseGraph(mutable).graph.nodes).toHaveLength(2);
  });

  it('a huge graph (20,000 nodes in a chain) parses in one pass with every lookup', () => {
    const n = 20_000;
    const nodes = Array.from({ length: n }, (_, i) => node(`n${i}`));
    const edges = Array.from({ length: n - 1 }, (_, i) => edge(`n${i}`, `n${i + 1}`));
    const { graph, problems } = parseGraph({ nodes, edges });
    expect(problems).toEqual([]);
    expect(graph.nodes).toHaveLength(n);
    expect(graph.node(`n${n - 1}`)!.index).toBe(n - 1);
    expect(graph.outgoing(`n${n - 2}`).map((e) => e.target)).toEqual([`n${n - 1}`]);
  });
});

describe('triggers', () => {
  const trigger = (id: string, triggerType: unknown, label?: unknown) => ({
    id,
    type: 'trigger',
    data: { triggerType, label },
  });

  it('are the nodes of type exactly `trigger`, in graph order', () => {
    const { graph } = parseGraph({
      nodes: [node('a'), trigger('t1', 'Manual'), { ...trigger('t2', 'Manual'), type: 'Trigger' }, trigger('t3', 'x')],
      edges: [],
    });
    expect(graph.triggers().map((n) => n.id)).toEqual(['t1', 't3']);
  });

  it('a trigger kind is data.triggerType trimmed, in any case', () => {
    const { graph } = parseGraph({
      nodes: [trigger('a', 'Webhook'), trigger('b', ' WEBHOOK '), trigger('c', 'schedule'), trigger('d', 42)],
      edges: [],
    });
    expect(graph.triggers('webhook').map((n) => n.id)).toEqual(['a', 'b']);
    expect(graph.triggers('schedule').map((n) => n.id)).toEqual(['c']);
    expect(triggerKind(graph.node('d')!)).toBe('');
  });

  it('a node label is the trimmed data.label, else the id', () => {
    const { graph } = parseGraph({
      nodes: [trigger('a', 'Manual', '  Hook '), trigger('b', 'Manual', '   '), trigger('c', 'Manual', 7)],
      edges: [],
    });
    expect(graph.nodes.map(nodeLabel)).toEqual(['Hook', 'b', 'c']);
  });
});
