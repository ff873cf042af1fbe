import { CanonicalJsonError, canonicalJson, formatF64, parseBody, splitLegacySignature } from './canonical-json';
import { signWebhook } from './webhook-crypto';

/** Copy of shared/reference/webhook-signing-vectors.json: [raw body, canonical, signature]. */
const SIGNING_KEY = 'cnVubG9vbS10ZXN0LXNpZ25pbmcta2V5LTMyLWJ5dGU';
const TS = '1764000000';
const VECTORS: [string, string, string][] = [
  ['', '', 'ce04178b2dc8870c8f7861b9beb431dd527f69d43bca24b9a3d9147b98790b58'],
  ['{}', '{}', 'd38f13510427cad3b446828d719e3e8eafc4344998d6ae4f1ba4774bc5349dc3'],
  ['{"b":2,"a":1}', '{"a":1,"b":2}', 'b8647ddd01ab1d6614c924344836bf2f0f50c66e2f1f0ef1ea17da876b389c21'],
  [
    '{"order":{"items":[{"sku":"A","qty":2},{"qty":1,"sku":"B"}],"id":"o-1"},"event":"created"}',
    '{"event":"created","order":{"id":"o-1","items":[{"qty":2,"sku":"A"},{"qty":1,"sku":"B"}]}}',
    'e94d22d235633b2e44c7b9d8e31c2e29bd93660ed01c3b3e47a65e447623d119',
  ],
  [
    '{"text":"line\\nbreak \\"q\\" tab\\t slash/ back\\\\slash"}',
    '{"text":"line\\nbreak \\"q\\" tab\\t slash/ back\\\\slash"}',
    'dc94e17fa7185a86f7adfd9d9e483228eb768791507e083440bcaf8f2a3f78bc',
  ],
  [
    '{"name":"Zoë","city":"Åre","emoji":"\\ud83d\\ude00","escaped":"\\u00e9"}',
    '{"city":"Åre","emoji":"😀","escaped":"é","name":"Zoë"}',
    'bdc1f93d387337a3ff8e2034257cdfec7fa9d466b7e3b04f41ea38643fca1892',
  ],
  [
    '{"ctrl":"\\u0001\\u001f","del":"\\u007f"}',
    '{"ctrl":"\\u0001\\u001f","del":"\u007f"}',
    '260a01705dd15fca10a004108fb224978ac44f08855d51d8d61890674f8b41e1',
  ],
  [
    '{"int":42,"neg":-7,"big":9007199254740993,"u64":18446744073709551615}',
    '{"big":9007199254740993,"int":42,"neg":-7,"u64":18446744073709551615}',
    '25e088af6545bf139b6f99df2e35ed55225606ae41cf4cf8518b5e3be677177d',
  ],
  [
    '{"f1":1.0,"f2":2.50,"f3":1e21,"f4":-0.0,"f5":0.1,"f6":1E-7,"f7":123456789.123456789}',
    '{"f1":1.0,"f2":2.5,"f3":1e21,"f4":-0.0,"f5":0.1,"f6":1e-7,"f7":123456789.12345679}',
    '5b2a6d4345923872cd944edb4b32858741e8828df1dcacb0da3aaa7dd57215a9',
  ],
  ['{"dup":1,"dup":2}', '{"dup":2}', '92e03b0b68b401a2d4cb8963f81b3adc1c4f91c53e5eef8e1f89e459d6e607da'],
  [
    '[3,{"z":[],"a":{}},null,true,"s"]',
    '[3,{"a":{},"z":[]},null,true,"s"]',
    'fc163cd4e34982586bc56bf9ed7c858872836aeac618d3ecb03b0768b26d3956',
  ],
  [
    '{"B":1,"a":2,"_":3,"Z":4,"é":5,"e":6}',
    '{"B":1,"Z":4,"_":3,"a":2,"e":6,"é":5}',
    '920f7472f17931bc04226ece708e28752a1a2abe52e382c708e038971116a807',
  ],
];

