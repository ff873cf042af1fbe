import type { OutboundHttp } from '../egress/outbound-http';
import { NodeError, type NodeContext } from './node-types';
import { ConditionNode } from './nodes/condition.node';
import { FormatterNode } from './nodes/formatter.node';
import { flexibleParse, renderDeep, renderTemplate, resolvePath } from './templating';

/**
 * Webhook payloads are attacker-controlled and may be megabytes long, so every operation the
 * condition node, the formatter node and templating apply to them must stay linear. Each case feeds
 * about 1 MB and has a jest timeout that a linear pass meets easily and a quadratic one never does
 * (about 10^12 steps on 1 MB): generous, so a machine busy with other suites does not matter.
 */
const MB = 1 << 20;
const TIMEOUT = 10_000;

const PAYLOADS: Record<string, string> = {
  digits: '1'.repeat(MB) + 'x',
  signedDigits: '-' + '1'.repeat(MB) + 'e',
  fraction: '1.' + '1'.repeat(MB) + 'x',
  leadingDot: '.' + '1'.repeat(MB) + '.',
  exponent: '1e' + '1'.repeat(MB) + 'x',
  brackets: '['.repeat(MB),
  quotedBrackets: "['".repeat(MB / 2),
  doubleQuotedBrackets: '["'.repeat(MB / 2),
  quotes: '"'.repeat(MB),
  spaces: ' '.repeat(MB) + 'x',
  whitespace: ' \t\n\r'.repeat(MB / 4) + 'x',
  dots: '.'.repeat(MB) + 'x',
  path: 'a.'.repeat(MB / 2) + 'b',
  dollars: '$'.repeat(MB) + '.',
  braces: '{{'.repeat(MB / 2),
  parens: '('.repeat(MB),
  dateLike: '2025-01-02T03:04:05.' + '1'.repeat(MB) + 'x',
  nested: '['.repeat(MB / 2) + ']'.repeat(MB / 2),
  text: 'a'.repeat(MB),
  // Against `text`, a needle whose mismatch sits far from its end defeats V8's own substring search.
  needle: 'a'.repeat(MB / 4) + 'b' + 'a'.repeat(MB / 4),
};
const NAMES = Object.keys(PAYLOADS);

