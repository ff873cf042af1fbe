import type { OutboundHttp } from '../../egress/outbound-http';
import { initialContext, withNodeOutputs } from '../execution-context';
import type { GraphNode, NodeContext } from '../node-types';
import { renderTemplate } from '../templating';
import { TriggerNode } from './trigger.node';

function nodeContext(context: Record<string, unknown>): NodeContext {
  return {
    context,
    run: { runId: 'run-1', workflowId: 'wf-1', ownerId: 'user-1', workspaceId: null },
    signal: new AbortController().signal,
    http: {} as unknown as OutboundHttp,
    now: () => new Date(),
  };
}

function trigger(data: Record<string, unknown>, id = 'trigger-1'): GraphNode {
  return { id, type: 'trigger', data };
}

const run = (data: Record<string, unknown>, context: Record<string, unknown> = {}, id?: string) =>
  new TriggerNode().execute(trigger(data, id), nodeContext(context));

describe('TriggerNode (docs/contract.md §5.4)', () => {
  describe('inputs', () => {
    it.each([
      ['a plain string', 'hello', 'hello'],
      ['a JSON number', '42', 42],
      ['a JSON object', '{"a":[1,2]}', { a: [1, 2] }],
      ['a JSON boolean', 'true', true],
      ['JSON null', 'null', null],
      ['a double-quoted string', '"quoted"', 'quoted'],
      ['a single-quoted string', "'single'", 'single'],
      ['an empty string', '', ''],
      ['a template producing a number', '{{Setup.count}}', 3],
      ['a template producing an object', '{{Setup.obj}}', { k: 'v' }],
      ['a template inside text', 'n={{Setup.count}}', 'n=3'],
      ['a missing template path', '{{Setup.nope}}', ''],
    ])('templates then parses %s', async (_name, value, expected) => {
      const result = await run(
        { label: 'Start', inputs: [{ key: 'v', value }] },
        { Setup: { count: 3, obj: { k: 'v' } } },
      );
      expect(result.outputs).toEqual({ v: expected });
    });

    it.each([
      ['a number', 5],
      ['a boolean', true],
      ['an object', { a: 1 }],
      ['null', null],
      ['a missing value', undefined],
    ])('turns %s value into null', async (_name, value) => {
      const result = await run({ inputs: [{ key: 'v', value }] });
      expect(result.outputs).toEqual({ v: null });
    });

    it('skips entries without a non-empty string key and malformed entries', async () => {
      const result = await run({
        inputs: [
          { key: '', value: 'a' },
          { key: '  ', value: 'b' },
          { key: 3, value: 'c' },
          { value: 'd' },
          null,
          'x',
          [],
          { key: 'ok', value: 'y' },
        ],
      });
      expect(result.outputs).toEqual({ ok: 'y' });
    });

    it('lets a later entry with the same key win', async () => {
      const result = await run({
        inputs: [
          { key: 'k', value: '1' },
          { key: 'k', value: '2' },
        ],
      });
      expect(result.outputs).toEqual({ k: 2 });
    });

    it.each([[undefined], [null], ['nope'], [{}]])('yields {} when inputs is %p', async (inputs) => {
      const result = await run({ inputs });
      expect(result.outputs).toEqual({});
    });

    it('returns neither a branch nor a next node nor a pause', async () => {
      const result = await run({ inputs: [] });
      expect(result).toEqual({ outputs: {} });
    });
  });

  describe('trigger payload (deviation 5 in docs/deviations.md)', () => {
    it('merges the payload stored under its label with the inputs, inputs winning', async () => {
      const context = { Hook: { order: { id: 9 }, source: 'web' } };
      const result = await run(
        {
          label: ' Hook ',
          inputs: [
            { key: 'source', value: 'manual' },
            { key: 'orderId', value: '{{Hook.order.id}}' },
          ],
        },
        context,
      );
      expect(result.outputs).toEqual({ order: { id: 9 }, source: 'manual', orderId: 9 });
      expect(context).toEqual({ Hook: { order: { id: 9 }, source: 'web' } });
    });

    it('uses the node id as the key when the label is empty', async () => {
      const result = await run(
        { label: '', inputs: [{ key: 'b', value: '2' }] },
        { 'trigger-9': { a: 1 } },
        'trigger-9',
      );
      expect(result.outputs).toEqual({ a: 1, b: 2 });
    });

    it('returns the payload object itself (a copy) when there are no inputs', async () => {
      const payload = { a: 1 };
      const result = await run({ label: 'Hook', inputs: [] }, { Hook: payload });
      expect(result.outputs).toEqual({ a: 1 });
    });

    it('ignores payloads stored under other keys (lower-cased alias included)', async () => {
      const result = await run(
        { label: 'Hook', inputs: [{ key: 'x', value: '1' }] },
        { hook: { a: 1 }, Other: { b: 2 } },
      );
      expect(result.outputs).toEqual({ x: 1 });
    });

    it.each([
      ['an array', [1, 2]],
      ['a string', 'raw body'],
      ['a number', 7],
      ['null', null],
      ['false', false],
    ])('returns a non-object payload (%s) as is when there are no inputs', async (_name, payload) => {
      const result = await run({ label: 'Hook' }, { Hook: payload });
      expect(result.outputs).toEqual(payload);
    });

    it.each([
      ['an array', [1, 2]],
      ['a string', 'raw body'],
      ['null', null],
    ])('wraps a non-object payload (%s) as { payload, ...inputs } when there are inputs', async (_name, payload) => {
      const result = await run({ label: 'Hook', inputs: [{ key: 'x', value: '1' }] }, { Hook: payload });
      expect(result.outputs).toEqual({ payload, x: 1 });
    });

    it('lets an input named "payload" win over a wrapped payload', async () => {
      const result = await run({ label: 'Hook', inputs: [{ key: 'payload', value: 'mine' }] }, { Hook: [1] });
      expect(result.outputs).toEqual({ payload: 'mine' });
    });

    it('keeps the payload addressable as {{Hook.order.id}} through the whole flow', async () => {
      const graph = [
        {
          id: 'trigger-1',
          type: 'trigger',
          data: { label: 'Hook', inputs: [{ key: 'note', value: 'order {{Hook.order.id}}' }] },
        },
        { id: 'action-1', type: 'actionHttp', data: { label: 'Send' } },
      ];
      let context = initialContext({
        nodes: graph,
        startNodeId: 'trigger-1',
        triggerContext: { order: { id: 'A-17' } },
      });
      const result = await new TriggerNode().execute(graph[0], nodeContext(context));
      context = withNodeOutputs(context, graph[0], result.outputs);

      expect(renderTemplate('{{Hook.order.id}}', context)).toBe('A-17');
      expect(renderTemplate('{{Hook.note}}', context)).toBe('order A-17');
      expect(renderTemplate('{{hook.order.id}}', context)).toBe('A-17');
    });

    it('produces only the inputs when no payload was given', async () => {
      const graph = [{ id: 't', type: 'trigger', data: { label: 'Manual', inputs: [{ key: 'a', value: '1' }] } }];
      const context = initialContext({ nodes: graph });
      const result = await new TriggerNode().execute(graph[0], nodeContext(context));
      expect(result.outputs).toEqual({ a: 1 });
    });
  });
});
