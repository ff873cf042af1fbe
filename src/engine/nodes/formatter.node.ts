/**
 * Formatter node (docs/contract.md §5.9): one operation on a templated `input`, result stored under
 * `output_key`. Error texts name the operation and the offending field, never a field's value
 * (inputs are templated and may carry secrets).
 *
 * Dates are handled in UTC unless a `timezone` field says otherwise. RFC 3339 results are written
 * chrono style (`2025-01-02T03:04:05+00:00`, `.SSS` only when milliseconds are non-zero) because that
 * is what the reference's node outputs carry (§4.6 shows the same style for `_resume_at`).
 */
import { Type } from 'class-transformer';
import { IsObject, IsOptional, IsString, ValidateNested } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { DateTime, FixedOffsetZone, IANAZone, type Zone } from 'luxon';
import { nodeMessage, parseParams } from '../node-params';
import {
  NodeError,
  type GraphNode,
  type NodeContext,
  type NodeExecutor,
  type NodeResult,
  type NodeTypeInfo,
} from '../node-types';
import { isDecimalText, isIntegerText } from '../number-text';
import { flexibleParse, renderTemplate, resolvePath } from '../templating';
import { splitText } from '../text-search';
import { IsScalar, objectOrAbsent } from './param-rules';

const OUTPUT_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const INVALID_MESSAGE = 'Invalid formatter configuration';
const INVALID = { context: nodeMessage(INVALID_MESSAGE) };
const TRUE_WORDS = new Set(['true', '1', 'yes', 'y', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'n', 'off']);

type Context = Readonly<Record<string, unknown>>;

export class FormatterNode implements NodeExecutor {
  readonly instant = true;

  async execute(node: GraphNode, ctx: NodeContext): Promise<NodeResult> {
    const raw = node.data.config;
    // A missing config is invalid here, not an empty one.
    if (!objectOrAbsent(raw)) throw new NodeError(INVALID_MESSAGE);
    // The class checks types only; what is missing is reported below, after every type is right.
    const { operation, input, fields, output_key: outputKey } = parseParams(FormatterConfig, raw);

    const op = (operation ?? '').trim();
    if (op === '') throw new NodeError('Formatter operation is required.');
    const key = (outputKey ?? '').trim();
    if (key === '') throw new NodeError('Output key is required.');
    if (!OUTPUT_KEY.test(key)) {
      throw new NodeError(
        'Output key must start with a letter/underscore and contain only letters, numbers, or underscores.',
      );
    }

    const run = OPERATIONS.get(op);
    if (!run) throw new NodeError(`Unsupported formatter operation \`${op}\``);
    const text = typeof input === 'string' ? renderTemplate(input, ctx.context) : input == null ? '' : String(input);
    const result = run(text, new Fields(op, (fields ?? {}) as Record<string, unknown>, ctx.context));
    return { outputs: { [key]: result } };
  }
}

type Operation = (input: string, fields: Fields) => unknown;