const CONTEXT = {
  Hook: {
    ...PAYLOADS,
    // One long key over many leaves, and a deep chain with a leaf on every level: json.flatten bait.
    wideKeys: `{"${'k'.repeat(MB / 2)}":[${'1,'.repeat(MB / 4)}1]}`,
    deepLeaves: '[1,'.repeat(MB / 4) + '1' + ']'.repeat(MB / 4),
    zeros: '0'.repeat(MB) + '50',
  },
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

/**
 * Jest cannot interrupt synchronous work, and a test whose promise settles in the same tick passes
 * however late it is. Yielding to a timer afterwards lets the overdue jest timeout fire first.
 */
async function settle(work: () => Promise<unknown>): Promise<PromiseSettledResult<unknown>> {
  const [outcome] = await Promise.allSettled([work()]);
  await new Promise((resolve) => setTimeout(resolve, 0));
  return outcome;
}

/** Fulfilled, or rejected with a node error (a failure the run reports, not a crash). */
function expectHandled(outcome: PromiseSettledResult<unknown>): void {
  if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(NodeError);
}

const condition = (data: Record<string, unknown>) =>
  settle(() => new ConditionNode().execute({ id: 'cond-1', type: 'condition', data }, nodeContext()));

const format = (operation: string, input: string, fields: Record<string, unknown>) =>
  settle(() =>
    new FormatterNode().execute(
      { id: 'fmt-1', type: 'formatter', data: { config: { operation, input, fields, output_key: 'out' } } },
      nodeContext(),
    ),
  );

describe('1 MB of adversarial input', () => {
  describe.each(['contains', '>=', '<=', '==', '!=', '>', '<'])('condition %s', (op) => {
    it.each(NAMES)(
      '%s on both sides',
      async (name) => {
        const outcome = await condition({ expression: `{{Hook.${name}}} ${op} {{Hook.${name}}}` });
        expect(outcome).toMatchObject({ status: 'fulfilled' });
      },
      TIMEOUT,
    );

    it.each(NAMES)(
      '%s against a number',
      async (name) => {
        const outcome = await condition({ expression: `{{Hook.${name}}} ${op} 100` });
        expect(outcome).toMatchObject({ status: 'fulfilled' });
      },
      TIMEOUT,
    );
  });

  describe.each(['equals', 'not equals', 'contains', 'greater than', 'less than'])(
    'legacy condition %s',
    (operator) => {
      it.each(NAMES)(
        '%s',
        async (name) => {
          const outcome = await condition({ field: `Hook.${name}`, operator, value: `{{Hook.${name}}}` });
          expect(outcome).toMatchObject({ status: 'fulfilled' });
        },
        TIMEOUT,
      );
    },
  );

  it(
    'condition: a long needle that V8 would search in text × needle time',
    async () => {
      const outcome = await condition({ expression: '{{Hook.text}} contains {{Hook.needle}}' });
      expect(outcome).toEqual({ status: 'fulfilled', value: { outputs: { result: false }, branch: false } });
    },
    TIMEOUT,
  );

  it.each([
    // "111…1x" is not a number, so it compares as text: "1" = "1", then "1" > "0".
    ['{{Hook.digits}} > 100', true],
    // 1 MB of leading zeros is still 50 (as text, "0…" would sort below "9").
    ['{{Hook.zeros}} > 9', true],
    ['{{Hook.zeros}} <= 49', false],
  ])(
    'condition: %s → %s',
    async (expression, expected) => {
      const outcome = await condition({ expression });
      expect(outcome).toEqual({ status: 'fulfilled', value: { outputs: { result: expected }, branch: expected } });
    },
    TIMEOUT,
  );

  const INPUT_OPERATIONS: [string, Record<string, unknown>][] = [
    ['string.trim', {}],
    ['string.lowercase', {}],
    ['string.uppercase', {}],
    ['string.replace', { search_for: '1', replace_with: '2' }],
    ['string.split', { delimiter: '.', index: 0 }],
    ['string.substring', { start: 1, length: 3 }],
    ['number.add', { value: 1 }],
    ['number.subtract', { value: 1 }],
    ['number.multiply', { value: 2 }],
    ['number.divide', { value: 2 }],
    ['number.round', { decimal_places: 2 }],
    ['type.to_number', {}],
    ['json.pick', { json_path: 'a.b' }],
    ['json.flatten', {}],
    ['json.merge', { input_two: '{}' }],
    ['json.to_array', { delimiter: ',', trim_items: true }],
    ['json.to_object', { key_name: 'k' }],
    ...['rfc3339', 'rfc2822', 'date_only', 'datetime', 'us_short', 'unix_seconds', 'unix_milliseconds'].map(
      (fmt): [string, Record<string, unknown>] => ['date.parse', { format: fmt }],
    ),
    ['date.format', { output_format: 'rfc3339' }],
    ['date.format', { output_format: 'YYYY-MM-DD [at] HH:mm' }],
    ['date.adjust', { days: 1 }],
    ['date.extract', { component: 'year', timezone: 'Asia/Tokyo' }],
    ['bool.to_boolean', {}],
    ['bool.is_empty', {}],
    ['type.to_string', {}],
  ];

  describe.each(INPUT_OPERATIONS)('formatter %s %j, payload as input', (operation, fields) => {
    it.each(NAMES)(
      '%s',
      async (name) => {
        expectHandled(await format(operation, `{{Hook.${name}}}`, fields));
      },
      TIMEOUT,
    );
  });

  const FIELD_OPERATIONS: [string, string, (value: string) => Record<string, unknown>][] = [
    ['number.add', '1', (v) => ({ value: v })],
    ['number.round', '1.5', (v) => ({ decimal_places: v })],
    ['string.replace', 'abc', (v) => ({ search_for: v, replace_with: v })],
    ['string.split', 'a,b', (v) => ({ delimiter: v, index: 0 })],
    ['string.split', 'a,b', (v) => ({ delimiter: ',', index: v })],
    ['string.substring', 'abc', (v) => ({ start: v, length: v })],
    ['json.pick', '{"a":{"b":[1]}}', (v) => ({ json_path: v })],
    ['json.merge', '{}', (v) => ({ input_two: v })],
    ['json.to_array', 'a,b', (v) => ({ delimiter: v, trim_items: v })],
    ['json.to_object', '1', (v) => ({ key_name: v })],
    ['date.parse', '2025-01-02', (v) => ({ format: v })],
    ['date.format', '2025-01-02', (v) => ({ output_format: v })],
    ['date.format', '2025-01-02', (v) => ({ output_format: 'rfc3339', timezone: v })],
    ['date.adjust', '2025-01-02', (v) => ({ days: v, hours: v, minutes: v })],
    ['date.extract', '2025-01-02', (v) => ({ component: v })],
    ['date.extract', '2025-01-02', (v) => ({ component: 'day', timezone: v })],
  ];

  describe.each(FIELD_OPERATIONS)('formatter %s on %p, payload in the fields', (operation, input, fields) => {
    it.each(NAMES)(
      '%s',
      async (name) => {
        expectHandled(await format(operation, input, fields(`{{Hook.${name}}}`)));
      },
      TIMEOUT,
    );
  });

  it.each([
    ['string.replace', { search_for: '{{Hook.needle}}', replace_with: 'x' }],
    ['string.split', { delimiter: '{{Hook.needle}}', index: 0 }],
    ['json.to_array', { delimiter: '{{Hook.needle}}' }],
  ])(
    'formatter %s: a long needle that V8 would search in text × needle time',
    async (operation, fields) => {
      const outcome = await format(operation, '{{Hook.text}}', fields);
      expect(outcome.status).toBe('fulfilled');
    },
    TIMEOUT,
  );

  it.each(['wideKeys', 'deepLeaves', 'nested'])(
    'json.flatten: %s cannot build keys quadratic in the input',
    async (name) => {
      expectHandled(await format('json.flatten', `{{Hook.${name}}}`, {}));
    },
    TIMEOUT,
  );

  it.each(NAMES)(
    'templating: %s as template, as path and as value',
    async (name) => {
      const payload = PAYLOADS[name];
      const outcome = await settle(async () => {
        expect(renderTemplate(`{{Hook.${name}}}`, CONTEXT)).toBe(payload);
        renderTemplate(payload, CONTEXT);
        renderTemplate(`{{${payload}}}`, CONTEXT);
        renderTemplate(`${payload}}}{{Hook.text}}`, CONTEXT);
        resolvePath(CONTEXT, payload);
        resolvePath({ list: [1] }, `list.${payload}`);
        flexibleParse(payload);
        renderDeep({ list: [payload, `{{Hook.${name}}}`] }, CONTEXT);
      });
      expect(outcome.status).toBe('fulfilled');
    },
    TIMEOUT,
  );
});
