/**
 * What every formatter operation family shares: the operation signature, the `fields` reader and the
 * number/JSON helpers. Error texts name the operation and the offending field, never a field's value
 * (inputs are templated and may carry secrets).
 */
import { FixedOffsetZone, IANAZone, type Zone } from 'luxon';
import { NodeError } from '../../node-types';
import { isDecimalText } from '../../number-text';
import { flexibleParse, renderTemplate } from '../../templating';

export const TRUE_WORDS = new Set(['true', '1', 'yes', 'y', 'on']);
export const FALSE_WORDS = new Set(['false', '0', 'no', 'n', 'off']);

type Context = Readonly<Record<string, unknown>>;

export type Operation = (input: string, fields: Fields) => unknown;

/** Reads `fields`: string values are templated; numbers and booleans are taken as text where text is wanted. */
export class Fields {
  constructor(
    readonly op: string,
    private readonly raw: Record<string, unknown>,
    private readonly context: Context,
  ) {}

  string(key: string): string | undefined {
    const value = Object.hasOwn(this.raw, key) ? this.raw[key] : undefined;
    if (typeof value === 'string') return renderTemplate(value, this.context);
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    return undefined;
  }

  /**
   * `trim` for names, paths and JSON. Delimiters and search text are kept as typed (a single space is
   * a valid delimiter); the reference trims them, which made whitespace delimiters impossible.
   */
  requiredString(key: string, trim: boolean): string {
    const value = this.string(key) ?? '';
    const result = trim ? value.trim() : value;
    if (result === '') throw this.missing(key);
    return result;
  }

  number(key: string): number | undefined {
    const value = Object.hasOwn(this.raw, key) ? this.raw[key] : undefined;
    if (value == null) return undefined;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new NodeError(`Field "${key}" must be a valid number.`);
      return value;
    }
    if (typeof value !== 'string') throw new NodeError(`Field "${key}" must be a valid number.`);
    const text = renderTemplate(value, this.context).trim();
    if (text === '') return undefined;
    return parseNumber(text, `Field "${key}" must be a valid number.`);
  }

  requiredNumber(key: string): number {
    const value = this.number(key);
    if (value === undefined) throw this.missing(key);
    return value;
  }

  index(key: string, required: true): number;
  index(key: string, required: false): number | undefined;
  index(key: string, required: boolean): number | undefined {
    const value = required ? this.requiredNumber(key) : this.number(key);
    if (value === undefined) return undefined;
    if (value < 0) throw new NodeError(`Field "${key}" must be zero or greater.`);
    return Math.floor(value);
  }

  flag(key: string): boolean {
    const value = Object.hasOwn(this.raw, key) ? this.raw[key] : undefined;
    if (typeof value === 'boolean') return value;
    return typeof value === 'string' && TRUE_WORDS.has(renderTemplate(value, this.context).trim().toLowerCase());
  }

  /** The optional `timezone` field (IANA name); UTC when absent. */
  zone(): Zone {
    const name = this.string('timezone')?.trim();
    if (!name) return FixedOffsetZone.utcInstance;
    if (!IANAZone.isValidZone(name)) {
      throw new NodeError(`Field "timezone" must be an IANA time zone name (e.g. America/New_York) for ${this.op}.`);
    }
    return IANAZone.create(name);
  }

  private missing(key: string): NodeError {
    return new NodeError(`Field "${key}" is required for ${this.op}.`);
  }
}

function parseNumber(text: string, message: string): number {
  const trimmed = text.trim();
  if (!isDecimalText(trimmed)) throw new NodeError(message);
  const value = Number(trimmed);
  if (!Number.isFinite(value)) throw new NodeError(message);
  return value;
}

export function parseInput(input: string, op: string): number {
  return parseNumber(input, `Input must be a valid number for ${op}.`);
}

/** JS numbers already serialise integral values as integers; this rejects what JSON cannot hold. */
export function jsonNumber(value: number): number {
  if (!Number.isFinite(value)) throw new NodeError('Numeric result is not finite.');
  return value === 0 ? 0 : value;
}

export function parseJson(text: string, message: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // The parser's message quotes the input, which may hold secrets.
    throw new NodeError(message);
  }
}

/** The reference's flexible parse, with blank input meaning `null`. */
export function flexible(text: string): unknown {
  const trimmed = text.trim();
  return trimmed === '' ? null : flexibleParse(trimmed);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