const OPERATIONS = new Map<string, Operation>([
  ['string.trim', (input) => input.trim()],
  ['string.lowercase', (input) => input.toLowerCase()],
  ['string.uppercase', (input) => input.toUpperCase()],
  [
    'string.replace',
    (input, f) => splitText(input, f.requiredString('search_for', false)).join(f.string('replace_with') ?? ''),
  ],
  [
    'string.split',
    (input, f) => {
      const parts = splitText(input, f.requiredString('delimiter', false));
      const index = f.index('index', true);
      if (index >= parts.length) {
        throw new NodeError(`Index ${index} is out of range for split result of length ${parts.length}.`);
      }
      return parts[index];
    },
  ],
  [
    'string.substring',
    (input, f) => {
      // Counted in code points; `length` may be omitted to take the rest of the string.
      const chars = Array.from(input);
      const start = f.index('start', true);
      const length = f.index('length', false);
      return chars.slice(start, length === undefined ? undefined : start + length).join('');
    },
  ],
  ['number.add', (input, f) => arithmetic(input, f, (a, b) => a + b)],
  ['number.subtract', (input, f) => arithmetic(input, f, (a, b) => a - b)],
  ['number.multiply', (input, f) => arithmetic(input, f, (a, b) => a * b)],
  [
    'number.divide',
    (input, f) =>
      arithmetic(input, f, (a, b) => {
        if (b === 0) throw new NodeError('Cannot divide by zero.');
        return a / b;
      }),
  ],
  [
    'number.round',
    (input, f) => {
      const places = Math.floor(f.requiredNumber('decimal_places'));
      if (places < 0) throw new NodeError('Field "decimal_places" must be zero or greater.');
      if (places > 15) throw new NodeError('Field "decimal_places" must be 15 or less.');
      const value = parseInput(input, f.op);
      const factor = 10 ** places;
      // Half away from zero, as the reference (Rust `f64::round`) does.
      return jsonNumber((Math.sign(value) * Math.round(Math.abs(value) * factor)) / factor);
    },
  ],
  ['type.to_number', (input, f) => jsonNumber(parseInput(input, f.op))],
  [
    'json.pick',
    (input, f) => {
      const path = normaliseJsonPath(f.requiredString('json_path', true));
      const parsed = parseJson(input, `Input is not valid JSON for ${f.op}.`);
      if (path === '') return parsed;
      const value = resolvePath(parsed, path);
      if (value === undefined) throw new NodeError('Field "json_path" was not found in the JSON input.');
      return value;
    },
  ],
  [
    'json.flatten',
    (input, f) => {
      const parsed = parseJson(input, `Input is not valid JSON for ${f.op}.`);
      if (parsed === null || typeof parsed !== 'object') return parsed;
      return Object.fromEntries(flatten(parsed, f.op));
    },
  ],
  [
    'json.merge',
    (input, f) => {
      const left = parseJson(input, `Input is not valid JSON for ${f.op}.`);
      const right = parseJson(f.requiredString('input_two', true), 'Field "input_two" is not valid JSON.');
      if (!isPlainObject(left)) throw new NodeError('Primary input must be a JSON object to merge.');
      if (!isPlainObject(right)) throw new NodeError('Field "input_two" must be a JSON object to merge.');
      return { ...left, ...right };
    },
  ],
  [
    'json.to_array',
    (input, f) => {
      const delimiter = f.requiredString('delimiter', false);
      const trim = f.flag('trim_items');
      const tidy = (item: unknown): unknown => (trim && typeof item === 'string' ? item.trim() : item);
      let parsed: unknown;
      try {
        parsed = JSON.parse(input);
      } catch {
        parsed = input;
      }
      // A JSON array is kept (items tidied); anything else is split as text.
      if (Array.isArray(parsed)) return parsed.map(tidy);
      const source = typeof parsed === 'string' ? parsed : JSON.stringify(parsed);
      return splitText(source, delimiter).map(tidy);
    },
  ],
  ['json.to_object', (input, f) => ({ [f.requiredString('key_name', true)]: flexible(input) })],
  [
    'date.parse',
    (input, f) => {
      const format = f.requiredString('format', true).toLowerCase();
      if (!isDateFormat(format)) {
        throw new NodeError(`Field "format" must be one of ${DATE_FORMATS.join(', ')}.`);
      }
      const parsed = parseDateAs(input.trim(), format);
      if (!parsed) throw new NodeError(PARSE_ERRORS[format]);
      return formatRfc3339(parsed);
    },
  ],
  [
    'date.format',
    (input, f) => {
      const format = f.requiredString('output_format', true);
      const named = format.toLowerCase();
      const render = isDateFormat(named) ? (d: DateTime) => formatNamed(d, named) : compileTokens(format);
      const zone = f.zone();
      return render(parseAnyDate(input).setZone(zone));
    },
  ],
  [
    'date.adjust',
    (input, f) => {
      const days = f.number('days') ?? 0;
      const hours = f.number('hours') ?? 0;
      const minutes = f.number('minutes') ?? 0;
      if (days === 0 && hours === 0 && minutes === 0) {
        throw new NodeError('Add at least one offset (days, hours, or minutes).');
      }
      // Fixed-length days (the arithmetic is in UTC), fractions allowed: 1.5 hours = 90 minutes.
      const offset = Math.round(days * 86_400_000 + hours * 3_600_000 + minutes * 60_000);
      const adjusted = parseAnyDate(input).plus({ milliseconds: offset });
      if (!adjusted.isValid) throw new NodeError('Adjusted date is out of range.');
      return formatRfc3339(adjusted);
    },
  ],
  [
    'date.extract',
    (input, f) => {
      const component = f.requiredString('component', true).toLowerCase();
      const read = COMPONENTS.get(component);
      if (!read) throw new NodeError(`Field "component" must be one of ${[...COMPONENTS.keys()].join(', ')}.`);
      return read(parseAnyDate(input).setZone(f.zone()));
    },
  ],
  ['bool.to_boolean', (input) => toBoolean(flexible(input))],
  ['bool.is_empty', (input) => isEmpty(flexible(input))],
  [
    'type.to_string',
    (input) => {
      const value = flexible(input);
      if (value === null) return '';
      if (typeof value === 'string') return value;
      if (typeof value !== 'object') return String(value);
      try {
        return JSON.stringify(value);
      } catch {
        // JSON.parse accepts nesting deeper than JSON.stringify's recursion can write back.
        throw new NodeError('Input is nested too deeply for type.to_string.');
      }
    },
  ],
]);

