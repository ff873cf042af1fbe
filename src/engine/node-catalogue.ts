/**
 * The node-type catalogue: each registered node type with a JSON Schema of its params, generated
 * from the params class the node validates with (class-validator-jsonschema). `GET /api/node-types`
 * serves it and `npm run docs:nodes` writes docs/nodes.md from it.
 */
import { getMetadataStorage, ValidationTypes } from 'class-validator';
import { targetConstructorToSchema } from 'class-validator-jsonschema';
import { transformerMetadata } from './node-params';
import type { NodeTypeInfo } from './node-types';
import { RULE_SCHEMAS } from './nodes/param-rules';

/** A JSON Schema (draft 2020-12 keywords; nested classes are inlined, so it stands alone). */
export type JsonSchema = { [keyword: string]: unknown };

/** One catalogue entry as the API serves it (snake_case, like the rest of the wire). */
export interface NodeTypeEntry {
  kind: string;
  category: NodeTypeInfo['category'];
  title: string;
  description: string;
  node_types: string[];
  action_types: string[];
  params_field: NodeTypeInfo['paramsField'];
  params_schema: JsonSchema;
  outputs: Record<string, string>;
  plan_gate: string | null;
  available: boolean;
}

type ParamsClass = new () => object;

const defaultMetadataStorage = transformerMetadata;

const OPTIONS = {
  classTransformerMetadataStorage: defaultMetadataStorage,
  additionalConverters: RULE_SCHEMAS,
  refPointerPrefix: '#/definitions/',
};

/** The classes nested in `type` through `@ValidateNested` + `@Type`, by class name, `type` included. */
function nestedClasses(type: ParamsClass, found = new Map<string, ParamsClass>()): Map<string, ParamsClass> {
  const known = found.get(type.name);
  if (known === type) return found;
  if (known) throw new Error(`Two params classes named ${type.name} are nested in one node type`);
  found.set(type.name, type);
  const metadatas = getMetadataStorage().getTargetValidationMetadatas(type, '', true, false);
  for (const meta of metadatas) {
    if (meta.type !== ValidationTypes.NESTED_VALIDATION) continue;
    const child = defaultMetadataStorage.findTypeMetadata(type, meta.propertyName)?.typeFunction();
    if (typeof child === 'function') nestedClasses(child as ParamsClass, found);
  }
  return found;
}

/**
 * The params class as one JSON Schema: `$ref`s to nested classes replaced by their schemas, and
 * `additionalProperties: true` on every object (params classes never forbid unknown fields: the
 * editor keeps its own beside them, and the node ignores them).
 */
export function paramsSchema(type: ParamsClass): JsonSchema {
  const classes = nestedClasses(type);
  const schemas = new Map<string, JsonSchema>();
  for (const [name, cls] of classes) schemas.set(name, targetConstructorToSchema(cls, OPTIONS) as JsonSchema);
  const inline = (schema: JsonSchema, depth: number): JsonSchema => {
    if (depth > 16) throw new Error(`Params class ${type.name} nests too deeply for the catalogue`);
    const ref = typeof schema.$ref === 'string' ? schema.$ref.slice(OPTIONS.refPointerPrefix.length) : null;
    if (ref !== null) {
      const { $ref: _ref, ...rest } = schema;
      // A `$ref` to anything but a nested params class (`Object` for an untyped field) says nothing.
      const target = schemas.get(ref);
      return target ? inline({ ...target, ...rest }, depth + 1) : inline(rest, depth);
    }
    const out: JsonSchema = {};
    for (const [keyword, value] of Object.entries(schema)) {
      if (keyword === 'properties' && value && typeof value === 'object') {
        out.properties = Object.fromEntries(
          Object.entries(value as Record<string, JsonSchema>).map(([name, prop]) => [name, inline(prop, depth + 1)]),
        );
      } else if (keyword === 'items' && value && typeof value === 'object' && !Array.isArray(value)) {
        out.items = inline(value as JsonSchema, depth + 1);
      } else {
        out[keyword] = value;
      }
    }
    if (out.type === 'object' && out.additionalProperties === undefined) out.additionalProperties = true;
    return out;
  };
  return inline({ type: 'object', properties: {}, ...schemas.get(type.name) }, 0);
}

/** The catalogue entry of a node type. */
export function catalogueEntry(info: NodeTypeInfo): NodeTypeEntry {
  return {
    kind: info.kind,
    category: info.category,
    title: info.title,
    description: info.description,
    node_types: [...info.nodeTypes],
    action_types: [...info.actionTypes],
    params_field: info.paramsField,
    params_schema: paramsSchema(info.params),
    outputs: { ...info.outputs },
    plan_gate: info.planGate,
    available: info.available ?? true,
  };
}
