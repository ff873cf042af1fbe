/**
 * `{{ path }}` templating (docs/contract.md §5.3). The text between `{{` and the next `}}` is trimmed and
 * resolved as a dot path into the context: object keys by name, array elements by decimal index.
 * Missing → empty string; strings insert raw; anything else as compact JSON with sorted keys. A walk
 * that reaches a scalar before the path ends yields that scalar. An unclosed `{{` stays as it is.
 */

const MISSING = Symbol('missing');

export function resolvePath(root: unknown, path: string): unknown {
  const value = walk(root, path);
  return value === MISSING ? undefined : value;
}

function walk(root: unknown, path: string): unknown {
  const parts = path.split('.').map((p) => p.trim());
  if (parts.length === 0 || parts.some((p) => p === '')) return MISSING;
  let current: unknown = root;
  for (const part of parts) {
    if (Array.isArray(current)) {
      if (!/^\d+$/.test(part)) return MISSING;
      const index = Number(part);
      if (index >= current.length) return MISSING;
      current = current[index];
    } else if (current !== null && typeof current === 'object') {
      if (!Object.prototype.hasOwnProperty.call(current, part)) return MISSING;
      current = (current as Record<string, unknown>)[part];
    } else {
      // A scalar before the path ends: the reference uses the scalar.
      return current;
    }
  }
  return current;
}

/** Compact JSON with object keys sorted, as the reference renders non-string values. */
export function stableStringify(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const entries = Object.keys(value as Record<string, unknown>)
    .sort()
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${stableStringify((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

function display(value: unknown): string {
  if (value === MISSING || value === undefined) return '';
  if (typeof value === 'string') return value;
  return stableStringify(value);
}

export function renderTemplate(template: string, context: Readonly<Record<string, unknown>>): string {
  if (!template.includes('{{')) return template;
  let out = '';
  let rest = template;
  for (;;) {
    const open = rest.indexOf('{{');
    if (open === -1) return out + rest;
    const close = rest.indexOf('}}', open + 2);
    if (close === -1) return out + rest;
    out += rest.slice(0, open) + display(walk(context, rest.slice(open + 2, close).trim()));
    rest = rest.slice(close + 2);
  }
}

/** Templates every string inside a JSON value (objects and arrays walked; keys untouched). */
export function renderDeep(value: unknown, context: Readonly<Record<string, unknown>>): unknown {
  if (typeof value === 'string') return renderTemplate(value, context);
  if (Array.isArray(value)) return value.map((v) => renderDeep(v, context));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderDeep(v, context)]));
  }
  return value;
}

/**
 * The reference's "flexible parse" (§5.4, §5.5): valid JSON → that value; `"x"` or `'x'` → x;
 * otherwise the literal string.
 */
export function flexibleParse(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed === '') return text;
  try {
    return JSON.parse(trimmed);
  } catch {
    if (
      trimmed.length >= 2 &&
      ((trimmed.startsWith("'") && trimmed.endsWith("'")) || (trimmed.startsWith('"') && trimmed.endsWith('"')))
    ) {
      return trimmed.slice(1, -1);
    }
    return text;
  }
}
