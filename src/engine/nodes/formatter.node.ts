/**
 * Formatter node (docs/contract.md §5.9): one operation on a templated `input`, result stored under
 * `output_key`. The operations live by family under `./formatter/`; this file holds the params, the
 * node info and the dispatch. Error texts name the operation and the offending field, never a
 * field's value (inputs are templated and may carry secrets).
 */
import { Type } from 'class-transformer';
import { IsObject, IsOptional, IsString, ValidateNested } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { DATE_FORMATS } from '../dates';
import { nodeMessage, parseParams } from '../node-params';
import {
  NodeError,
  type GraphNode,
  type NodeContext,
  type NodeExecutor,
  type NodeResult,
  type NodeTypeInfo,
} from '../node-types';
import { renderTemplate } from '../templating';
import { CONVERSION_OPERATIONS } from './formatter/conversions';
import { DATE_COMPONENTS, DATE_OPERATIONS } from './formatter/dates';
import { JSON_OPERATIONS } from './formatter/json';
import { NUMBER_OPERATIONS } from './formatter/numbers';
import { Fields, type Operation } from './formatter/operation';
import { TEXT_OPERATIONS } from './formatter/text';
import { IsScalar, objectOrAbsent } from './param-rules';

export { tokeniseDateFormat } from '../dates';
export { normaliseJsonPath } from './formatter/json';

const OUTPUT_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const INVALID_MESSAGE = 'Invalid formatter configuration';
const INVALID = { context: nodeMessage(INVALID_MESSAGE) };

/** In this order in the params schema's `enum` (and so in docs/nodes.md). */
const OPERATIONS = new Map<string, Operation>([
  ...TEXT_OPERATIONS,
  ...NUMBER_OPERATIONS,
  ...JSON_OPERATIONS,
  ...DATE_OPERATIONS,
  ...CONVERSION_OPERATIONS,
]);

export class FormatterNode implements NodeExecutor {
  readonly instant = true;

  async execute(node: GraphNode, ctx: NodeContext): Promise<NodeResult> {
    const raw = node.data.config;
    // A missing config is invalid here, not an empty one.
    if (!objectOrAbsent(raw)) throw new NodeError(INVALID_MESSAGE);
    // The class checks types only; what is missing is reported below, after every type is right.
    const { operation, input, fields, output_key: outputKey } = parseParams(FormatterConfig, raw);

    const op = (operation ?? '').trim();
    if (op === '') throw new NodeError('Formatter operation is required.');
    const key = (outputKey ?? '').trim();
    if (key === '') throw new NodeError('Output key is required.');
    if (!OUTPUT_KEY.test(key)) {
      throw new NodeError(
        'Output key must start with a letter/underscore and contain only letters, numbers, or underscores.',
      );
    }

    const run = OPERATIONS.get(op);
    if (!run) throw new NodeError(`Unsupported formatter operation \`${op}\``);
    const text = typeof input === 'string' ? renderTemplate(input, ctx.context) : input == null ? '' : String(input);
    const result = run(text, new Fields(op, (fields ?? {}) as Record<string, unknown>, ctx.context));
    return { outputs: { [key]: result } };
  }
}

const textField = (description: string) => JSONSchema({ type: 'string', description });
const numericField = (description: string) =>
  JSONSchema({ type: ['number', 'string'], description: `${description} A string is templated first.` });

/**
 * `config.fields`: what the operation needs beside its input. String values are templated; nothing
 * is checked until the operation reads the field, so a field another operation uses is ignored.
 */
export class FormatterFields {
  @textField('`string.replace`: the text to find, kept as typed (spaces count).')
  @IsOptional()
  search_for?: string;

  @textField('`string.replace`: its replacement (empty when absent).')
  @IsOptional()
  replace_with?: string;

  @textField('`string.split` and `json.to_array`: the separator, kept as typed (a single space works).')
  @IsOptional()
  delimiter?: string;

  @numericField('`string.split`: which part to return, from 0.')
  @IsOptional()
  index?: number | string;

