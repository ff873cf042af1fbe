/**
 * Params rules the nodes share, for what the DSentr web client saves: a cleared field stays as `''`
 * or `null`, numbers and flags may arrive as text, rows may lack a key, and UI-only fields sit
 * beside the params (kept: params classes never forbid unknown fields). Two policies, each kept
 * from what the node always did: the logic nodes (trigger, condition, delay, formatter, code) read
 * a value of the wrong type as absent; the action nodes (HTTP, email, messaging) refuse it, naming
 * the field, because acting on a half-understood request is worse than not acting.
 */
import { Transform } from 'class-transformer';
import { ValidateBy, ValidateIf, type ValidationOptions } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import type { IOptions } from 'class-validator-jsonschema/build/options';

/** A node's params object, or undefined (an empty params object) for anything else. */
export function objectOrAbsent(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function isRow(row: unknown): boolean {
  const key = objectOrAbsent(row)?.key;
  return typeof key === 'string' && key.trim() !== '';
}

/**
 * `[{ key, value }]` rows: a value that is not an array counts as absent, and entries that are
 * not objects with a non-blank string `key` are skipped (rows already made instances by `@Type`
 * pass `isRow` too).
 */
export const KeyValueRows = () =>
  Transform(({ value }: { value: unknown }) => (Array.isArray(value) ? value.filter(isRow) : undefined));

/** A value that is not a string counts as absent. */
export const StringOrAbsent = () =>
  Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value : undefined));

/** A string, a number or a boolean (read as text). */
export const IsScalar = (options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isScalar',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean',
        // Without a message class-validator attaches no context, so no node message either.
        defaultMessage: () => '$property must be a string, a number or a boolean',
      },
    },
    options,
  );

/** JSON Schemas of the custom rules above (class-validator-jsonschema converters, by rule name). */
export const RULE_SCHEMAS: IOptions['additionalConverters'] = {
  isScalar: { type: ['string', 'number', 'boolean'] },
};

// --- the action nodes: wrong types refused ---

type Schema = Exclude<Parameters<typeof JSONSchema>[0], (...args: never[]) => unknown>;

/**
 * The whole JSON Schema of a field checked by a custom rule (`ValidateBy`): no schema converter
 * knows those rules, and for a union-typed field the default would be a `$ref` to `Object`.
 */
export const FieldSchema = (schema: Schema) => JSONSchema(() => schema);

/** Not set: missing, `null`, or the empty text a cleared field keeps. */
export function isUnset(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

/** Validates the field only when it is set, so a cleared non-text field (`''`) reads as missing. */
export const OptionalParam = (): PropertyDecorator => ValidateIf((_, value: unknown) => !isUnset(value));

/** `true`/`false`, or that text in any case; undefined for anything else. */
export function flagValue(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value !== 'string') return undefined;
  const text = value.trim().toLowerCase();
  return text === 'true' ? true : text === 'false' ? false : undefined;
}

/** A flag: a boolean, or the text `"true"`/`"false"`. */
export const IsFlag = (options?: ValidationOptions): PropertyDecorator =>
  ValidateBy(
    {
      name: 'isFlag',
      validator: {
        validate: (value: unknown) => flagValue(value) !== undefined,
        defaultMessage: () => '$property must be true or false',
      },
    },
    options,
  );

/** A number, or text holding one (the node checks the text). */
export const IsNumberOrText = (options?: ValidationOptions): PropertyDecorator =>
  ValidateBy(
    {
      name: 'isNumberOrText',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value)),
        defaultMessage: () => '$property must be a number or text',
      },
    },
    options,
  );

/** The text of a scalar param (`IsScalar` of ./param-rules); anything else (unset) is `''`. */
export function scalarText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return '';
}

/** The rows of a list param; a cleared one (`''`, `null`) has none. */
export function listOf<T>(value: readonly T[] | undefined): readonly T[] {
  return Array.isArray(value) ? value : [];
}

/** How a credential param is documented: a secret reference, or a typed value that saving moves to the store. */
export function credentialNote(reference: string): string {
  return `A credential: write a secret reference (\`${reference}\`), or type the value and saving the workflow moves it into the secret store, leaving that reference.`;
}
