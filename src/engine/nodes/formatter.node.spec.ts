import type { OutboundHttp } from '../../egress/outbound-http';
import { NodeError, type GraphNode, type NodeContext } from '../node-types';
import { FormatterNode, normaliseJsonPath, tokeniseDateFormat } from './formatter.node';

const CONTEXT = {
  Hook: { name: '  Ada Lovelace  ', amount: 10, tags: 'a, b ,c', when: '2025-01-02T15:00:00Z', zone: 'Asia/Tokyo' },
  secrets: { token: 'sk_live_supersecret' },
};

function nodeContext(): NodeContext {
  return {
    context: CONTEXT,
    run: { runId: 'run-1', workflowId: 'wf-1', ownerId: 'user-1', workspaceId: null },
    signal: new AbortController().signal,
    http: {} as unknown as OutboundHttp,
    now: () => new Date('2030-01-01T00:00:00Z'),
  };
}

function formatterNode(config: unknown): GraphNode {
  return { id: 'fmt-1', type: 'formatter', data: { config } };
}

async function format(operation: string, input: string, fields: Record<string, unknown> = {}): Promise<unknown> {
  const result = await new FormatterNode().execute(
    formatterNode({ operation, input, fields, output_key: 'out' }),
    nodeContext(),
  );
  return (result.outputs as { out: unknown }).out;
}

async function failure(operation: string, input: string, fields: Record<string, unknown> = {}): Promise<string> {
  const error = await format(operation, input, fields).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(NodeError);
  return (error as NodeError).message;
}

