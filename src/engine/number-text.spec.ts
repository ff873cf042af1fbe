import { isDecimalText, isIntegerText, parseFloatText } from './number-text';

// The patterns the scanners replaced (quadratic on long digit runs), kept as oracles on short text.
const OLD_DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const OLD_INTEGER = /^[+-]?\d+$/;
const OLD_FLOAT = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)$/i;

function oldParseFloat(s: string): number | undefined {
  if (!OLD_FLOAT.test(s)) return undefined;
  const lower = s.toLowerCase().replace(/^\+/, '');
  if (lower.endsWith('nan')) return NaN;
  if (lower.endsWith('inf') || lower.endsWith('infinity')) return lower.startsWith('-') ? -Infinity : Infinity;
  return Number(s);
}

/** Every string over `alphabet` up to `maxLength` characters. */
function* strings(alphabet: string[], maxLength: number): Generator<string> {
  let level = [''];
  yield '';
  for (let length = 1; length <= maxLength; length++) {
    level = level.flatMap((prefix) => alphabet.map((c) => prefix + c));
    yield* level;
  }
}

describe('number text scanners', () => {
  it('agree with the regexes they replaced on every short string', () => {
    const mismatches: string[] = [];
    let checked = 0;
    for (const s of strings(['1', '0', '.', 'e', 'E', '+', '-', 'x', ' ', '٣'], 5)) {
      if (
        isDecimalText(s) !== OLD_DECIMAL.test(s) ||
        isIntegerText(s) !== OLD_INTEGER.test(s) ||
        !Object.is(parseFloatText(s), oldParseFloat(s))
      ) {
        mismatches.push(s);
      }
      checked++;
    }
    expect(mismatches).toEqual([]);
    expect(checked).toBe(111_111);
  });

  it.each([
    'inf',
    'INF',
    '+inf',
    '-Inf',
    'infinity',
    '-INFINITY',
    '+Infinity',
    'nan',
    '-NaN',
    '+nAn',
    'infinit',
    'infinityy',
    'nana',
    '--inf',
    'in f',
    'İnf',
    'ınf',
    'ınfınıty',
    '1e5',
    '-.5E-3',
    '+1.',
    '1e',
    '1e+',
    '.e1',
    '',
    '+',
  ])('parseFloatText(%p) matches the old parser', (s) => {
    expect(parseFloatText(s)).toEqual(oldParseFloat(s));
  });

  it('reads numbers as Number does, including -0 and long digit runs', () => {
    expect(Object.is(parseFloatText('-0'), -0)).toBe(true);
    expect(parseFloatText('0'.repeat(1000) + '1.5')).toBe(1.5);
    expect(parseFloatText('1'.repeat(400))).toBe(Infinity);
    expect(parseFloatText('1'.repeat(400) + 'x')).toBeUndefined();
    expect(isDecimalText('1'.repeat(1 << 20) + 'x')).toBe(false);
    expect(isIntegerText('-' + '7'.repeat(1 << 20))).toBe(true);
  });
});
