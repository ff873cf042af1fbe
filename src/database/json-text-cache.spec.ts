import { JsonTextCache } from './json-text-cache';

describe('JsonTextCache', () => {
  it('returns the same parsed value while the text is unchanged, a new one once it changes', () => {
    const cache = new JsonTextCache(1 << 20);
    const first = cache.parse('w1', '{"nodes":[{"id":"a"}]}');
    expect(cache.parse('w1', '{"nodes":[{"id":"a"}]}')).toBe(first);
    const changed = cache.parse('w1', '{"nodes":[{"id":"b"}]}');
    expect(changed).not.toBe(first);
    expect(changed).toEqual({ nodes: [{ id: 'b' }] });
    expect(cache.size).toBe(1);
  });

  it('hands out deeply frozen values: a caller that writes into a shared graph fails loudly', () => {
    const cache = new JsonTextCache(1 << 20);
    const graph = cache.parse('w1', '{"nodes":[{"id":"a","data":{"x":1}}]}') as { nodes: { data: { x: number } }[] };
    expect(() => {
      graph.nodes[0].data.x = 2;
    }).toThrow(TypeError);
    expect(() => graph.nodes.push({ data: { x: 3 } })).toThrow(TypeError);
  });

  it('keeps at most its budget of text, least recently used out first, and never one document over a quarter of it', () => {
    const cache = new JsonTextCache(100);
    const doc = (n: number) => JSON.stringify({ n, pad: 'x'.repeat(9) }); // 25 characters
    const a = cache.parse('a', doc(1));
    const b = cache.parse('b', doc(2));
    cache.parse('c', doc(3));
    cache.parse('d', doc(4)); // 100: full
    expect(cache.parse('a', doc(1))).toBe(a); // a is now the most recent
    cache.parse('e', doc(5)); // 125 > 100: b, the least recently used, goes
    expect(cache.size).toBe(4);
    expect(cache.parse('a', doc(1))).toBe(a);
    expect(cache.parse('b', doc(2))).not.toBe(b);
    const big = JSON.stringify({ pad: 'y'.repeat(30) });
    const once = cache.parse('big', big);
    expect(cache.parse('big', big)).not.toBe(once);
    expect(cache.size).toBe(4);
  });

  it('rejects invalid JSON as JSON.parse does and caches nothing for it', () => {
    const cache = new JsonTextCache(1 << 20);
    expect(() => cache.parse('w1', '{')).toThrow(SyntaxError);
    expect(cache.size).toBe(0);
  });
});