/** Reads `fields`: string values are templated; numbers and booleans are taken as text where text is wanted. */
class Fields {
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

function arithmetic(input: string, f: Fields, apply: (a: number, b: number) => number): number {
  const operand = f.requiredNumber('value');
  return jsonNumber(apply(parseInput(input, f.op), operand));
}

function parseNumber(text: string, message: string): number {
  const trimmed = text.trim();
  if (!isDecimalText(trimmed)) throw new NodeError(message);
  const value = Number(trimmed);
  if (!Number.isFinite(value)) throw new NodeError(message);
  return value;
}

function parseInput(input: string, op: string): number {
  return parseNumber(input, `Input must be a valid number for ${op}.`);
}

/** JS numbers already serialise integral values as integers; this rejects what JSON cannot hold. */
function jsonNumber(value: number): number {
  if (!Number.isFinite(value)) throw new NodeError('Numeric result is not finite.');
  return value === 0 ? 0 : value;
}

function parseJson(text: string, message: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // The parser's message quotes the input, which may hold secrets.
    throw new NodeError(message);
  }
}

// ---- json paths and keys ------------------------------------------------------------------------

const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const SINGLE_QUOTE = 0x27;
const DOUBLE_QUOTE = 0x22;
const DOT = 0x2e;
const DOLLAR = 0x24;

