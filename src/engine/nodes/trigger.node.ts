import { Type } from 'class-transformer';
import { IsArray, IsOptional, IsString, ValidateNested } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { contextKey } from '../execution-context';
import { parseParams } from '../node-params';
import type { GraphNode, NodeContext, NodeExecutor, NodeResult, NodeTypeInfo } from '../node-types';
import { flexibleParse, renderTemplate } from '../templating';
import { KeyValueRows, objectOrAbsent, StringOrAbsent } from './param-rules';

/** One row of `data.inputs`. */
export class TriggerInput {
  @JSONSchema({ description: 'The output field it sets; a later row with the same key wins.', examples: ['orderId'] })
  @IsString()
  key!: string;

  @JSONSchema({
    description:
      'Templated against the context, then read as JSON when it parses (`"x"` and `\'x\'` give the text x). Anything but a string gives null.',
    examples: ['{{Hook.order.id}}'],
  })
  @StringOrAbsent()
  @IsOptional()
  @IsString()
  value?: string;
}

/** The fields of a trigger node's `data` (beside `label`). */
@JSONSchema({ examples: [{ triggerType: 'Webhook', inputs: [{ key: 'source', value: 'web' }] }] })
export class TriggerParams {
  @JSONSchema({
    type: 'string',
    description:
      '`Manual`, `Webhook` or `Schedule` (any case). Webhook triggers can be called from outside; a schedule trigger with a `scheduleConfig` starts runs on its own.',
    examples: ['Webhook'],
  })
  @IsOptional()
  triggerType?: string;

  @JSONSchema({ description: 'Values added to the trigger payload. Rows without a non-blank string key are skipped.' })
  @KeyValueRows()
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => TriggerInput)
  inputs?: TriggerInput[];

  @JSONSchema({
    type: 'object',
    description:
      'Schedule triggers: `startDate`, optional `startTime` and `timezone`, optional `repeat` (`every` and a unit), or a cron expression with a time zone. Checked when the workflow is saved.',
  })
  @IsOptional()
  scheduleConfig?: Record<string, unknown>;
}

export const TRIGGER_NODE: NodeTypeInfo = {
  kind: 'trigger',
  category: 'trigger',
  title: 'Trigger',
  description:
    'Where a run starts: by hand, from a webhook call or on a schedule. Its output is the trigger payload merged with its own inputs.',
  nodeTypes: ['trigger'],
  actionTypes: [],
  paramsField: 'data',
  params: TriggerParams,
  outputs: {
    '<payload fields>':
      'The trigger payload (a webhook body, or the `context` a run was started with), inputs merged over it. A payload that is not an object is the output itself when there are no inputs, else it comes as `payload`.',
    '<input keys>': 'One field per input row: its templated, parsed value.',
  },
  planGate: 'Schedule and Notion triggers need a workspace plan; manual and webhook triggers run on every plan.',
};

/**
 * Trigger node (docs/contract.md §5.4, fixed per deviation 5 in docs/deviations.md).
 *
 * Inputs: `data.inputs: [{ key, value }]`. Each string `value` is templated against the context and
 * then parsed flexibly (JSON → that value, `"x"`/`'x'` → x, else the text); any non-string value
 * (including a missing one) becomes `null`. Entries whose `key` is not a non-empty string are skipped;
 * a later entry with the same key wins.
 *
 * Output — the trigger payload stays addressable under the trigger's label (`{{Hook.order.id}}`):
 * the payload is whatever the context holds under this node's context key when the node runs (put
 * there by `initialContext`).
 * - no payload (key absent)          → the inputs object;
 * - payload is a JSON object         → `{ ...payload, ...inputs }` (inputs win on key clashes);
 * - payload is anything else (array, scalar, null)
 *                                    → the payload itself when there are no inputs,
 *                                      else `{ payload, ...inputs }` (an input named `payload` wins).
 * The reference instead overwrote the payload with the inputs (its §5.3 [Q]).
 */
export class TriggerNode implements NodeExecutor {
  readonly instant = true;

  async execute(node: GraphNode, ctx: NodeContext): Promise<NodeResult> {
    const params = parseParams(TriggerParams, objectOrAbsent(node.data));
    const inputs = buildInputs(params.inputs ?? [], ctx.context);
    const key = contextKey(node);
    if (!Object.prototype.hasOwnProperty.call(ctx.context, key)) return { outputs: inputs };

    const payload = ctx.context[key];
    if (isPlainObject(payload)) return { outputs: merge(payload, inputs) };
    if (Object.keys(inputs).length === 0) return { outputs: payload };
    return { outputs: merge({ payload }, inputs) };
  }
}

function buildInputs(rows: TriggerInput[], context: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of rows) {
    setOwn(out, key, typeof value === 'string' ? flexibleParse(renderTemplate(value, context)) : null);
  }
  return out;
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) setOwn(out, k, v);
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
