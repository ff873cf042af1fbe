import { credentialPairPaths, diffGraphs, isUnder } from './graph-diff';

const node = (id: string, data: unknown) => ({ id, type: 'action', position: { x: 0, y: 0 }, data });
const graph = (...nodes: unknown[]) => ({ nodes, edges: [] });

describe('diffGraphs', () => {
  const base = graph(
    node('trigger-1', { label: 'Trigger', triggerType: 'Manual', inputs: [] }),
    node('action-1', {
      label: 'HTTP Request',
      actionType: 'http',
      params: { url: 'https://a.example', method: 'GET', headers: [{ key: 'A', value: '1' }] },
      timeout: 5000,
      stopOnError: true,
    }),
  );

  it('returns [] for an unchanged graph', () => {
    expect(diffGraphs(base, structuredClone(base))).toEqual([]);
  });

  it('ignores changes outside node data (ids, positions, edges, other top-level keys)', () => {
    const next = structuredClone(base) as ReturnType<typeof graph> & { name?: string };
    (next.nodes[0] as { id: string; position: { x: number } }).id = 'renamed';
    (next.nodes[0] as { id: string; position: { x: number } }).position.x = 99;
    next.edges = [{ source: 'a', target: 'b' }] as never[];
    next.name = 'x';
    expect(diffGraphs(base, next)).toEqual([]);
  });

  it('reports a changed param', () => {
    const next = structuredClone(base);
    (next.nodes[1] as { data: { params: { url: string } } }).data.params.url = 'https://b.example';
    expect(diffGraphs(base, next)).toEqual([
      { path: 'nodes[1].data.params.url', from: 'https://a.example', to: 'https://b.example' },
    ]);
  });

  it('reports scalar type changes (1 vs "1", false vs null)', () => {
    const a = graph(node('n', { x: 1, y: false }));
    const b = graph(node('n', { x: '1', y: null }));
    expect(diffGraphs(a, b)).toEqual([
      { path: 'nodes[0].data.x', from: 1, to: '1' },
      { path: 'nodes[0].data.y', from: false, to: null },
    ]);
  });

  it('reports an added node with from = null, keys sorted', () => {
    const next = graph(...base.nodes, node('new', { label: 'Delay', b: { z: 1, a: true } }));
    expect(diffGraphs(base, next)).toEqual([
      { path: 'nodes[2].data.b.a', from: null, to: true },
      { path: 'nodes[2].data.b.z', from: null, to: 1 },
      { path: 'nodes[2].data.label', from: null, to: 'Delay' },
    ]);
  });

  it('reports a removed node with to = null', () => {
    const next = graph(base.nodes[0]);
    expect(diffGraphs(base, next)).toEqual([
      { path: 'nodes[1].data.actionType', from: 'http', to: null },
      { path: 'nodes[1].data.label', from: 'HTTP Request', to: null },
      { path: 'nodes[1].data.params.headers[0].key', from: 'A', to: null },
      { path: 'nodes[1].data.params.headers[0].value', from: '1', to: null },
      { path: 'nodes[1].data.params.method', from: 'GET', to: null },
      { path: 'nodes[1].data.params.url', from: 'https://a.example', to: null },
      { path: 'nodes[1].data.stopOnError', from: true, to: null },
      { path: 'nodes[1].data.timeout', from: 5000, to: null },
    ]);
  });

  it('flattens nested arrays with [i] segments', () => {
    const next = structuredClone(base);
    const params = (next.nodes[1] as { data: { params: { headers: unknown[] } } }).data.params;
    params.headers.push({ key: 'B', value: '2' });
    expect(diffGraphs(base, next)).toEqual([
      { path: 'nodes[1].data.params.headers[1].key', from: null, to: 'B' },
      { path: 'nodes[1].data.params.headers[1].value', from: null, to: '2' },
    ]);
    const changed = structuredClone(next);
    (changed.nodes[1] as { data: { params: { headers: { value: string }[] } } }).data.params.headers[1].value = '3';
    expect(diffGraphs(next, changed)).toEqual([{ path: 'nodes[1].data.params.headers[1].value', from: '2', to: '3' }]);
  });

  it('handles arrays of arrays and scalars inside arrays', () => {
    const a = graph(node('n', { matrix: [[1, 2], [3]], tags: ['a', 'b'] }));
    const b = graph(
      node('n', {
        matrix: [
          [1, 5],
          [3, 4],
        ],
        tags: ['a'],
      }),
    );
    expect(diffGraphs(a, b)).toEqual([
      { path: 'nodes[0].data.matrix[0][1]', from: 2, to: 5 },
      { path: 'nodes[0].data.matrix[1][1]', from: null, to: 4 },
      { path: 'nodes[0].data.tags[1]', from: 'b', to: null },
    ]);
  });

  it('is insensitive to object key order', () => {
    const a = graph(node('n', { a: 1, b: { c: 2, d: [{ e: 3, f: 4 }] } }));
    const b = graph(node('n', { b: { d: [{ f: 4, e: 3 }], c: 2 }, a: 1 }));
    expect(diffGraphs(a, b)).toEqual([]);
  });

  it('orders entries by plain string comparison of the path (nodes[10] before nodes[2])', () => {
    const nodes = (label: string) => Array.from({ length: 11 }, (_, i) => node(`n${i}`, { label: `${label}${i}` }));
    const diffs = diffGraphs(graph(...nodes('old')), graph(...nodes('new')));
    expect(diffs.map((d) => d.path)).toEqual([
      'nodes[0].data.label',
      'nodes[10].data.label',
      'nodes[1].data.label',
      'nodes[2].data.label',
      'nodes[3].data.label',
      'nodes[4].data.label',
      'nodes[5].data.label',
      'nodes[6].data.label',
      'nodes[7].data.label',
      'nodes[8].data.label',
      'nodes[9].data.label',
    ]);
    expect(diffs[1]).toEqual({ path: 'nodes[10].data.label', from: 'old10', to: 'new10' });
  });

  it('matches nodes by array index, not by id', () => {
    const a = graph(node('x', { label: 'X' }), node('y', { label: 'Y' }));
    const b = graph(node('y', { label: 'Y' }), node('x', { label: 'X' }));
    expect(diffGraphs(a, b)).toEqual([
      { path: 'nodes[0].data.label', from: 'X', to: 'Y' },
      { path: 'nodes[1].data.label', from: 'Y', to: 'X' },
    ]);
  });

  it('treats empty objects and arrays as leaves and never equates different containers', () => {
    const a = graph(node('n', { inputs: [], meta: {}, list: [] }));
    const b = graph(node('n', { inputs: [{ k: 'v' }], meta: [], list: [] }));
    expect(diffGraphs(a, b)).toEqual([
      { path: 'nodes[0].data.inputs', from: [], to: null },
      { path: 'nodes[0].data.inputs[0].k', from: null, to: 'v' },
      { path: 'nodes[0].data.meta', from: {}, to: [] },
    ]);
  });

  it('treats null and a missing key as the same (missing side = null)', () => {
    expect(diffGraphs(graph(node('n', { a: null, b: 1 })), graph(node('n', { b: 1 })))).toEqual([]);
  });

  it('reports emptied data as the empty-object leaf', () => {
    expect(diffGraphs(graph(node('n', { a: 1 })), graph(node('n', {})))).toEqual([
      { path: 'nodes[0].data', from: null, to: {} },
      { path: 'nodes[0].data.a', from: 1, to: null },
    ]);
  });

  it('handles missing, null and scalar data', () => {
    const a = graph({ id: 'n' }, node('m', null), node('o', 'text'));
    const b = graph(node('n', { label: 'L' }), node('m', { label: 'M' }), node('o', 'other'));
    expect(diffGraphs(a, b)).toEqual([
      { path: 'nodes[0].data.label', from: null, to: 'L' },
      { path: 'nodes[1].data.label', from: null, to: 'M' },
      { path: 'nodes[2].data', from: 'text', to: 'other' },
    ]);
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a string', '{"nodes":[]}'],
    ['a number', 42],
    ['an array', [node('n', { label: 'L' })]],
    ['an object without nodes', { edges: [] }],
    ['nodes not an array', { nodes: { 0: node('n', { label: 'L' }) } }],
  ])('treats %s as a graph with no nodes', (_name, input) => {
    const real = graph(node('n', { label: 'L' }));
    expect(diffGraphs(input, input)).toEqual([]);
    expect(diffGraphs(input, real)).toEqual([{ path: 'nodes[0].data.label', from: null, to: 'L' }]);
    expect(diffGraphs(real, input)).toEqual([{ path: 'nodes[0].data.label', from: 'L', to: null }]);
  });

  it('skips non-object node entries without throwing', () => {
    const a = graph(null, 5, 'str', [1, 2], node('n', { label: 'A' }));
    const b = graph(node('x', { label: 'X' }), undefined, true, {}, node('n', { label: 'B' }));
    expect(diffGraphs(a, b)).toEqual([
      { path: 'nodes[0].data.label', from: null, to: 'X' },
      { path: 'nodes[4].data.label', from: 'A', to: 'B' },
    ]);
  });

  it('survives deeply nested data without overflowing the stack', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 20000; i++) deep = { k: deep };
    const diffs = diffGraphs(graph(node('n', { deep })), graph(node('n', {})));
    expect(diffs).toHaveLength(2);
    expect(diffs[0]).toEqual({ path: 'nodes[0].data', from: null, to: {} });
    expect(diffs[1].path.endsWith('.k')).toBe(true);
    expect(diffs[1]).toMatchObject({ from: 'leaf', to: null });
  });

  it('does not loop on cyclic (non-JSON) input', () => {
    const data: Record<string, unknown> = { label: 'L' };
    data.self = data;
    expect(diffGraphs(graph(node('n', data)), graph(node('n', { label: 'L' })))).toEqual([]);
  });
});