/** The regex `\s` set: ECMAScript white space and line terminators. */
function isSpace(code: number): boolean {
  return (
    (code >= 0x09 && code <= 0x0d) ||
    code === 0x20 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

/** What the regex `.` does not match. */
function isLineBreak(code: number): boolean {
  return code === 0x0a || code === 0x0d || code === 0x2028 || code === 0x2029;
}

/**
 * `$.items[0].id`, `items[0]['id']` and `items.0.id` all become `items.0.id`: quoted bracket keys
 * and brackets become dots, dot runs collapse, then outer dots, leading `$`s and a dot after them go.
 */
export function normaliseJsonPath(path: string): string {
  const dotted = bracketsAsDots(path).replace(/\.{2,}/g, '.');
  let start = dotted.charCodeAt(0) === DOT ? 1 : 0;
  const end = dotted.length > start && dotted.charCodeAt(dotted.length - 1) === DOT ? dotted.length - 1 : dotted.length;
  while (start < end && dotted.charCodeAt(start) === DOLLAR) start++;
  if (start < end && dotted.charCodeAt(start) === DOT) start++;
  return dotted.slice(start, end);
}

/**
 * `[ 'key' ]` / `["key"]` → `.key`, then every other bracket → `.`. The key is the shortest
 * single-line run followed by its quote, optional spaces and `]`; found by a scan instead of the
 * lazy regex, which rescanned to the end of the line from every unclosed `['` (quadratic).
 */
function bracketsAsDots(path: string): string {
  // Per quote: where the last failed search for a closing quote stopped (a line break or the end).
  // A later search for the same quote starts after the earlier one and before that stop, so it fails too.
  const deadEnds = new Map<number, number>();
  let out = '';
  let copied = 0;
  for (let open = path.indexOf('['); open !== -1; open = path.indexOf('[', open + 1)) {
    const quoted = quotedKey(path, open, deadEnds);
    if (!quoted) continue;
    out += `${path.slice(copied, open)}.${quoted.key}`;
    copied = quoted.end;
    open = quoted.end - 1;
  }
  return (out + path.slice(copied)).replace(/[[\]]/g, '.');
}

function quotedKey(
  path: string,
  open: number,
  deadEnds: Map<number, number>,
): { key: string; end: number } | undefined {
  let at = open + 1;
  while (at < path.length && isSpace(path.charCodeAt(at))) at++;
  const quote = path.charCodeAt(at);
  if (quote !== SINGLE_QUOTE && quote !== DOUBLE_QUOTE) return undefined;
  const from = at + 1;
  if (from <= (deadEnds.get(quote) ?? -1)) return undefined;
  for (let k = from; k < path.length; k++) {
    const code = path.charCodeAt(k);
    if (isLineBreak(code)) {
      deadEnds.set(quote, k);
      return undefined;
    }
    if (code !== quote) continue;
    let end = k + 1;
    while (end < path.length && isSpace(path.charCodeAt(end))) end++;
    if (path.charCodeAt(end) === CLOSE_BRACKET) return { key: path.slice(from, k), end: end + 1 };
  }
  deadEnds.set(quote, path.length);
  return undefined;
}

/**
 * Total length of the keys json.flatten may build. Keys repeat their whole path, so a deep chain
 * with a leaf on every level, or one long key over many leaves, makes them quadratic in the input.
 */
const FLATTEN_KEY_CHARS = 16 * 1024 * 1024;

/** Dotted keys for every scalar, depth first (an explicit stack: input nesting is unbounded). */
function flatten(root: object, op: string): [string, unknown][] {
  const out: [string, unknown][] = [];
  const stack: [string, unknown][] = [['', root]];
  let budget = FLATTEN_KEY_CHARS;
  while (stack.length > 0) {
    const [prefix, value] = stack.pop() as [string, unknown];
    if (value === null || typeof value !== 'object') {
      budget -= prefix.length;
      if (budget < 0) throw new NodeError(`Flattened keys exceed ${FLATTEN_KEY_CHARS} characters for ${op}.`);
      out.push([prefix, value]);
      continue;
    }
    const children = Array.isArray(value)
      ? value.map((item, i): [string, unknown] => [String(i), item])
      : Object.entries(value);
    for (let i = children.length - 1; i >= 0; i--) {
      const [key, child] = children[i];
      stack.push([prefix === '' ? key : `${prefix}.${key}`, child]);
    }
  }
  return out;
}

/** The reference's flexible parse, with blank input meaning `null`. */
function flexible(text: string): unknown {
  const trimmed = text.trim();
  return trimmed === '' ? null : flexibleParse(trimmed);
}

function toBoolean(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (value === null) return false;
  if (typeof value === 'string') {
    const word = value.trim().toLowerCase();
    if (word === '' || FALSE_WORDS.has(word)) return false;
    if (TRUE_WORDS.has(word)) return true;
    throw new NodeError('Cannot convert input to boolean. Use true/false, yes/no, or 1/0.');
  }
  return Array.isArray(value) ? value.length > 0 : Object.keys(value as object).length > 0;
}

function isEmpty(value: unknown): boolean {
  if (value === null) return true;
  if (typeof value === 'boolean') return !value;
  if (typeof value === 'number') return false;
  if (typeof value === 'string') return value.trim() === '';
  return Array.isArray(value) ? value.length === 0 : Object.keys(value as object).length === 0;
}

// ---- dates -------------------------------------------------------------------------------------

const DATE_FORMATS = [
  'rfc3339',
  'rfc2822',
  'date_only',
  'datetime',
  'us_short',
  'unix_seconds',
  'unix_milliseconds',
] as const;
type DateFormat = (typeof DATE_FORMATS)[number];

const PARSE_ERRORS: Record<DateFormat, string> = {
  rfc3339: 'Date must be RFC 3339 / ISO 8601 with an offset (e.g. 2025-01-02T03:04:05Z).',
  rfc2822: 'Date must be RFC 2822 (e.g. Thu, 01 Jan 1970 00:00:00 GMT).',
  date_only: 'Date must match YYYY-MM-DD.',
  datetime: 'Datetime must match YYYY-MM-DD HH:mm:ss (UTC).',
  us_short: 'Date must match MM/DD/YYYY.',
  unix_seconds: 'Unix seconds must be a whole number within the supported range.',
  unix_milliseconds: 'Unix milliseconds must be a whole number within the supported range.',
};

const RFC3339 = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2}(?:\.\d+)?)([Zz]|[+-]\d{2}:\d{2})$/;
const DATE_ONLY = /^(\d{4})-(\d{1,2})-(\d{1,2})$/;
const DATETIME = /^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2}):(\d{2})$/;
const US_SHORT = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/;
/** Auto-detected bare numbers at or above this magnitude are milliseconds (1e11 s is year 5138). */
const MILLIS_THRESHOLD = 1e11;

