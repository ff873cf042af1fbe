import type { AppConfig } from '../config/app-config';
import type { IntegrationGates } from '../plans/integration-gates';
import { catalogueEntry, paramsSchema, type JsonSchema } from './node-catalogue';
import { NODE_TYPES, NodeRegistry } from './node-registry';
import { CodeNode, CodeParams } from './nodes/code.node';
import { ConditionNode } from './nodes/condition.node';
import { DelayConfig, DelayNode } from './nodes/delay.node';
import { FormatterNode } from './nodes/formatter.node';
import { MessagingNode } from './nodes/messaging.node';
import { TriggerNode, TriggerParams } from './nodes/trigger.node';
import { UnavailableIntegrationNode, UnknownNodeType } from './nodes/unavailable.node';
import type { GraphNode } from './node-types';

const registry = new NodeRegistry({ engine: {}, providers: {} } as unknown as AppConfig, {} as IntegrationGates);
const node = (type: string, data: Record<string, unknown> = {}): GraphNode => ({ id: 'n', type, data });

/** Every `$ref` and every object schema without `additionalProperties`, anywhere in a schema. */
function loose(schema: unknown, at = '$'): string[] {
  if (schema === null || typeof schema !== 'object') return [];
  const s = schema as JsonSchema;
  const own = [
    ...(s.$ref !== undefined ? [`${at}: $ref`] : []),
    ...(s.type === 'object' && s.additionalProperties !== true ? [`${at}: closed object`] : []),
  ];
  return [...own, ...Object.entries(s).flatMap(([key, value]) => loose(value, `${at}.${key}`))];
}

describe('the node-type catalogue', () => {
  it('lists every registered type once, each with a self-contained open schema of its params', () => {
    const entries = NODE_TYPES.map(catalogueEntry);
    expect(entries.map((e) => e.kind)).toEqual([
      'trigger',
      'condition',
      'delay',
      'formatter',
      'http',
      'code',
      'email',
      'messaging',
      'sheets',
      'notion',
      'asana',
    ]);
    for (const entry of entries) {
      expect([entry.kind, entry.params_schema.type, loose(entry.params_schema)]).toEqual([entry.kind, 'object', []]);
      expect(entry.description.length).toBeGreaterThan(20);
    }
    expect(entries.filter((e) => !e.available).map((e) => e.kind)).toEqual(['sheets', 'notion', 'asana']);
  });

  it('inlines nested params classes: array rows and nested objects', () => {
    const trigger = paramsSchema(TriggerParams) as { properties: Record<string, JsonSchema> };
    expect(trigger.properties.inputs).toMatchObject({
      type: 'array',
      items: { type: 'object', required: ['key'], properties: { key: { type: 'string' }, value: { type: 'string' } } },
    });
    const delay = paramsSchema(DelayConfig) as { properties: Record<string, JsonSchema> };
    expect(delay.properties.wait_for).toMatchObject({
      type: 'object',
      properties: { minutes: { type: 'integer', minimum: 0 }, hours: { type: 'integer' }, days: { type: 'integer' } },
    });
    expect(delay.properties.wait_until).toMatchObject({ type: 'string', format: 'date-time' });
    expect(paramsSchema(CodeParams)).toMatchObject({ required: ['code'], properties: { code: { type: 'string' } } });
  });

  it('says where the params go and which graph types select each node', () => {
    const byKind = Object.fromEntries(NODE_TYPES.map((info) => [info.kind, info]));
    expect(byKind.condition).toMatchObject({ paramsField: 'data', nodeTypes: ['condition'] });
    expect(byKind.delay).toMatchObject({ paramsField: 'config', nodeTypes: ['delay', 'logicDelay', 'wait'] });
    expect(byKind.formatter).toMatchObject({ paramsField: 'config' });
    expect(byKind.code).toMatchObject({ paramsField: 'params', actionTypes: ['code'] });
  });
});

describe('NodeRegistry reads the catalogue', () => {
  it.each<[string, GraphNode, new (...args: never[]) => object]>([
    ['trigger', node('trigger'), TriggerNode],
    ['condition', node('condition'), ConditionNode],
    ['logicDelay', node('logicDelay'), DelayNode],
    ['wait', node('wait'), DelayNode],
    ['transform', node('transform'), FormatterNode],
    ['logicformatter', node('logicformatter'), FormatterNode],
    ['actionType CODE', node('action', { actionType: ' CODE ' }), CodeNode],
    ['a UI code type without actionType', node('actionCodeSnippet'), CodeNode],
    ['microsoftteams', node('action', { actionType: 'microsoftteams' }), MessagingNode],
    ['a UI Google Chat type', node('actionGoogleChat'), MessagingNode],
    ['sheets', node('actionSheets'), UnavailableIntegrationNode],
    ['asana', node('action', { actionType: 'Asana' }), UnavailableIntegrationNode],
  ])('%s', (_name, graphNode, executor) => {
    expect(registry.unknownReason(graphNode)).toBeNull();
    expect(registry.resolve(graphNode)).toBeInstanceOf(executor);
  });

  it('refuses what the catalogue does not list, by exact type and own keys only', () => {
    expect(registry.unknownReason(node('Trigger'))).toBe('unknown node type "Trigger"');
    expect(registry.unknownReason(node('constructor'))).toBe('unknown node type "constructor"');
    expect(registry.unknownReason(node('action', { actionType: 'custom' }))).toBe('unknown actionType "custom"');
    expect(registry.unknownReason(node('action', { actionType: 'toString' }))).toBe('unknown actionType "tostring"');
    expect(registry.unknownReason(node('action'))).toBe('action node type "action" names no actionType');
    expect(registry.resolve(node('fromatter'))).toBeInstanceOf(UnknownNodeType);
  });

  it('runs the pure kinds in threads and nothing else', () => {
    expect(registry.pureKind(node('wait'))).toBe('delay');
    expect(registry.pureKind(node('actionCode'))).toBe('code');
    expect(registry.pureKind(node('action', { actionType: 'http' }))).toBeNull();
    expect(registry.pureKind(node('nope'))).toBeNull();
  });

  it('serves the catalogue it resolves from', () => {
    expect(registry.catalogue()).toBe(NODE_TYPES);
  });
});