function nested(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

function parseError(raw: string): unknown {
  try {
    canonicalJson(raw);
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('canonicalJson', () => {
  it.each(VECTORS)('matches the reference vector %j (canonical and signature)', (raw, canonical, signature) => {
    const sut = canonicalJson(raw);
    expect(sut).toBe(canonical);
    expect(signWebhook(SIGNING_KEY, TS, sut)).toBe(signature);
  });

  it.each(['', ' ', '\n\t\r  '])('returns "" for an empty body %j', (raw) => {
    expect(canonicalJson(raw)).toBe('');
  });

  it('drops insignificant whitespace', () => {
    expect(canonicalJson(' \n{ "b" : [ 1 , 2 ] ,\t"a" : { } }\r\n')).toBe('{"a":{},"b":[1,2]}');
  });

  it('sorts keys recursively, inside arrays too, and keeps array order', () => {
    expect(canonicalJson('{"z":{"y":1,"x":[{"d":1,"c":2}]},"a":[3,1,2]}')).toBe(
      '{"a":[3,1,2],"z":{"x":[{"c":2,"d":1}],"y":1}}',
    );
  });

  it('sorts keys by UTF-8 bytes, not UTF-16 code units', () => {
    // U+FF21 is EF BC A1 in UTF-8 and sorts before U+1F600 (F0 ...), the reverse of their UTF-16 order.
    expect(canonicalJson('{"😀":2,"Ａ":1,"z":0,"":3}')).toBe('{"":3,"z":0,"Ａ":1,"😀":2}');
  });

  it('keeps the last value of a duplicate key, at any depth', () => {
    expect(canonicalJson('{"a":{"k":1,"k":{"x":1}},"a":{"k":2,"k":3}}')).toBe('{"a":{"k":3}}');
  });

  it.each([
    ['null', 'null'],
    ['true', 'true'],
    ['false', 'false'],
    ['"x"', '"x"'],
    ['[]', '[]'],
    [' 42 ', '42'],
  ])('accepts the scalar or empty top level %j', (raw, expected) => {
    expect(canonicalJson(raw)).toBe(expected);
  });

  describe('strings', () => {
    it.each([
      ['"\\/"', '"/"'],
      ['"\\b\\f\\n\\r\\t"', '"\\b\\f\\n\\r\\t"'],
      ['"\\u0008\\u000C\\u000a"', '"\\b\\f\\n"'],
      ['"\\u0000\\u001F\\u000B"', '"\\u0000\\u001f\\u000b"'],
      ['"\\u0020\\u007F\\u0080"', '" \u007f\u0080"'],
      ['"\\u00E9\\u00e9"', '"éé"'],
      ['"\\u2028\\u2029"', '"\u2028\u2029"'],
      ['"\\uD83D\\uDE00"', '"😀"'],
      ['"\\"\\\\"', '"\\"\\\\"'],
      ['"raw é 😀 </script>"', '"raw é 😀 </script>"'],
    ])('%j → %j', (raw, expected) => {
      expect(canonicalJson(raw)).toBe(expected);
    });
  });

  describe('numbers', () => {
    it.each([
      // Integers that fit u64 (or i64 when negative) are written as given.
      ['0', '0'],
      ['-7', '-7'],
      ['9007199254740993', '9007199254740993'],
      ['18446744073709551615', '18446744073709551615'],
      ['-9223372036854775808', '-9223372036854775808'],
      // Everything else is an f64 printed like ryu.
      ['-0', '-0.0'],
      ['18446744073709551616', '1.8446744073709552e19'],
      ['-9223372036854775809', '-9.223372036854776e18'],
      ['99999999999999999999999999999', '1e29'],
      ['0.0', '0.0'],
      ['-0.0', '-0.0'],
      ['1.0', '1.0'],
      ['2.50', '2.5'],
      ['1E+2', '100.0'],
      ['0.1e1', '1.0'],
      ['12.5e1', '125.0'],
      ['1e15', '1000000000000000.0'],
      ['1e16', '1e16'],
      ['123e14', '1.23e16'],
      ['1234567890123456.7', '1234567890123456.8'],
      ['1e21', '1e21'],
      ['0.0001', '0.0001'],
      ['0.00001', '0.00001'],
      ['0.000001', '1e-6'],
      ['1.5e-7', '1.5e-7'],
      ['-2.5e-10', '-2.5e-10'],
      ['123456789.123456789', '123456789.12345679'],
      ['1e308', '1e308'],
      ['1.7976931348623157e308', '1.7976931348623157e308'],
      ['2.2250738585072014e-308', '2.2250738585072014e-308'],
      ['5e-324', '5e-324'],
      ['2e-324', '0.0'],
      ['1e-400', '0.0'],
      ['-1e-400', '-0.0'],
      ['0e999999999999', '0.0'],
      ['1e-99999999999', '0.0'],
    ])('%s → %s', (raw, expected) => {
      expect(canonicalJson(raw)).toBe(expected);
      expect(canonicalJson(`{"n":[${raw}]}`)).toBe(`{"n":[${expected}]}`);
    });

    it.each([
      // serde_json without `float_roundtrip` multiplies/divides the u64 significand by one power of ten, which can
      // land one ulp away from the correctly rounded value; the reference signs that result, so we do too.
      ['9007199254740993.0', '9007199254740994.0'],
      ['12345678901234567.0', '1.2345678901234566e16'],
      // Digits past u64 in the integer part only scale the exponent.
      ['184467440737095516160.5', '1.844674407370955e20'],
    ])('reproduces serde_json default float parsing: %s → %s', (raw, expected) => {
      expect(canonicalJson(raw)).toBe(expected);
    });

    it.each(['1e309', '-1e309', '1.7976931348623159e308', '1e99999999999', '18446744073709551616.0'])(
      'rejects %s as serde_json does',
      (raw) => {
        expect(() => canonicalJson(raw)).toThrow(CanonicalJsonError);
      },
    );
  });

  describe('invalid input', () => {
    it.each([
      ['unclosed object', '{'],
      ['unclosed object after a member', '{"a":1'],
      ['trailing comma in object', '{"a":1,}'],
      ['trailing comma in array', '[1,]'],
      ['missing comma', '[1 2]'],
      ['missing colon', '{"a" 1}'],
      ['unquoted key', '{a:1}'],
      ['non-string key', '{1:1}'],
      ['single quotes', "'a'"],
      ['unterminated string', '"abc'],
      ['unterminated string in object', '{"a":"b}'],
      ['unknown escape', '"\\x"'],
      ['escaped single quote', '"\\\'"'],
      ['short unicode escape', '"\\u12"'],
      ['non-hex unicode escape', '"\\u12G4"'],
      ['lone high surrogate escape', '"\\ud800"'],
      ['high surrogate escape then text', '"\\ud800x"'],
      ['high surrogate escape then other escape', '"\\ud800\\n"'],
      ['high surrogate escape then non-surrogate', '"\\ud800\\u0041"'],
      ['two high surrogate escapes', '"\\ud800\\ud800"'],
      ['lone low surrogate escape', '"\\udc00"'],
      ['raw lone high surrogate', '"\ud800"'],
      ['raw lone low surrogate', '"\udc00x"'],
      ['raw control character', '"a\tb"'],
      ['raw newline in string', '"a\nb"'],
      ['truncated literal', 'nul'],
      ['capitalised literal', 'True'],
      ['NaN', 'NaN'],
      ['Infinity', 'Infinity'],
      ['negative Infinity', '-Infinity'],
      ['leading plus', '+1'],
      ['leading zero', '01'],
      ['negative leading zero', '-01'],
      ['bare minus', '-'],
      ['missing fraction digits', '1.'],
      ['missing fraction digits before exponent', '1.e5'],
      ['missing integer digits', '.5'],
      ['missing exponent digits', '1e'],
      ['missing exponent digits after sign', '1e+'],
      ['hex number', '0x10'],
      ['trailing garbage', '{} x'],
      ['two documents', '{}{}'],
      ['two numbers', '1 2'],
      ['byte order mark', '\ufeff{}'],
      ['non-JSON whitespace', '\u00a0{}'],
      ['comment', '{} // c'],
      ['lone closing bracket', ']'],
    ])('rejects %s', (_name, raw) => {
      expect(() => canonicalJson(raw)).toThrow(CanonicalJsonError);
    });

    it('never echoes the input in the error message', () => {
      const error = parseError('{"password":"hunter2-very-secret"');
      expect(error).toBeInstanceOf(CanonicalJsonError);
      expect((error as Error).message).not.toContain('hunter2');
      expect((error as Error).message).toMatch(/^Invalid JSON: /);
    });

    it('accepts 127 levels of nesting and rejects 128, like serde_json', () => {
      expect(canonicalJson(nested(127))).toBe(nested(127));
      expect(canonicalJson('{"a":'.repeat(127) + '1' + '}'.repeat(127))).toBe(
        '{"a":'.repeat(127) + '1' + '}'.repeat(127),
      );
      expect(() => canonicalJson(nested(128))).toThrow(CanonicalJsonError);
      expect(() => canonicalJson('{"a":'.repeat(64) + nested(64) + '}'.repeat(64))).toThrow(/recursion limit/);
    });

    it('fails fast on very deep input without overflowing the stack', () => {
      expect(() => canonicalJson('['.repeat(1_000_000))).toThrow(CanonicalJsonError);
    });
  });
});

describe('formatF64', () => {
  it.each([
    [0, '0.0'],
    [-0, '-0.0'],
    [1, '1.0'],
    [-1.5, '-1.5'],
    [100, '100.0'],
    [123456.789, '123456.789'],
    [9999999999999998, '9999999999999998.0'],
    [1e16, '1e16'],
    [1.5e300, '1.5e300'],
    [0.1 + 0.2, '0.30000000000000004'],
    [1e-5, '0.00001'],
    [1.25e-5, '0.0000125'],
    [9.9e-6, '9.9e-6'],
    [Number.MAX_VALUE, '1.7976931348623157e308'],
    [Number.MIN_VALUE, '5e-324'],
    [Number.MAX_SAFE_INTEGER, '9007199254740991.0'],
    // An exact tie between two shortest candidates: ryu (like JS) rounds to the even digit.
    [2038745268242472.25, '2038745268242472.2'],
  ])('%p → %s', (value, expected) => {
    expect(formatF64(value)).toBe(expected);
  });
});

describe('splitLegacySignature', () => {
  it('takes the legacy fields out of the body and signs the rest', () => {
    const raw = '{"_dsentr_ts":"1764000000","b":2.50,"_dsentr_sig":"abc","a":{"_dsentr_ts":"kept"}}';
    const sut = splitLegacySignature(raw);
    expect(sut).toEqual({
      ts: '1764000000',
      sig: 'abc',
      canonical: '{"a":{"_dsentr_ts":"kept"},"b":2.5}',
      payload: { b: 2.5, a: { _dsentr_ts: 'kept' } },
    });
    expect(sut.canonical).toBe(canonicalJson('{"b":2.50,"a":{"_dsentr_ts":"kept"}}'));
  });

  it('reads non-string legacy fields as "" and still removes them', () => {
    const sut = splitLegacySignature('{"_dsentr_ts":1764000000,"_dsentr_sig":null,"x":true}');
    expect(sut).toEqual({ ts: '', sig: '', canonical: '{"x":true}', payload: { x: true } });
  });

  it('uses the last value of a duplicated legacy field', () => {
    const sut = splitLegacySignature('{"_dsentr_sig":"old","_dsentr_sig":"new","_dsentr_ts":"1"}');
    expect(sut).toEqual({ ts: '1', sig: 'new', canonical: '{}', payload: {} });
  });

  it('signs the whole body when it is not an object', () => {
    expect(splitLegacySignature('[{"_dsentr_ts":"1"}]')).toEqual({
      ts: '',
      sig: '',
      canonical: '[{"_dsentr_ts":"1"}]',
      payload: [{ _dsentr_ts: '1' }],
    });
    expect(splitLegacySignature('"s"')).toEqual({ ts: '', sig: '', canonical: '"s"', payload: 's' });
  });

  it('returns empty values for an empty body', () => {
    expect(splitLegacySignature('  ')).toEqual({ ts: '', sig: '', canonical: '', payload: undefined });
  });

  it('keeps big integers exact in the canonical form and as JS numbers in the payload', () => {
    const sut = splitLegacySignature('{"n":18446744073709551615,"_dsentr_sig":"s"}');
    expect(sut.canonical).toBe('{"n":18446744073709551615}');
    expect(sut.payload).toEqual({ n: Number('18446744073709551615') });
  });

  it('rejects invalid JSON', () => {
    expect(() => splitLegacySignature('{"_dsentr_ts":"1",')).toThrow(CanonicalJsonError);
  });
});

describe('parseBody', () => {
  it.each([
    '{"b":[1,2.5,-0,1e21,null,true,false],"a":{"x":"y\\u00e9\\n"}}',
    '[{"dup":1,"k":0,"dup":2}]',
    '"text"',
    '12345678901234567890',
    '{"😀":1,"Ａ":2,"10":3,"2":4}',
  ])('matches JSON.parse for %s', (raw) => {
    expect(parseBody(raw)).toStrictEqual(JSON.parse(raw));
    expect(Object.keys(parseBody(raw) as object)).toEqual(Object.keys(JSON.parse(raw) as object));
  });

  it('keeps -0 as JSON.parse does', () => {
    expect(Object.is(parseBody('-0'), -0)).toBe(true);
  });

  it('stores "__proto__" as an own data property without touching the prototype', () => {
    const sut = parseBody('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(sut)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(sut, '__proto__')).toBe(true);
    expect((sut as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it('returns undefined for an empty body', () => {
    expect(parseBody('')).toBeUndefined();
    expect(parseBody(' \n')).toBeUndefined();
  });

  it.each(['{', '{"a":1}x', '"\\ud800"'])('throws CanonicalJsonError for %j', (raw) => {
    expect(() => parseBody(raw)).toThrow(CanonicalJsonError);
  });
});