function isDateFormat(format: string): format is DateFormat {
  return (DATE_FORMATS as readonly string[]).includes(format);
}

/** RFC 3339 with a mandatory offset; `t`/space separators and `z` accepted like chrono. UTC result. */
export function parseRfc3339(text: string): DateTime | null {
  const match = RFC3339.exec(text.trim());
  if (!match) return null;
  const date = DateTime.fromISO(`${match[1]}T${match[2]}${match[3].toUpperCase()}`, { setZone: true });
  return date.isValid ? date.toUTC() : null;
}

/** `2025-01-02T03:04:05+00:00` / `…05.120+00:00` (chrono `to_rfc3339` style), in the date's own zone. */
export function formatRfc3339(date: DateTime): string {
  const ms = date.millisecond === 0 ? '' : `.${pad(date.millisecond, 3)}`;
  return `${date.toFormat("yyyy-MM-dd'T'HH:mm:ss")}${ms}${offset(date, ':')}`;
}

/** Matches `pattern` and builds a UTC date from the captures listed in year, month, day, h, m, s order. */
function utcDate(text: string, pattern: RegExp, order: number[]): DateTime | null {
  const match = pattern.exec(text);
  if (!match) return null;
  const [year, month, day, hour = 0, minute = 0, second = 0] = order.map((i) => Number(match[i]));
  const date = DateTime.utc(year, month, day, hour, minute, second);
  return date.isValid ? date : null;
}

function fromEpoch(text: string, scale: number): DateTime | null {
  if (!isIntegerText(text)) return null;
  const date = DateTime.fromMillis(Number(text) * scale, { zone: FixedOffsetZone.utcInstance });
  return date.isValid ? date : null;
}

