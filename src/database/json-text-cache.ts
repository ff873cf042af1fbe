/**
 * Parsed JSON documents by key, reused for as long as their stored text is the same: a hot read of
 * a large document (a webhook's workflow graph, a megabyte for thousands of nodes) costs a string
 * comparison instead of a parse on the main thread. Keyed by content, not by a timestamp, so a
 * write from any process is seen at once and nothing needs invalidating.
 *
 * What it returns is shared between callers and deeply frozen: treat it as read-only (copy what
 * you change). Bounded by the total length of the texts it keeps, least recently used out first.
 */
export class JsonTextCache {
  private readonly entries = new Map<string, { text: string; value: unknown }>();
  private length = 0;

  constructor(private readonly maxLength: number) {}

  parse(key: string, text: string): unknown {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      if (hit.text === text) {
        this.entries.set(key, hit); // most recently used
        return hit.value;
      }
      this.length -= hit.text.length;
    }
    const value = deepFreeze(JSON.parse(text) as unknown);
    // A document near the whole budget would evict everything else for one caller.
    if (text.length <= this.maxLength / 4) {
      this.entries.set(key, { text, value });
      this.length += text.length;
      for (const [oldest, entry] of this.entries) {
        if (this.length <= this.maxLength) break;
        this.entries.delete(oldest);
        this.length -= entry.text.length;
      }
    }
    return value;
  }

  get size(): number {
    return this.entries.size;
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const item of Object.values(value)) deepFreeze(item);
  return value;
}
