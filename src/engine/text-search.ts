/**
 * Substring search in time linear in the text, whatever the needle. V8's `indexOf`, `includes` and
 * `split` only analyse the last 250 code units of a needle, so a long needle such as `a…aba…a`
 * against `a…a` costs text length × needle length: with both taken from a webhook, minutes.
 * Needles up to NATIVE_MAX stay with V8 (fast, and fully analysed); longer ones use Knuth–Morris–Pratt.
 */

const NATIVE_MAX = 64;

/** For each prefix of `needle`, the length of its longest proper border (KMP failure function). */
function borders(needle: string): Int32Array {
  const table = new Int32Array(needle.length);
  let k = 0;
  for (let i = 1; i < needle.length; i++) {
    const code = needle.charCodeAt(i);
    while (k > 0 && needle.charCodeAt(k) !== code) k = table[k - 1];
    if (needle.charCodeAt(k) === code) k++;
    table[i] = k;
  }
  return table;
}

/**
 * Start indices of the non-overlapping occurrences of `needle` (non-empty) in `text`, left to
 * right, as `String.prototype.split` finds them; stops after the first when `all` is false.
 */
function occurrences(text: string, needle: string, all: boolean): number[] {
  const table = borders(needle);
  const found: number[] = [];
  let k = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    while (k > 0 && needle.charCodeAt(k) !== code) k = table[k - 1];
    if (needle.charCodeAt(k) === code) k++;
    if (k === needle.length) {
      found.push(i + 1 - k);
      if (!all) break;
      k = 0;
    }
  }
  return found;
}

/** `text.includes(needle)`. */
export function containsText(text: string, needle: string): boolean {
  if (needle.length <= NATIVE_MAX || needle.length > text.length) return text.includes(needle);
  return occurrences(text, needle, false).length > 0;
}

/** `text.split(separator)` for a string separator. */
export function splitText(text: string, separator: string): string[] {
  if (separator.length <= NATIVE_MAX || separator.length > text.length) return text.split(separator);
  const parts: string[] = [];
  let start = 0;
  for (const at of occurrences(text, separator, true)) {
    parts.push(text.slice(start, at));
    start = at + separator.length;
  }
  parts.push(text.slice(start));
  return parts;
}
