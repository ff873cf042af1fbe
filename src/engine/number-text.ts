/**
 * Number text recognised in one left-to-right pass. The condition and formatter nodes read numbers
 * out of untrusted payloads; the regexes this replaces (`\d+\.?\d*…`) backtracked quadratically on a
 * long digit run ending in anything else, which let one webhook freeze the process.
 */

const PLUS = 0x2b;
const MINUS = 0x2d;
const DOT = 0x2e;

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

function isSign(code: number): boolean {
  return code === PLUS || code === MINUS;
}

/** End of the run of ASCII digits starting at `from`. */
function skipDigits(text: string, from: number): number {
  let i = from;
  while (i < text.length && isDigit(text.charCodeAt(i))) i++;
  return i;
}

/** Whether `text` is exactly `[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?` (ASCII digits, no spaces). */
export function isDecimalText(text: string): boolean {
  let i = text.length > 0 && isSign(text.charCodeAt(0)) ? 1 : 0;
  const intEnd = skipDigits(text, i);
  let digits = intEnd - i;
  i = intEnd;
  if (text.charCodeAt(i) === DOT) {
    const fractionEnd = skipDigits(text, i + 1);
    digits += fractionEnd - i - 1;
    i = fractionEnd;
  }
  if (digits === 0) return false;
  if ((text.charCodeAt(i) | 0x20) === 0x65) {
    // e or E
    i++;
    if (isSign(text.charCodeAt(i))) i++;
    const exponentEnd = skipDigits(text, i);
    if (exponentEnd === i) return false;
    i = exponentEnd;
  }
  return i === text.length;
}

/** Whether `text` is exactly `[+-]?\d+`. */
export function isIntegerText(text: string): boolean {
  const start = text.length > 0 && isSign(text.charCodeAt(0)) ? 1 : 0;
  return text.length > start && skipDigits(text, start) === text.length;
}

/**
 * Rust's `f64` parse: decimal text as above, or `inf`, `infinity`, `nan` in any ASCII case, each
 * with an optional sign. `undefined` for anything else (no trimming here).
 */
export function parseFloatText(text: string): number | undefined {
  if (isDecimalText(text)) return Number(text);
  const signed = text.length > 0 && isSign(text.charCodeAt(0));
  const word = signed ? text.slice(1) : text;
  // Length first, so a huge string is never lowercased. No non-ASCII letter lowercases to one of
  // these words, so this matches a case-insensitive ASCII comparison.
  if (word.length > 8) return undefined;
  const lower = word.toLowerCase();
  if (lower === 'nan') return NaN;
  if (lower === 'inf' || lower === 'infinity') return text.charCodeAt(0) === MINUS ? -Infinity : Infinity;
  return undefined;
}
