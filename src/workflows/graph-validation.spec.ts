import { AppError } from '../common/errors/app-error';
import type { AppConfig } from '../config/app-config';
import type { IntegrationGates } from '../plans/integration-gates';
import { NodeRegistry } from '../engine/node-registry';
import { assertValidGraph, NodeTypeCheck } from './graph-validation';

const problemsOf = (data: unknown, nodeTypes?: NodeTypeCheck) => {
  try {
    assertValidGraph(data, nodeTypes);
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
        unknown_nodes: [],
      },
    });
    expect(result.message).toMatch(/duplicate node ids a/);
    expect(result.message).toMatch(/e2: a → ghost/);
  });

  it('names the nodes the registry cannot run, and only checks nodes with an id', () => {
    const registry = new NodeRegistry({ engine: {}, providers: {} } as unknown as AppConfig, {} as IntegrationGates);
    const result = problemsOf(
      {
        nodes: [
          { id: 't', type: 'trigger', data: {} },
          { id: 'h', type: 'actionHttp', data: { actionType: 'HTTP' } },
          { id: 's', type: 'actionSheets', data: {} },
          { id: 'x', type: 'tirgger', data: {} },
          { id: 'y', type: 'action', data: { actionType: 'nope' } },
          { id: 'z', data: {} },
          { type: 'junk' },
        ],
        edges: [],
      },
      registry,
    )!;
    expect((result.extra as { problems: { unknown_nodes: string[] } }).problems.unknown_nodes).toEqual([
      'x: unknown node type "tirgger"',
      'y: unknown actionType "nope"',
      'z: node has no type',
    ]);
    expect(result.message).toMatch(/nodes this server cannot run: x: unknown node type "tirgger"/);
  });
});