describe('FormatterNode (docs/contract.md §5.9)', () => {
  describe('reference seeds', () => {
    it('trims and outputs under the key', async () => {
      const result = await new FormatterNode().execute(
        formatterNode({ operation: 'string.trim', input: '  hello  ', output_key: 'clean' }),
        nodeContext(),
      );
      expect(result).toEqual({ outputs: { clean: 'hello' } });
    });

    it('adds numbers and returns an integer 15', async () => {
      const sum = await format('number.add', '10', { value: 5 });
      expect(sum).toBe(15);
      expect(JSON.stringify({ sum })).toBe('{"sum":15}');
    });

    it('refuses to divide by zero', async () => {
      expect(await failure('number.divide', '12', { value: 0 })).toContain('divide by zero');
    });

    it('json.pick follows a path', async () => {
      expect(await format('json.pick', '{"items":[{"id":42,"name":"Widget"}]}', { json_path: 'items.0.id' })).toBe(42);
    });

    it('json.to_array splits and trims', async () => {
      expect(await format('json.to_array', 'a, b ,c', { delimiter: ',', trim_items: true })).toEqual(['a', 'b', 'c']);
    });

    it('date.format converts to the requested format', async () => {
      expect(await format('date.format', '2025-01-02T03:04:05Z', { output_format: 'date_only' })).toBe('2025-01-02');
    });

    it('date.extract respects the time zone (hour 10)', async () => {
      const fields = { component: 'hour', timezone: 'America/New_York' };
      expect(await format('date.extract', '2025-01-02T15:00:00Z', fields)).toBe(10);
    });

    it('bool.is_empty treats [] as empty', async () => {
      expect(await format('bool.is_empty', '[]')).toBe(true);
    });

    it('json.merge combines objects, right wins', async () => {
      expect(await format('json.merge', '{"a":1,"b":1}', { input_two: '{"b":2,"c":3}' })).toEqual({ a: 1, b: 2, c: 3 });
    });
  });

  describe('configuration', () => {
    const execute = (config: unknown) => new FormatterNode().execute(formatterNode(config), nodeContext());

    it.each([
      ['missing config', undefined, 'Invalid formatter configuration'],
      ['non-object config', 'string.trim', 'Invalid formatter configuration'],
      [
        'non-object fields',
        { operation: 'string.trim', output_key: 'x', fields: [] },
        'Invalid formatter configuration',
      ],
      ['missing operation', { input: 'x', output_key: 'x' }, 'Formatter operation is required.'],
      ['missing output key', { operation: 'string.trim', input: 'x' }, 'Output key is required.'],
      ['output key with a dash', { operation: 'string.trim', output_key: 'my-key' }, 'Output key must start'],
      ['output key with a digit first', { operation: 'string.trim', output_key: '1st' }, 'Output key must start'],
      [
        'unknown operation',
        { operation: 'string.reverse', output_key: 'x' },
        'Unsupported formatter operation `string.reverse`',
      ],
      ['inherited name', { operation: 'constructor', output_key: 'x' }, 'Unsupported formatter operation'],
    ])('%s', async (_name, config, message) => {
      await expect(execute(config)).rejects.toThrow(message);
    });

    it('templates the input and string fields, and trims the output key', async () => {
      const result = await execute({
        operation: 'string.replace',
        input: 'Hi {{Hook.name}}',
        fields: { search_for: '{{Hook.name}}', replace_with: '{{Hook.amount}}' },
        output_key: ' _greeting2 ',
      });
      expect(result).toEqual({ outputs: { _greeting2: 'Hi 10' } });
    });
  });

  describe('strings', () => {
    it.each([
      ['string.trim', '{{Hook.name}}', {}, 'Ada Lovelace'],
      ['string.lowercase', 'ÀBC Déf', {}, 'àbc déf'],
      ['string.uppercase', 'straße', {}, 'STRASSE'],
      ['string.replace', 'a-b-c', { search_for: '-', replace_with: '+' }, 'a+b+c'],
      ['string.replace', 'a-b-c', { search_for: '-' }, 'abc'],
      ['string.replace', 'a b', { search_for: ' ', replace_with: '_' }, 'a_b'],
      ['string.split', 'a,b,c', { delimiter: ',', index: 1 }, 'b'],
      ['string.split', 'a b c', { delimiter: ' ', index: '2' }, 'c'],
      ['string.split', 'a,b,c', { delimiter: ',', index: 1.7 }, 'b'],
      ['string.substring', 'héllo wörld', { start: 1, length: 4 }, 'éllo'],
      ['string.substring', 'hello', { start: 2 }, 'llo'],
      ['string.substring', 'hello', { start: 9, length: 2 }, ''],
      ['string.substring', '😀abc', { start: 0, length: 2 }, '😀a'],
    ])('%s %p %p → %p', async (op, input, fields, expected) => {
      expect(await format(op, input, fields)).toBe(expected);
    });

    it.each([
      ['string.replace', 'abc', {}, 'Field "search_for" is required for string.replace.'],
      ['string.split', 'a,b', { index: 0 }, 'Field "delimiter" is required for string.split.'],
      ['string.split', 'a,b', { delimiter: ',' }, 'Field "index" is required for string.split.'],
      ['string.split', 'a,b', { delimiter: ',', index: -1 }, 'Field "index" must be zero or greater.'],
      ['string.split', 'a,b', { delimiter: ',', index: 'two' }, 'Field "index" must be a valid number.'],
      ['string.split', 'a,b', { delimiter: ',', index: 5 }, 'Index 5 is out of range for split result of length 2.'],
      ['string.substring', 'abc', { length: 1 }, 'Field "start" is required for string.substring.'],
      ['string.substring', 'abc', { start: 0, length: -1 }, 'Field "length" must be zero or greater.'],
    ])('%s %p %p fails', async (op, input, fields, message) => {
      expect(await failure(op, input, fields)).toBe(message);
    });
  });

  describe('numbers', () => {
    it.each([
      ['number.add', '{{Hook.amount}}', { value: '{{Hook.amount}}' }, 20],
      ['number.add', '0.1', { value: 0.2 }, 0.30000000000000004],
      ['number.subtract', '10', { value: 2.5 }, 7.5],
      ['number.multiply', ' 4 ', { value: '2.5' }, 10],
      ['number.divide', '7', { value: 2 }, 3.5],
      ['number.divide', '-6', { value: 3 }, -2],
      ['number.round', '3.14159', { decimal_places: 2 }, 3.14],
      ['number.round', '2.5', { decimal_places: 0 }, 3],
      ['number.round', '-2.5', { decimal_places: 0 }, -3],
      ['number.round', '1234.5678', { decimal_places: '1' }, 1234.6],
      ['type.to_number', ' 42 ', {}, 42],
      ['type.to_number', '1e3', {}, 1000],
      ['type.to_number', '-.5', {}, -0.5],
    ])('%s %p %p → %p', async (op, input, fields, expected) => {
      expect(await format(op, input, fields)).toBe(expected);
    });

    it('emits integral results as JSON integers', async () => {
      const value = await format('number.multiply', '2.5', { value: 4 });
      expect(JSON.stringify(value)).toBe('10');
      expect(Number.isInteger(value)).toBe(true);
    });

    it.each([
      ['number.add', '10', {}, 'Field "value" is required for number.add.'],
      ['number.add', '10', { value: '' }, 'Field "value" is required for number.add.'],
      ['number.add', '10', { value: 'five' }, 'Field "value" must be a valid number.'],
      ['number.add', 'ten', { value: 1 }, 'Input must be a valid number for number.add.'],
      ['number.add', '0x10', { value: 1 }, 'Input must be a valid number for number.add.'],
      ['number.add', '', { value: 1 }, 'Input must be a valid number for number.add.'],
      ['number.divide', '1', { value: '0' }, 'Cannot divide by zero.'],
      ['number.multiply', '1e308', { value: 10 }, 'Numeric result is not finite.'],
      ['number.round', '1.5', {}, 'Field "decimal_places" is required for number.round.'],
      ['number.round', '1.5', { decimal_places: -1 }, 'Field "decimal_places" must be zero or greater.'],
      ['number.round', '1.5', { decimal_places: 16 }, 'Field "decimal_places" must be 15 or less.'],
      ['type.to_number', 'Infinity', {}, 'Input must be a valid number for type.to_number.'],
      ['type.to_number', '12abc', {}, 'Input must be a valid number for type.to_number.'],
    ])('%s %p %p fails', async (op, input, fields, message) => {
      expect(await failure(op, input, fields)).toBe(message);
    });
  });

  describe('json', () => {
    const doc = '{"data":{"items":[{"id":1,"tags":["x","y"]},{"id":2}],"meta":null},"n":3}';

    it.each([
      ['$.data.items[1].id', 2],
      ['data.items[0].tags[1]', 'y'],
      ["data['items'][0]['id']", 1],
      ['data.meta', null],
      ['n.deeper', 3],
      ['$', JSON.parse(doc)],
    ])('json.pick %s', async (path, expected) => {
      expect(await format('json.pick', doc, { json_path: path })).toEqual(expected);
    });

    it('json.pick reports a missing path without echoing the input', async () => {
      const message = await failure('json.pick', doc, { json_path: 'data.items.7' });
      expect(message).toBe('Field "json_path" was not found in the JSON input.');
      expect(await failure('json.pick', doc, {})).toBe('Field "json_path" is required for json.pick.');
    });

    it('never echoes invalid JSON input (it may be a secret)', async () => {
      const message = await failure('json.pick', '{{secrets.token}}', { json_path: 'a' });
      expect(message).toBe('Input is not valid JSON for json.pick.');
      expect(message).not.toContain('sk_live');
    });

    it('json.flatten uses dotted keys', async () => {
      expect(await format('json.flatten', '{"a":{"b":1,"c":[true,{"d":null}]},"e":"x"}')).toEqual({
        'a.b': 1,
        'a.c.0': true,
        'a.c.1.d': null,
        e: 'x',
      });
      expect(await format('json.flatten', '[{"a":1},2]')).toEqual({ '0.a': 1, '1': 2 });
      expect(await format('json.flatten', '"scalar"')).toBe('scalar');
    });

    it('json.flatten keeps a "__proto__" key as data', async () => {
      const out = (await format('json.flatten', '{"__proto__":{"polluted":1}}')) as Record<string, unknown>;
      expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
      expect(Object.keys(out)).toEqual(['__proto__.polluted']);
    });

    it.each([
      ['[1]', { input_two: '{}' }, 'Primary input must be a JSON object to merge.'],
      ['{}', { input_two: '[1]' }, 'Field "input_two" must be a JSON object to merge.'],
      ['{}', { input_two: 'nope' }, 'Field "input_two" is not valid JSON.'],
      ['{}', {}, 'Field "input_two" is required for json.merge.'],
      ['nope', { input_two: '{}' }, 'Input is not valid JSON for json.merge.'],
    ])('json.merge %p %p fails', async (input, fields, message) => {
      expect(await failure('json.merge', input, fields)).toBe(message);
    });

    it.each([
      ['{{Hook.tags}}', { delimiter: ',' }, ['a', ' b ', 'c']],
      ['["  x ", 2]', { delimiter: ',', trim_items: true }, ['x', 2]],
      ['["  x "]', { delimiter: ',' }, ['  x ']],
      ['"p|q"', { delimiter: '|' }, ['p', 'q']],
      ['a b', { delimiter: ' ', trim_items: 'true' }, ['a', 'b']],
      ['12', { delimiter: '2' }, ['1', '']],
    ])('json.to_array %p %p', async (input, fields, expected) => {
      expect(await format('json.to_array', input, fields)).toEqual(expected);
    });

    it('json.to_array requires a delimiter', async () => {
      expect(await failure('json.to_array', 'a,b', {})).toBe('Field "delimiter" is required for json.to_array.');
    });

    it.each([
      ['{"a":1}', { a: 1 }],
      ['42', 42],
      ["'quoted'", 'quoted'],
      ['  plain text ', 'plain text'],
      ['   ', null],
    ])('json.to_object %p', async (input, expected) => {
      expect(await format('json.to_object', input, { key_name: 'value' })).toEqual({ value: expected });
    });

    it('json.to_object requires key_name', async () => {
      expect(await failure('json.to_object', 'x', { key_name: '  ' })).toBe(
        'Field "key_name" is required for json.to_object.',
      );
    });
  });

  describe('date.parse', () => {
    it.each([
      ['rfc3339', '2025-01-02T03:04:05Z', '2025-01-02T03:04:05+00:00'],
      ['rfc3339', '2025-01-02t05:04:05.120+02:00', '2025-01-02T03:04:05.120+00:00'],
      ['rfc3339', '2025-01-02 03:04:05.123456z', '2025-01-02T03:04:05.123+00:00'],
      ['rfc2822', 'Thu, 02 Jan 2025 03:04:05 GMT', '2025-01-02T03:04:05+00:00'],
      ['rfc2822', '02 Jan 2025 03:04:05 -0500', '2025-01-02T08:04:05+00:00'],
      ['date_only', '2025-01-02', '2025-01-02T00:00:00+00:00'],
      ['datetime', '2025-01-02 03:04:05', '2025-01-02T03:04:05+00:00'],
      ['us_short', '01/02/2025', '2025-01-02T00:00:00+00:00'],
      ['us_short', '1/2/2025', '2025-01-02T00:00:00+00:00'],
      ['unix_seconds', '1735787045', '2025-01-02T03:04:05+00:00'],
      ['unix_seconds', '-1', '1969-12-31T23:59:59+00:00'],
      ['unix_milliseconds', '1735787045120', '2025-01-02T03:04:05.120+00:00'],
      ['UNIX_SECONDS', ' 0 ', '1970-01-01T00:00:00+00:00'],
    ])('%s %p', async (fmt, input, expected) => {
      expect(await format('date.parse', input, { format: fmt })).toBe(expected);
    });

    it.each([
      ['rfc3339', '2025-01-02T03:04:05', 'Date must be RFC 3339'],
      ['rfc3339', '2025-13-02T03:04:05Z', 'Date must be RFC 3339'],
      ['rfc2822', '2025-01-02', 'Date must be RFC 2822'],
      ['date_only', '2025-02-30', 'Date must match YYYY-MM-DD.'],
      ['datetime', '2025-01-02', 'Datetime must match YYYY-MM-DD HH:mm:ss (UTC).'],
      ['us_short', '2025-01-02', 'Date must match MM/DD/YYYY.'],
      ['unix_seconds', '1.5', 'Unix seconds must be a whole number'],
      ['unix_milliseconds', '99999999999999999999', 'Unix milliseconds must be a whole number'],
      ['iso_week', '2025-01-02', 'Field "format" must be one of rfc3339, rfc2822, date_only, datetime'],
    ])('%s %p fails', async (fmt, input, message) => {
      expect(await failure('date.parse', input, { format: fmt })).toContain(message);
    });

    it('requires a format', async () => {
      expect(await failure('date.parse', '2025-01-02', {})).toBe('Field "format" is required for date.parse.');
    });
  });

  describe('date.format', () => {
    const at = '2025-01-02T15:04:05.007Z';

    it.each([
      ['rfc3339', '2025-01-02T15:04:05.007+00:00'],
      ['rfc2822', 'Thu, 02 Jan 2025 15:04:05 +0000'],
      ['date_only', '2025-01-02'],
      ['datetime', '2025-01-02 15:04:05'],
      ['us_short', '01/02/2025'],
      ['unix_seconds', 1735830245],
      ['unix_milliseconds', 1735830245007],
      ['YYYY-MM-DD HH:mm:ss.SSS Z', '2025-01-02 15:04:05.007 +00:00'],
      ['dddd, MMMM D, YYYY h:mm A', 'Thursday, January 2, 2025 3:04 PM'],
      ['ddd DD MMM YY hh:m:s a ZZ', 'Thu 02 Jan 25 03:4:5 pm +0000'],
      ['[Day] D [of] MMMM', 'Day 2 of January'],
      ['X|x|H|M', '1735830245|1735830245007|15|1'],
    ])('%p', async (outputFormat, expected) => {
      expect(await format('date.format', at, { output_format: outputFormat })).toBe(expected);
    });

    it('renders in the requested time zone', async () => {
      const fields = (output_format: string) => ({ output_format, timezone: '{{Hook.zone}}' });
      expect(await format('date.format', at, fields('rfc3339'))).toBe('2025-01-03T00:04:05.007+09:00');
      expect(await format('date.format', at, fields('YYYY-MM-DD HH:mm Z'))).toBe('2025-01-03 00:04 +09:00');
      expect(await format('date.format', at, fields('unix_seconds'))).toBe(1735830245);
    });

    it.each([
      ['2025-01-02 15:04:05', '2025-01-02T15:04:05+00:00'],
      ['Thu, 02 Jan 2025 15:04:05 +0000', '2025-01-02T15:04:05+00:00'],
      ['01/02/2025', '2025-01-02T00:00:00+00:00'],
      ['1735830245', '2025-01-02T15:04:05+00:00'],
      ['1735830245007', '2025-01-02T15:04:05.007+00:00'],
    ])('auto-detects %p', async (input, expected) => {
      expect(await format('date.format', input, { output_format: 'rfc3339' })).toBe(expected);
    });

    it.each([
      [at, {}, 'Field "output_format" is required for date.format.'],
      [at, { output_format: 'rfc3339x' }, 'Field "output_format" must be one of'],
      [at, { output_format: '%Y-%m-%d' }, 'Field "output_format" must be one of'],
      [at, { output_format: '--/--' }, 'Field "output_format" contains no date tokens.'],
      ['not a date', { output_format: 'date_only' }, 'Unable to parse date.'],
      [at, { output_format: 'date_only', timezone: 'Mars/Olympus' }, 'Field "timezone" must be an IANA time zone'],
    ])('%p %p fails', async (input, fields, message) => {
      expect(await failure('date.format', input, fields)).toContain(message);
    });
  });

  describe('date.adjust', () => {
    it.each([
      [{ days: 1 }, '2025-01-03T15:00:00+00:00'],
      [{ days: -2, hours: '3', minutes: 30 }, '2024-12-31T18:30:00+00:00'],
      [{ hours: 1.5 }, '2025-01-02T16:30:00+00:00'],
      [{ minutes: '{{Hook.amount}}' }, '2025-01-02T15:10:00+00:00'],
    ])('%p', async (fields, expected) => {
      expect(await format('date.adjust', '{{Hook.when}}', fields)).toBe(expected);
    });

    it.each([
      [{}, 'Add at least one offset (days, hours, or minutes).'],
      [{ days: 0, hours: '', minutes: '0' }, 'Add at least one offset (days, hours, or minutes).'],
      [{ days: 'soon' }, 'Field "days" must be a valid number.'],
      [{ days: 1e9 }, 'Adjusted date is out of range.'],
    ])('%p fails', async (fields, message) => {
      expect(await failure('date.adjust', '2025-01-02T15:00:00Z', fields)).toBe(message);
    });
  });

  describe('date.extract', () => {
    // 2025-01-05 is a Sunday in UTC; in Tokyo it is already Monday.
    it.each([
      ['year', 'UTC', 2025],
      ['month', 'UTC', 1],
      ['day', 'Asia/Tokyo', 6],
      ['hour', 'Asia/Kolkata', 4],
      ['minute', 'Asia/Kolkata', 34],
      ['second', '', 56],
      ['weekday', 'UTC', 7],
      ['weekday', 'Asia/Tokyo', 1],
      [' Hour ', undefined, 23],
    ])('%p in %p', async (component, timezone, expected) => {
      const input = '2025-01-05T23:04:56Z';
      expect(await format('date.extract', input, { component, timezone })).toBe(expected);
    });

    it.each([
      [{ timezone: 'UTC' }, 'Field "component" is required for date.extract.'],
      [{ component: 'quarter' }, 'Field "component" must be one of year, month, day, hour, minute, second, weekday.'],
      [{ component: 'hour', timezone: 'Nowhere/Special' }, 'Field "timezone" must be an IANA time zone name'],
      [{ component: 'hour', timezone: 'local' }, 'Field "timezone" must be an IANA time zone name'],
    ])('%p fails', async (fields, message) => {
      expect(await failure('date.extract', '2025-01-05T23:04:56Z', fields)).toContain(message);
    });
  });

  describe('booleans and types', () => {
    it.each([
      ['true', true],
      [' Yes ', true],
      ['y', true],
      ['ON', true],
      ['1', true],
      ['2', true],
      ['false', false],
      ['no', false],
      ['N', false],
      ['off', false],
      ['0', false],
      ['', false],
      ['null', false],
      ['[]', false],
      ['{"a":1}', true],
    ])('bool.to_boolean %p → %p', async (input, expected) => {
      expect(await format('bool.to_boolean', input)).toBe(expected);
    });

    it('bool.to_boolean rejects other words without echoing them', async () => {
      const message = await failure('bool.to_boolean', '{{secrets.token}}');
      expect(message).toBe('Cannot convert input to boolean. Use true/false, yes/no, or 1/0.');
    });

    it.each([
      ['', true],
      ['   ', true],
      ['null', true],
      ['false', true],
      ['{}', true],
      ['""', true],
      ['0', false],
      ['[0]', false],
      ['x', false],
      ['{"a":null}', false],
    ])('bool.is_empty %p → %p', async (input, expected) => {
      expect(await format('bool.is_empty', input)).toBe(expected);
    });

    it.each([
      ['hello', 'hello'],
      ['42', '42'],
      ['true', 'true'],
      ['null', ''],
      ['', ''],
      ['{"b":1,"a":[2]}', '{"b":1,"a":[2]}'],
      ['"quoted"', 'quoted'],
    ])('type.to_string %p → %p', async (input, expected) => {
      expect(await format('type.to_string', input)).toBe(expected);
    });
  });

  describe('path and token scanners keep the results of the regexes they replaced', () => {
    // Those regexes rescanned to the end from every unclosed `['` or `[`: quadratic in the field.
    const oldNormalisePath = (path: string) =>
      path
        .replace(/\[\s*(['"])(.*?)\1\s*\]/g, '.$2')
        .replace(/[[\]]/g, '.')
        .replace(/\.{2,}/g, '.')
        .replace(/^\.+|\.+$/g, '')
        .replace(/^\$+/, '')
        .replace(/^\.+/, '');
    const OLD_TOKENS = /\[([^\]]*)\]|YYYY|YY|MMMM|MMM|MM|M|DD|D|dddd|ddd|HH|H|hh|h|mm|m|ss|s|SSS|A|a|ZZ|Z|X|x/g;
    const oldTokenise = (format: string) => ({
      text: format.replace(OLD_TOKENS, (token: string, literal: string | undefined) => literal ?? `<${token}>`),
      tokens: [...format.matchAll(OLD_TOKENS)].filter((m) => m[1] === undefined).length,
    });
    const newTokenise = (format: string) => {
      const pieces = tokeniseDateFormat(format);
      return {
        text: pieces.map((piece) => (typeof piece === 'string' ? piece : `<${piece.token}>`)).join(''),
        tokens: pieces.filter((piece) => typeof piece !== 'string').length,
      };
    };

    /** Every string over `alphabet` up to `maxLength`, then `samples` seeded random longer ones. */
    function* corpus(alphabet: string[], maxLength: number, samples: number): Generator<string> {
      let level = [''];
      yield '';
      for (let length = 1; length <= maxLength; length++) {
        level = level.flatMap((prefix) => alphabet.map((c) => prefix + c));
        yield* level;
      }
      let seed = 7;
      const next = () => {
        seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
        return seed / 0x80000000;
      };
      for (let i = 0; i < samples; i++) {
        const length = maxLength + 1 + Math.floor(next() * 30);
        yield Array.from({ length }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
      }
    }

    it('json paths: every short path over brackets, quotes, dots, dollars, spaces and newlines', () => {
      const mismatches: string[] = [];
      for (const path of corpus(['[', ']', "'", '"', '.', '$', 'a', ' ', '\n'], 5, 30_000)) {
        if (normaliseJsonPath(path) !== oldNormalisePath(path)) mismatches.push(path);
      }
      expect(mismatches).toEqual([]);
    });

    it('json paths: every UTF-16 code unit as space, key character and line break', () => {
      const mismatches: number[] = [];
      for (let code = 0; code <= 0xffff; code++) {
        const c = String.fromCharCode(code);
        for (const path of [`a[${c}'b']`, `a['b'${c}]`, `a['b${c}c']`, `a[${c}"b"${c}]`]) {
          if (normaliseJsonPath(path) !== oldNormalisePath(path)) mismatches.push(code);
        }
      }
      expect(mismatches).toEqual([]);
    });

    it('date tokens: every short pattern over brackets and token letters', () => {
      const mismatches: string[] = [];
      for (const format of corpus(['[', ']', 'Y', 'M', 'D', 'd', 'S', 's', 'Z', 'x', ' '], 4, 30_000)) {
        const [got, want] = [newTokenise(format), oldTokenise(format)];
        if (got.text !== want.text || got.tokens !== want.tokens) mismatches.push(format);
      }
      expect(mismatches).toEqual([]);
    });
  });
});
