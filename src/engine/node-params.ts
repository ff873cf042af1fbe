// Before any params class is declared: the engine threads load node files without main.ts.
import 'reflect-metadata';
import { plainToInstance, TransformationType } from 'class-transformer';
import type { MetadataStorage } from 'class-transformer/types/MetadataStorage';
import { getMetadataStorage, validateSync, ValidationError } from 'class-validator';
import { NodeError } from './node-types';

/**
 * Where `@Type` and `@Transform` are recorded; class-transformer exports it only from its CommonJS
 * build (an internal path: class-transformer is pinned, and the node specs fail if it moves).
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const storage = require('class-transformer/cjs/storage') as { defaultMetadataStorage: MetadataStorage };
export const transformerMetadata = storage.defaultMetadataStorage;

/**
 * The text a node fails with when one constraint fails, instead of the generic "Invalid node
 * parameters: <fields>": `@IsString({ context: nodeMessage('HTTP node requires a URL') })`. The
 * message must not contain a param's value (params are templated and may hold secrets).
 */
export const nodeMessage = (message: string) => ({ nodeMessage: message });

/**
 * A node's params object (`data.params`, or `data.config` for logic nodes) as an instance of its
 * params class, validated with class-validator (the same decorators as request DTOs). Failures
 * name the fields, never their values; the first failing constraint that carries a
 * `nodeMessage` context is reported with that text instead.
 */
export function parseParams<T extends object>(type: new () => T, params: unknown): T {
  if (params !== undefined && (params === null || typeof params !== 'object' || Array.isArray(params))) {
    throw new NodeError('Invalid node parameters: params must be an object');
  }
  // Only the declared fields are read: the editor's extra fields may be large and are never used.
  // Only fields with a `@Type` or `@Transform` go through class-transformer; the others (free JSON
  // such as a request body) are taken as they are, since class-transformer cannot copy an object
  // with a `constructor` key and drops `__proto__` keys a user's JSON may legitimately carry.
  const source = (params ?? {}) as Record<string, unknown>;
  const { transformed, raw } = fieldsOf(type);
  const picked: Record<string, unknown> = {};
  for (const key of transformed) if (Object.prototype.hasOwnProperty.call(source, key)) picked[key] = source[key];
  const instance = plainToInstance(type, picked) as Record<string, unknown>;
  for (const key of raw) if (Object.prototype.hasOwnProperty.call(source, key)) instance[key] = source[key];
  const errors = validateSync(instance as T, {
    forbidUnknownValues: false,
    validationError: { target: false, value: false },
  });
  if (!errors.length) return instance as T;
  const custom = customMessage(errors);
  throw new NodeError(custom ?? `Invalid node parameters: ${fieldNames(errors).join(', ')}`);
}

interface Fields {
  transformed: readonly string[];
  raw: readonly string[];
}
const fieldsByClass = new WeakMap<object, Fields>();

/** The properties a params class validates (every field of one carries a decorator), split by handling. */
function fieldsOf(type: new () => object): Fields {
  let fields = fieldsByClass.get(type);
  if (!fields) {
    const metadata = getMetadataStorage().getTargetValidationMetadatas(type, '', true, false);
    const keys = [...new Set(metadata.map((m) => m.propertyName))];
    const needsTransform = (key: string) =>
      !!transformerMetadata.findTypeMetadata(type, key) ||
      transformerMetadata.findTransformMetadatas(type, key, TransformationType.PLAIN_TO_CLASS).length > 0;
    fields = { transformed: keys.filter(needsTransform), raw: keys.filter((k) => !needsTransform(k)) };
    fieldsByClass.set(type, fields);
  }
  return fields;
}

function customMessage(errors: ValidationError[]): string | null {
  for (const error of errors) {
    for (const context of Object.values(error.contexts ?? {})) {
      const message = (context as { nodeMessage?: unknown } | undefined)?.nodeMessage;
      if (typeof message === 'string') return message;
    }
    const nested = error.children?.length ? customMessage(error.children) : null;
    if (nested) return nested;
  }
  return null;
}

function fieldNames(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((e) =>
    e.children?.length ? fieldNames(e.children, `${prefix}${e.property}.`) : [`${prefix}${e.property}`],
  );
}