describe('credentialPairPaths', () => {
  const sensitive = (key: string) => /token|key|authorization/i.test(key);
  const graphWith = (headers: unknown) => ({ nodes: [{ id: 'h', data: { params: { headers } } }] });

  it('names the value of every pair whose key is a credential, in either graph', () => {
    const before = graphWith([
      { key: 'Authorization', value: 'Bearer a' },
      { key: 'Accept', value: 'x' },
    ]);
    const after = graphWith([
      { key: 'Accept', value: 'x' },
      { key: 'X-Api-Key', value: { nested: ['k'] } },
    ]);
    expect([...credentialPairPaths(before, after, sensitive)].sort()).toEqual([
      'nodes[0].data.params.headers[0].value',
      'nodes[0].data.params.headers[1].value',
    ]);
    expect(credentialPairPaths(null, 'not a graph', sensitive).size).toBe(0);
  });

  it('isUnder: the path itself and what nests under it, not a sibling sharing the prefix', () => {
    const base = 'nodes[0].data.params.headers[1].value';
    expect(isUnder(base, base)).toBe(true);
    expect(isUnder(`${base}.nested[0]`, base)).toBe(true);
    expect(isUnder(`${base}[2]`, base)).toBe(true);
    expect(isUnder(`${base}s`, base)).toBe(false);
  });
});
