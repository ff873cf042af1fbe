/**
 * Byte-exact port of what the reference signs: `serde_json::to_string(&serde_json::from_slice::<Value>(body))`
 * with serde_json's default features (no `preserve_order`, `arbitrary_precision` or `float_roundtrip`).
 * Parsing follows serde_json's `de.rs` step by step, including how it turns number lexemes into f64, because a
 * correctly rounded parse differs from serde's default one for some long lexemes and the signature covers the
 * printed result.
 */

import { MAX_JSON_DEPTH } from '../common/http/json-depth';

/** Characters a JSON string holds as they are: not a quote, a backslash, a control character or a surrogate. */
// eslint-disable-next-line no-control-regex -- control characters end a run: JSON strings may not hold them raw
const PLAIN_RUN = /[^"\\\u0000-\u001f\ud800-\udfff]*/y;

/** Thrown for input that is not valid JSON (message safe to show; never echo the input). */
export class CanonicalJsonError extends Error {
  override name = 'CanonicalJsonError';
}

export { MAX_JSON_DEPTH };

type JsonNode =
  | { kind: 'string'; value: string }
  | { kind: 'number'; canonical: string; lexeme: string }
  | { kind: 'literal'; value: true | false | null }
  | { kind: 'array'; items: JsonNode[] }
  | { kind: 'object'; entries: Map<string, JsonNode> };

/** serde_json's canonical form of a JSON text (docs/contract.md §6.4); empty or whitespace-only input → "". */
export function canonicalJson(raw: string): string {
  const root = parseDocument(raw);
  return root === undefined ? '' : serialize(root);
}

/**
 * Legacy mode (docs/contract.md §6.4): top-level `_dsentr_ts` / `_dsentr_sig` (string values only, otherwise "") are
 * taken out; `canonical` and `payload` describe the body without them. Non-object bodies are used whole.
 */
export function splitLegacySignature(raw: string): { ts: string; sig: string; canonical: string; payload: unknown } {
  const root = parseDocument(raw);
  if (root === undefined) return { ts: '', sig: '', canonical: '', payload: undefined };
  let ts = '';
  let sig = '';
  if (root.kind === 'object') {
    ts = stringValue(root.entries.get('_dsentr_ts'));
    sig = stringValue(root.entries.get('_dsentr_sig'));
    root.entries.delete('_dsentr_ts');
    root.entries.delete('_dsentr_sig');
  }
  return { ts, sig, canonical: serialize(root), payload: toPlain(root) };
}

/**
 * The body as a plain JS value (JSON.parse semantics, numbers as JS numbers). Accepts exactly what
 * canonicalJson accepts; empty or whitespace-only input → undefined (no body).
 */
export function parseBody(raw: string): unknown {
  const root = parseDocument(raw);
  return root === undefined ? undefined : toPlain(root);
}

function stringValue(node: JsonNode | undefined): string {
  return node?.kind === 'string' ? node.value : '';
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing

const U64_MAX = 0xffff_ffff_ffff_ffffn;
const I32_MAX = 0x7fff_ffff;
const I32_MIN = -0x8000_0000;
/** serde_json's POW10 table: the f64 literals 1e0 ..= 1e308. */
const POW10: readonly number[] = Array.from({ length: 309 }, (_, i) => Number(`1e${i}`));

function parseDocument(raw: string): JsonNode | undefined {
  const parser = new Parser(raw);
  parser.skipWhitespace();
  if (parser.atEnd()) return undefined;
  const root = parser.parseValue();
  parser.skipWhitespace();
  if (!parser.atEnd()) parser.fail('trailing characters');
  return root;
}

/** serde_json's u64 overflow check for `value * 10 + digit`. */
function overflowsU64(value: bigint, digit: bigint): boolean {
  return value >= U64_MAX / 10n && (value > U64_MAX / 10n || digit > U64_MAX % 10n);
}

function overflowsI32(value: number, digit: number): boolean {
  const limit = Math.trunc(I32_MAX / 10);
  return value >= limit && (value > limit || digit > I32_MAX % 10);
}

function saturateI32(value: number): number {
  return Math.min(I32_MAX, Math.max(I32_MIN, value));
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  return -1;
}

class Parser {
  private pos = 0;
  private depth = 0;

  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  fail(reason: string): never {
    throw new CanonicalJsonError(`Invalid JSON: ${reason} at offset ${this.pos}`);
  }

  /** Next code unit, or 0 at the end (serde's `peek_or_null`). */
  private peek(): number {
    return this.pos < this.text.length ? this.text.charCodeAt(this.pos) : 0;
  }

  skipWhitespace(): void {
    for (;;) {
      const c = this.peek();
      if (c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d) this.pos++;
      else return;
    }
  }

  parseValue(): JsonNode {
    this.skipWhitespace();
    if (this.atEnd()) this.fail('EOF while parsing a value');
    const c = this.peek();
    switch (c) {
      case 0x6e: // n
        this.parseIdent('null');
        return { kind: 'literal', value: null };
      case 0x74: // t
        this.parseIdent('true');
        return { kind: 'literal', value: true };
      case 0x66: // f
        this.parseIdent('false');
        return { kind: 'literal', value: false };
      case 0x22: // "
        this.pos++;
        return { kind: 'string', value: this.parseString() };
      case 0x5b: // [
        return this.nested(() => this.parseArray());
      case 0x7b: // {
        return this.nested(() => this.parseObject());
      default:
        if (c === 0x2d || isDigit(c)) return this.parseNumber();
        return this.fail('expected value');
    }
  }

  private nested(parse: () => JsonNode): JsonNode {
    if (++this.depth >= MAX_JSON_DEPTH) this.fail('recursion limit exceeded');
    this.pos++;
    const node = parse();
    this.depth--;
    return node;
  }

  private parseIdent(word: string): void {
    if (this.text.startsWith(word, this.pos)) {
      this.pos += word.length;
      return;
    }
    this.fail('expected value');
  }

  private parseArray(): JsonNode {
    const items: JsonNode[] = [];
    this.skipWhitespace();
    if (this.peek() === 0x5d && !this.atEnd()) {
      this.pos++;
      return { kind: 'array', items };
    }
    for (;;) {
      items.push(this.parseValue());
      this.skipWhitespace();
      if (this.atEnd()) this.fail('EOF while parsing a list');
      const c = this.peek();
      this.pos++;
      if (c === 0x5d) return { kind: 'array', items };
      if (c !== 0x2c) {
        this.pos--;
        this.fail('expected `,` or `]`');
      }
    }
  }

  private parseObject(): JsonNode {
    const entries = new Map<string, JsonNode>();
    this.skipWhitespace();
    if (this.peek() === 0x7d && !this.atEnd()) {
      this.pos++;
      return { kind: 'object', entries };
    }
    for (;;) {
      this.skipWhitespace();
      if (this.atEnd()) this.fail('EOF while parsing an object');
      if (this.peek() !== 0x22) this.fail('key must be a string');
      this.pos++;
      const key = this.parseString();
      this.skipWhitespace();
      if (this.atEnd()) this.fail('EOF while parsing an object');
      if (this.peek() !== 0x3a) this.fail('expected `:`');
      this.pos++;
      // Map.set keeps the first position and the last value, like BTreeMap::insert / JSON.parse.
      entries.set(key, this.parseValue());
      this.skipWhitespace();
      if (this.atEnd()) this.fail('EOF while parsing an object');
      const c = this.peek();
      this.pos++;
      if (c === 0x7d) return { kind: 'object', entries };
      if (c !== 0x2c) {
        this.pos--;
        this.fail('expected `,` or `}`');
      }
    }
  }

  /** After the opening quote. serde rejects raw control characters and any unpaired surrogate. */
  private parseString(): string {
    let out = '';
    let start = this.pos;
    for (;;) {
      // Runs of ordinary characters in one native step (a megabyte string is one match).
      PLAIN_RUN.lastIndex = this.pos;
      PLAIN_RUN.test(this.text);
      this.pos = PLAIN_RUN.lastIndex;
      if (this.atEnd()) this.fail('EOF while parsing a string');
      const c = this.text.charCodeAt(this.pos);
      if (c === 0x22) {
        out += this.text.slice(start, this.pos);
        this.pos++;
        return out;
      }
      if (c === 0x5c) {
        out += this.text.slice(start, this.pos);
        this.pos++;
        out += this.parseEscape();
        start = this.pos;
        continue;
      }
      if (c < 0x20) this.fail('control character (\\u0000-\\u001F) found while parsing a string');
      if (c >= 0xd800 && c <= 0xdfff) {
        const next = this.pos + 1 < this.text.length ? this.text.charCodeAt(this.pos + 1) : 0;
        if (c > 0xdbff || next < 0xdc00 || next > 0xdfff) this.fail('invalid unicode code point');
        this.pos += 2;
        continue;
      }
      this.pos++;
    }
  }

  private parseEscape(): string {
    if (this.atEnd()) this.fail('EOF while parsing a string');
    const c = this.text.charCodeAt(this.pos++);
    switch (c) {
      case 0x22:
        return '"';
      case 0x5c:
        return '\\';
      case 0x2f:
        return '/';
      case 0x62:
        return '\b';
      case 0x66:
        return '\f';
      case 0x6e:
        return '\n';
      case 0x72:
        return '\r';
      case 0x74:
        return '\t';
      case 0x75: {
        const high = this.hexEscape();
        if (high >= 0xdc00 && high <= 0xdfff) this.fail('lone leading surrogate in hex escape');
        if (high < 0xd800 || high > 0xdbff) return String.fromCharCode(high);
        if (this.peek() !== 0x5c || this.text.charCodeAt(this.pos + 1) !== 0x75) {
          this.fail('unexpected end of hex escape');
        }
        this.pos += 2;
        const low = this.hexEscape();
        if (low < 0xdc00 || low > 0xdfff) this.fail('lone leading surrogate in hex escape');
        return String.fromCharCode(high, low);
      }
      default:
        this.pos--;
        return this.fail('invalid escape');
    }
  }

  private hexEscape(): number {
    let value = 0;
    for (let i = 0; i < 4; i++) {
      if (this.atEnd()) this.fail('EOF while parsing a string');
      const digit = hexValue(this.text.charCodeAt(this.pos));
      if (digit < 0) this.fail('invalid escape');
      value = value * 16 + digit;
      this.pos++;
    }
    return value;
  }

  // Numbers: serde_json de.rs `parse_integer` → `parse_number` / `parse_long_integer` → `parse_decimal` /
  // `parse_exponent` → `f64_from_parts`, without the `float_roundtrip` feature.

  private parseNumber(): JsonNode {
    const start = this.pos;
    let positive = true;
    if (this.peek() === 0x2d) {
      positive = false;
      this.pos++;
    }
    const canonical = this.parseInteger(positive);
    return { kind: 'number', canonical, lexeme: this.text.slice(start, this.pos) };
  }

  private parseInteger(positive: boolean): string {
    if (this.atEnd()) this.fail('EOF while parsing a value');
    const first = this.peek();
    if (first === 0x30) {
      this.pos++;
      if (isDigit(this.peek())) this.fail('invalid number');
      return this.parseNumberTail(positive, 0n);
    }
    if (!isDigit(first)) this.fail('invalid number');
    this.pos++;
    let significand = BigInt(first - 0x30);
    for (;;) {
      const c = this.peek();
      if (!isDigit(c)) return this.parseNumberTail(positive, significand);
      const digit = BigInt(c - 0x30);
      if (overflowsU64(significand, digit)) return formatF64(this.parseLongInteger(positive, significand));
      this.pos++;
      significand = significand * 10n + digit;
    }
  }

  private parseNumberTail(positive: boolean, significand: bigint): string {
    const c = this.peek();
    if (c === 0x2e) return formatF64(this.parseDecimal(positive, significand, 0));
    if (c === 0x65 || c === 0x45) return formatF64(this.parseExponent(positive, significand, 0));
    if (positive) return significand.toString();
    // serde: `-0` and anything below i64::MIN become f64.
    if (significand === 0n || significand > 0x8000_0000_0000_0000n) return formatF64(-Number(significand));
    return `-${significand.toString()}`;
  }

  private parseLongInteger(positive: boolean, significand: bigint): number {
    let exponent = 0;
    for (;;) {
      const c = this.peek();
      if (isDigit(c)) {
        this.pos++;
        exponent++;
      } else if (c === 0x2e) {
        return this.parseDecimal(positive, significand, exponent);
      } else if (c === 0x65 || c === 0x45) {
        return this.parseExponent(positive, significand, exponent);
      } else {
        return this.f64FromParts(positive, significand, exponent);
      }
    }
  }

  private parseDecimal(positive: boolean, significand: bigint, exponent: number): number {
    this.pos++; // '.'
    for (;;) {
      const c = this.peek();
      if (!isDigit(c)) break;
      const digit = BigInt(c - 0x30);
      if (overflowsU64(significand, digit)) return this.parseDecimalOverflow(positive, significand, exponent);
      this.pos++;
      significand = significand * 10n + digit;
      exponent--;
    }
    // serde's "at least one digit after the point" check (it tests the running exponent, quirks included).
    if (exponent === 0) this.fail(this.atEnd() ? 'EOF while parsing a value' : 'invalid number');
    const c = this.peek();
    if (c === 0x65 || c === 0x45) return this.parseExponent(positive, significand, exponent);
    return this.f64FromParts(positive, significand, exponent);
  }

  private parseDecimalOverflow(positive: boolean, significand: bigint, exponent: number): number {
    while (isDigit(this.peek())) this.pos++;
    const c = this.peek();
    if (c === 0x65 || c === 0x45) return this.parseExponent(positive, significand, exponent);
    return this.f64FromParts(positive, significand, exponent);
  }

  private parseExponent(positive: boolean, significand: bigint, startingExp: number): number {
    this.pos++; // 'e' | 'E'
    let positiveExp = true;
    const sign = this.peek();
    if (sign === 0x2b) {
      this.pos++;
    } else if (sign === 0x2d) {
      this.pos++;
      positiveExp = false;
    }
    if (this.atEnd()) this.fail('EOF while parsing a value');
    const first = this.peek();
    if (!isDigit(first)) this.fail('invalid number');
    this.pos++;
    let exp = first - 0x30;
    for (;;) {
      const c = this.peek();
      if (!isDigit(c)) break;
      this.pos++;
      const digit = c - 0x30;
      if (overflowsI32(exp, digit)) return this.parseExponentOverflow(positive, significand === 0n, positiveExp);
      exp = exp * 10 + digit;
    }
    const finalExp = saturateI32(positiveExp ? startingExp + exp : startingExp - exp);
    return this.f64FromParts(positive, significand, finalExp);
  }

  private parseExponentOverflow(positive: boolean, zeroSignificand: boolean, positiveExp: boolean): number {
    if (!zeroSignificand && positiveExp) this.fail('number out of range');
    while (isDigit(this.peek())) this.pos++;
    return positive ? 0 : -0;
  }

  /** serde_json's default (not `float_roundtrip`) conversion: u64 → f64, then one multiply/divide by 10^|exp|. */
  private f64FromParts(positive: boolean, significand: bigint, exponent: number): number {
    let f = Number(significand); // round-half-even, as Rust's `u64 as f64`
    for (;;) {
      const pow = POW10[Math.abs(exponent)];
      if (pow !== undefined) {
        if (exponent >= 0) {
          f *= pow;
          if (!Number.isFinite(f)) this.fail('number out of range');
        } else {
          f /= pow;
        }
        break;
      }
      if (f === 0) break;
      if (exponent >= 0) this.fail('number out of range');
      f /= 1e308;
      exponent += 308;
    }
    return positive ? f : -f;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Printing

/**
 * A finite f64 the way the Rust `ryu` crate's `format64` prints it (serde_json's float printer): shortest
 * round-trip digits (taken from JS, which picks the same closest shortest digits), plain notation when
 * 1e-5 <= |f| < 1e16, otherwise `d[.ddd]e[-]x`; always contains `.` or `e`.
 */
export function formatF64(f: number): string {
  if (f === 0) return Object.is(f, -0) ? '-0.0' : '0.0';
  const sign = f < 0 ? '-' : '';
  const [mantissa, exp] = Math.abs(f).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const length = digits.length;
  const kk = Number(exp) + 1; // 10^(kk-1) <= |f| < 10^kk
  let body: string;
  if (length <= kk && kk <= 16) {
    body = `${digits}${'0'.repeat(kk - length)}.0`;
  } else if (0 < kk && kk <= 16) {
    body = `${digits.slice(0, kk)}.${digits.slice(kk)}`;
  } else if (-5 < kk && kk <= 0) {
    body = `0.${'0'.repeat(-kk)}${digits}`;
  } else if (length === 1) {
    body = `${digits}e${kk - 1}`;
  } else {
    body = `${digits[0]}.${digits.slice(1)}e${kk - 1}`;
  }
  return sign + body;
}

// serde_json's ESCAPE table: `"`, `\` and C0 controls only; short forms for \b \f \n \r \t.
const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

function escapeChar(ch: string): string {
  return SHORT_ESCAPES[ch] ?? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

function quote(value: string): string {
  // eslint-disable-next-line no-control-regex
  return `"${value.replace(/["\\\u0000-\u001f]/g, escapeChar)}"`;
}

/** Orders strings by their UTF-8 bytes (= code points), which UTF-16 code-unit order gets wrong above U+E000. */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      // Surrogates (astral code points) sort after U+E000..U+FFFF in code-point order.
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

function serialize(node: JsonNode): string {
  switch (node.kind) {
    case 'string':
      return quote(node.value);
    case 'number':
      return node.canonical;
    case 'literal':
      return String(node.value);
    case 'array':
      return `[${node.items.map(serialize).join(',')}]`;
    case 'object': {
      const entries = [...node.entries].sort(([a], [b]) => compareUtf8(a, b));
      return `{${entries.map(([k, v]) => `${quote(k)}:${serialize(v)}`).join(',')}}`;
    }
  }
}

function toPlain(node: JsonNode): unknown {
  switch (node.kind) {
    case 'string':
      return node.value;
    case 'number':
      return Number(node.lexeme);
    case 'literal':
      return node.value;
    case 'array':
      return node.items.map(toPlain);
    case 'object':
      // fromEntries defines own data properties, so a "__proto__" key stays data as with JSON.parse.
      return Object.fromEntries([...node.entries].map(([k, v]) => [k, toPlain(v)]));
  }
}
