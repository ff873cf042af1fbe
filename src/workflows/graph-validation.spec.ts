import { AppError } from '../common/errors/app-error';
import { assertValidGraph } from './graph-validation';

const problemsOf = (data: unknown) => {
  try {
    assertValidGraph(data);
    return null;
  } catch (e) {
    return { message: (e as AppError).message, extra: (e as AppError).extra };
  }
};

describe('assertValidGraph', () => {
  it('accepts a well-formed graph, extra UI fields included', () => {
    expect(
      problemsOf({
        nodes: [
          { id: 'a', type: 'trigger', position: { x: 1, y: 2 } },
          { id: 'b', type: 'actionHttp' },
        ],
        edges: [{ id: 'e1', source: 'a', target: 'b', sourceHandle: null }],
        viewport: { zoom: 1 },
      }),
    ).toBeNull();
    expect(problemsOf({ nodes: [], edges: [] })).toBeNull();
  });

  it.each([null, 'graph', [], 42])('rejects a non-object data %p', (data) => {
    expect(problemsOf(data)!.message).toMatch(/data must be an object/);
  });

  it('requires both arrays', () => {
    expect(problemsOf({ nodes: [] })!.message).toMatch(/nodes and data.edges must be arrays/);
  });

  it('names duplicate ids, id-less nodes and dangling edges', () => {
    const result = problemsOf({
      nodes: [{ id: 'a' }, { id: 'a' }, { type: 'x' }, 'junk', { id: 'b' }],
      edges: [
        { id: 'e1', source: 'a', target: 'b' },
        { id: 'e2', source: 'a', target: 'ghost' },
        { source: 'nobody', target: 'b' },
        { id: 'e4', source: 1, target: 'b' },
      ],
    })!;
    expect(result.extra).toEqual({
      problems: {
        invalid_nodes: [2, 3],
        duplicate_node_ids: ['a'],
        invalid_edges: ['e4'],
        dangling_edges: ['e2: a → ghost', '#2: nobody → b'],
      },
    });
    expect(result.message).toMatch(/duplicate node ids a/);
    expect(result.message).toMatch(/e2: a → ghost/);
  });
});
