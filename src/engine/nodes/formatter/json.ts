/** `json.*` formatter operations and the JSON path normaliser they use. */
import { NodeError } from '../../node-types';
import { resolvePath } from '../../templating';
import { splitText } from '../../text-search';
import { flexible, isPlainObject, parseJson, type Operation } from './operation';

export const JSON_OPERATIONS: [string, Operation][] = [
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
];

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