function parseDateAs(text: string, format: DateFormat): DateTime | null {
  switch (format) {
    case 'rfc3339':
      return parseRfc3339(text);
    case 'rfc2822': {
      const date = DateTime.fromRFC2822(text);
      return date.isValid ? date.toUTC() : null;
    }
    case 'date_only':
      return utcDate(text, DATE_ONLY, [1, 2, 3]);
    case 'datetime':
      return utcDate(text, DATETIME, [1, 2, 3, 4, 5, 6]);
    case 'us_short':
      return utcDate(text, US_SHORT, [3, 1, 2]);
    case 'unix_seconds':
      return fromEpoch(text, 1000);
    case 'unix_milliseconds':
      return fromEpoch(text, 1);
  }
}

/**
 * Tries every named format. A bare integer is Unix seconds below 1e11 and milliseconds from there
 * on (the reference tries milliseconds first, which turns any seconds timestamp into January 1970).
 */
function parseAnyDate(input: string): DateTime {
  const text = input.trim();
  for (const format of ['rfc3339', 'rfc2822', 'datetime', 'date_only', 'us_short'] as const) {
    const date = parseDateAs(text, format);
    if (date) return date;
  }
  if (isIntegerText(text)) {
    const date = fromEpoch(text, Math.abs(Number(text)) >= MILLIS_THRESHOLD ? 1 : 1000);
    if (date) return date;
  }
  throw new NodeError(
    'Unable to parse date. Supported formats: ISO 8601 / RFC 3339, RFC 2822, YYYY-MM-DD, YYYY-MM-DD HH:mm:ss, MM/DD/YYYY, Unix seconds, Unix milliseconds.',
  );
}