  @numericField('`string.substring`: the first character, from 0 (counted in code points).')
  @IsOptional()
  start?: number | string;

  @numericField('`string.substring`: how many characters; the rest of the text when absent.')
  @IsOptional()
  length?: number | string;

  @numericField('`number.add`, `number.subtract`, `number.multiply`, `number.divide`: the other operand.')
  @IsOptional()
  value?: number | string;

  @numericField('`number.round`: decimal places, 0 to 15 (half away from zero).')
  @IsOptional()
  decimal_places?: number | string;

  @textField('`json.pick`: the path into the input JSON (`$.items[0].id`, `items.0.id`; `$` is the whole value).')
  @IsOptional()
  json_path?: string;

  @textField('`json.merge`: the JSON object merged over the input (its keys win).')
  @IsOptional()
  input_two?: string;

  @JSONSchema({
    type: ['boolean', 'string'],
    description: '`json.to_array`: trim each item (`true`, or a string such as `yes`, `1`, `on`).',
  })
  @IsOptional()
  trim_items?: boolean | string;

  @textField('`json.to_object`: the key the input is stored under.')
  @IsOptional()
  key_name?: string;

  @textField(`\`date.parse\`: the input's format, one of ${DATE_FORMATS.map((f) => `\`${f}\``).join(', ')}.`)
  @IsOptional()
  format?: string;

  @textField(
    '`date.format`: a named format (as for `format`) or a token pattern such as `YYYY-MM-DD HH:mm` (day.js style; `[text]` is literal).',
  )
  @IsOptional()
  output_format?: string;

  @textField('`date.format`, `date.extract`: an IANA time zone (`America/New_York`); UTC when absent.')
  @IsOptional()
  timezone?: string;

  @numericField('`date.adjust`: days to add (negative subtracts, fractions allowed).')
  @IsOptional()
  days?: number | string;

  @numericField('`date.adjust`: hours to add.')
  @IsOptional()
  hours?: number | string;

  @numericField('`date.adjust`: minutes to add.')
  @IsOptional()
  minutes?: number | string;

  @textField(`\`date.extract\`: one of ${[...DATE_COMPONENTS.keys()].map((c) => `\`${c}\``).join(', ')}.`)
  @IsOptional()
  component?: string;
}

/** A formatter node's `data.config`. Types are checked here; what is missing, by the node. */
@JSONSchema({
  required: ['operation', 'output_key'],
  examples: [
    { operation: 'number.round', input: '{{Hook.amount}}', fields: { decimal_places: 2 }, output_key: 'total' },
  ],
})
export class FormatterConfig {
  @JSONSchema({ description: 'What to do with the input.', enum: [...OPERATIONS.keys()] })
  @IsOptional()
  @IsString(INVALID)
  operation?: string | null;

  @JSONSchema({ description: 'The value to work on; a string is templated (`{{Hook.amount}}`). Empty when absent.' })
  @IsOptional()
  @IsScalar(INVALID)
  input?: string | number | boolean | null;

  @JSONSchema({ description: 'The fields the operation needs.' })
  @IsOptional()
  @IsObject(INVALID)
  @ValidateNested()
  @Type(() => FormatterFields)
  fields?: FormatterFields | null;

  @JSONSchema({
    description: 'The output field the result is stored under (letters, digits and `_`, not starting with a digit).',
    pattern: OUTPUT_KEY.source,
    examples: ['total'],
  })
  @IsOptional()
  @IsString(INVALID)
  output_key?: string | null;
}

export const FORMATTER_NODE: NodeTypeInfo = {
  kind: 'formatter',
  category: 'logic',
  title: 'Formatter',
  description:
    'Applies one text, number, date, JSON or boolean operation to a templated input and stores the result under an output key.',
  nodeTypes: ['formatter', 'logicformatter', 'transform'],
  actionTypes: [],
  paramsField: 'config',
  params: FormatterConfig,
  outputs: { '<output_key>': 'The result, under the configured `output_key`.' },
  planGate: null,
};
