import { exceedsJsonDepth, MAX_JSON_DEPTH } from './json-depth';

const nested = (levels: number, open: (inner: unknown) => unknown): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < levels; i += 1) value = open(value);
  return value;
};

describe('exceedsJsonDepth', () => {
  it('accepts 127 levels of objects or arrays and refuses the 128th, like serde_json', () => {
    expect(MAX_JSON_DEPTH).toBe(128);
    for (const open of [(v: unknown) => ({ a: v }), (v: unknown) => [v]]) {
      expect(exceedsJsonDepth(nested(127, open))).toBe(false);
      expect(exceedsJsonDepth(nested(128, open))).toBe(true);
    }
  });

  it('counts the deepest branch, and checks a million levels without recursion', () => {
    expect(exceedsJsonDepth({ shallow: 1, deep: nested(200, (v) => ({ x: v })) })).toBe(true);
    expect(exceedsJsonDepth([1, 'x', null, { a: [] }])).toBe(false);
    expect(exceedsJsonDepth(nested(1_000_000, (v) => [v]))).toBe(true);
    expect(exceedsJsonDepth('text')).toBe(false);
  });
});