function formatNamed(date: DateTime, format: DateFormat): string | number {
  switch (format) {
    case 'rfc3339':
      return formatRfc3339(date);
    case 'rfc2822':
      return date.toRFC2822() ?? formatRfc3339(date);
    case 'date_only':
      return date.toFormat('yyyy-MM-dd');
    case 'datetime':
      return date.toFormat('yyyy-MM-dd HH:mm:ss');
    case 'us_short':
      return date.toFormat('MM/dd/yyyy');
    case 'unix_seconds':
      return Math.floor(date.toMillis() / 1000);
    case 'unix_milliseconds':
      return date.toMillis();
  }
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/**
 * Token patterns for `date.format` (day.js/moment style, English names, case-sensitive):
 * YYYY YY · MMMM MMM MM M · DD D · dddd ddd · HH H (24h) · hh h (12h) · mm m · ss s · SSS · A a ·
 * Z (+00:00) ZZ (+0000) · X (Unix s) x (Unix ms) · `[text]` is literal. Everything else is copied.
 */
const TOKENS: Record<string, (d: DateTime) => string> = {
  YYYY: (d) => pad(d.year, 4),
  YY: (d) => pad(d.year % 100, 2),
  MMMM: (d) => MONTHS[d.month - 1],
  MMM: (d) => MONTHS[d.month - 1].slice(0, 3),
  MM: (d) => pad(d.month, 2),
  M: (d) => String(d.month),
  DD: (d) => pad(d.day, 2),
  D: (d) => String(d.day),
  dddd: (d) => WEEKDAYS[d.weekday - 1],
  ddd: (d) => WEEKDAYS[d.weekday - 1].slice(0, 3),
  HH: (d) => pad(d.hour, 2),
  H: (d) => String(d.hour),
  hh: (d) => pad(d.hour % 12 || 12, 2),
  h: (d) => String(d.hour % 12 || 12),
  mm: (d) => pad(d.minute, 2),
  m: (d) => String(d.minute),
  ss: (d) => pad(d.second, 2),
  s: (d) => String(d.second),
  SSS: (d) => pad(d.millisecond, 3),
  A: (d) => (d.hour < 12 ? 'AM' : 'PM'),
  a: (d) => (d.hour < 12 ? 'am' : 'pm'),
  ZZ: (d) => offset(d, ''),
  Z: (d) => offset(d, ':'),
  X: (d) => String(Math.floor(d.toMillis() / 1000)),
  x: (d) => String(d.toMillis()),
};
/** Tokens by first letter, longest first: at each position the first that matches wins. */
const TOKENS_BY_LETTER = new Map<string, string[]>();
for (const token of Object.keys(TOKENS).sort((a, b) => b.length - a.length)) {
  TOKENS_BY_LETTER.set(token[0], [...(TOKENS_BY_LETTER.get(token[0]) ?? []), token]);
}

/** Literal text, or a token to render. */
type FormatPiece = string | { token: string };

/**
 * Splits a token pattern left to right: `[text]` is literal, then the tokens. An unclosed `[` is
 * plain text; once no `]` follows one, none follows any later one, so each `]` search runs once
 * (the regex this replaces searched to the end again from every unclosed `[`).
 */
export function tokeniseDateFormat(format: string): FormatPiece[] {
  const pieces: FormatPiece[] = [];
  let copied = 0;
  let unclosed = false;
  let i = 0;
  const emit = (piece: FormatPiece, end: number) => {
    if (copied < i) pieces.push(format.slice(copied, i));
    pieces.push(piece);
    i = end;
    copied = end;
  };
  while (i < format.length) {
    if (format.charCodeAt(i) === OPEN_BRACKET && !unclosed) {
      const close = format.indexOf(']', i + 1);
      if (close !== -1) {
        emit(format.slice(i + 1, close), close + 1);
        continue;
      }
      unclosed = true;
    }
    const token = TOKENS_BY_LETTER.get(format[i])?.find((t) => format.startsWith(t, i));
    if (token) emit({ token }, i + token.length);
    else i++;
  }
  if (copied < format.length) pieces.push(format.slice(copied));
  return pieces;
}

function compileTokens(format: string): (date: DateTime) => string {
  // A lower-case word that is not a named format is a typo, not a pattern of `m`/`s`/`h` tokens.
  if (/^[a-z0-9_]+$/.test(format) || format.includes('%')) {
    throw new NodeError(
      `Field "output_format" must be one of ${DATE_FORMATS.join(', ')} or a token pattern such as YYYY-MM-DD HH:mm.`,
    );
  }
  const pieces = tokeniseDateFormat(format);
  if (!pieces.some((piece) => typeof piece !== 'string')) {
    throw new NodeError('Field "output_format" contains no date tokens.');
  }
  return (date) => pieces.map((piece) => (typeof piece === 'string' ? piece : TOKENS[piece.token](date))).join('');
}

const COMPONENTS = new Map<string, (d: DateTime) => number>([
  ['year', (d) => d.year],
  ['month', (d) => d.month],
  ['day', (d) => d.day],
  ['hour', (d) => d.hour],
  ['minute', (d) => d.minute],
  ['second', (d) => d.second],
  ['weekday', (d) => d.weekday],
]);

function offset(date: DateTime, separator: string): string {
  const minutes = date.offset;
  const abs = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${pad(Math.floor(abs / 60), 2)}${separator}${pad(abs % 60, 2)}`;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

// ---- params (last: the operation list and the date formats above feed their schema) ------------

const textField = (description: string) => JSONSchema({ type: 'string', description });
const numericField = (description: string) =>
  JSONSchema({ type: ['number', 'string'], description: `${description} A string is templated first.` });

/**
 * `config.fields`: what the operation needs beside its input. String values are templated; nothing
 * is checked until the operation reads the field, so a field another operation uses is ignored.
 */
export class FormatterFields {
  @textField('`string.replace`: the text to find, kept as typed (spaces count).')
  @IsOptional()
  search_for?: string;

  @textField('`string.replace`: its replacement (empty when absent).')
  @IsOptional()
  replace_with?: string;

  @textField('`string.split` and `json.to_array`: the separator, kept as typed (a single space works).')
  @IsOptional()
  delimiter?: string;

  @numericField('`string.split`: which part to return, from 0.')
  @IsOptional()
  index?: number | string;

  @numericField('`string.substring`: the first character, from 0 (counted in code points).')
  @IsOptional()
  start?: number | string;

  @numericField('`string.substring`: how many characters; the rest of the text when absent.')
  @IsOptional()
  length?: number | string;

  @numericField('`number.add`, `number.subtract`, `number.multiply`, `number.divide`: the other operand.')
  @IsOptional()
  value?: number | string;

  @numericField('`number.round`: decimal places, 0 to 15 (half away from zero).')
  @IsOptional()
  decimal_places?: number | string;

  @textField('`json.pick`: the path into the input JSON (`$.items[0].id`, `items.0.id`; `$` is the whole value).')
  @IsOptional()
  json_path?: string;

  @textField('`json.merge`: the JSON object merged over the input (its keys win).')
  @IsOptional()
  input_two?: string;

  @JSONSchema({
    type: ['boolean', 'string'],
    description: '`json.to_array`: trim each item (`true`, or a string such as `yes`, `1`, `on`).',
  })
  @IsOptional()
  trim_items?: boolean | string;

  @textField('`json.to_object`: the key the input is stored under.')
  @IsOptional()
  key_name?: string;

  @textField(`\`date.parse\`: the input's format, one of ${DATE_FORMATS.map((f) => `\`${f}\``).join(', ')}.`)
  @IsOptional()
  format?: string;

  @textField(
    '`date.format`: a named format (as for `format`) or a token pattern such as `YYYY-MM-DD HH:mm` (day.js style; `[text]` is literal).',
  )
  @IsOptional()
  output_format?: string;

  @textField('`date.format`, `date.extract`: an IANA time zone (`America/New_York`); UTC when absent.')
  @IsOptional()
  timezone?: string;

  @numericField('`date.adjust`: days to add (negative subtracts, fractions allowed).')
  @IsOptional()
  days?: number | string;

  @numericField('`date.adjust`: hours to add.')
  @IsOptional()
  hours?: number | string;

  @numericField('`date.adjust`: minutes to add.')
  @IsOptional()
  minutes?: number | string;

  @textField(`\`date.extract\`: one of ${[...COMPONENTS.keys()].map((c) => `\`${c}\``).join(', ')}.`)
  @IsOptional()
  component?: string;
}

/** A formatter node's `data.config`. Types are checked here; what is missing, by the node. */
@JSONSchema({
  required: ['operation', 'output_key'],
  examples: [
    { operation: 'number.round', input: '{{Hook.amount}}', fields: { decimal_places: 2 }, output_key: 'total' },
  ],
})
export class FormatterConfig {
  @JSONSchema({ description: 'What to do with the input.', enum: [...OPERATIONS.keys()] })
  @IsOptional()
  @IsString(INVALID)
  operation?: string | null;

  @JSONSchema({ description: 'The value to work on; a string is templated (`{{Hook.amount}}`). Empty when absent.' })
  @IsOptional()
  @IsScalar(INVALID)
  input?: string | number | boolean | null;

  @JSONSchema({ description: 'The fields the operation needs.' })
  @IsOptional()
  @IsObject(INVALID)
  @ValidateNested()
  @Type(() => FormatterFields)
  fields?: FormatterFields | null;

  @JSONSchema({
    description: 'The output field the result is stored under (letters, digits and `_`, not starting with a digit).',
    pattern: OUTPUT_KEY.source,
    examples: ['total'],
  })
  @IsOptional()
  @IsString(INVALID)
  output_key?: string | null;
}

export const FORMATTER_NODE: NodeTypeInfo = {
  kind: 'formatter',
  category: 'logic',
  title: 'Formatter',
  description:
    'Applies one text, number, date, JSON or boolean operation to a templated input and stores the result under an output key.',
  nodeTypes: ['formatter', 'logicformatter', 'transform'],
  actionTypes: [],
  paramsField: 'config',
  params: FormatterConfig,
  outputs: { '<output_key>': 'The result, under the configured `output_key`.' },
  planGate: null,
};
