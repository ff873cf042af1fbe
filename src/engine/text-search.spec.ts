import { containsText, splitText } from './text-search';

/** Seeded, so a failure reproduces. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('linear substring search', () => {
  it('agrees with includes and split on long needles (periodic, overlapping, at the edges)', () => {
    const next = random(17);
    const pick = (alphabet: string, length: number) =>
      Array.from({ length }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
    const mismatches: [string, string][] = [];
    for (let round = 0; round < 3000; round++) {
      const unit = pick('ab', 1 + Math.floor(next() * 4));
      const needle = unit.repeat(Math.ceil(70 / unit.length)) + pick('ab', Math.floor(next() * 3));
      const pieces = Array.from({ length: Math.floor(next() * 6) }, () =>
        next() < 0.5 ? needle : pick('ab', Math.floor(next() * 90)),
      );
      const text = pieces.join(next() < 0.3 ? needle.slice(0, -1) : '');
      if (containsText(text, needle) !== text.includes(needle)) mismatches.push([text, needle]);
      if (JSON.stringify(splitText(text, needle)) !== JSON.stringify(text.split(needle))) {
        mismatches.push([text, needle]);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it.each([
    ['', 'x'],
    ['', 'a'.repeat(100)],
    ['a'.repeat(100), 'a'.repeat(100)],
    ['a'.repeat(250), 'a'.repeat(100)],
    ['a'.repeat(99), 'a'.repeat(100)],
    ['x' + 'ab'.repeat(60) + 'y', 'ab'.repeat(40)],
    ['😀'.repeat(80), '😀'.repeat(40)],
    ['😀'.repeat(80), '😀'.repeat(40).slice(1)],
    ['a,b,,c', ','],
    ['abc', ''],
  ])('%#: same result as the built-ins', (text, needle) => {
    expect(containsText(text, needle)).toBe(text.includes(needle));
    expect(splitText(text, needle)).toEqual(text.split(needle));
  });
});
