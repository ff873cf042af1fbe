/**
 * The deepest JSON nesting any request body may have: serde_json's recursion limit, which the
 * reference enforced on every body (127 nested arrays/objects parse, the 128th fails). Deeper
 * input overflowed the stack of the recursive validators (class-transformer) with a 500.
 */
export const MAX_JSON_DEPTH = 128;

/** Whether `value` nests arrays/objects `MAX_JSON_DEPTH` levels or more; iterative, so any depth is safe to check. */
export function exceedsJsonDepth(value: unknown, max = MAX_JSON_DEPTH): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth >= max) return true;
    const children = Array.isArray(current) ? current : Object.values(current as Record<string, unknown>);
    for (const child of children) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * Whether any string or key in `value` holds a lone surrogate (`"\ud800"` is valid JSON, but not
 * text): PostgreSQL refuses such text, SQLite would store it, and no client could show it.
 * Iterative, like `exceedsJsonDepth`.
 */
export function hasLoneSurrogate(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length) {
    const current = stack.pop();
    if (typeof current === 'string') {
      if (!current.isWellFormed()) return true;
    } else if (current !== null && typeof current === 'object') {
      if (Array.isArray(current)) stack.push(...current);
      else
        for (const [key, child] of Object.entries(current as Record<string, unknown>)) {
          if (!key.isWellFormed()) return true;
          stack.push(child);
        }
    }
  }
  return false;
}
