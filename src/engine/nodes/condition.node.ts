import { IsOptional, IsString, Matches, ValidateIf } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { nodeMessage, parseParams } from '../node-params';
import {
  NodeError,
  type GraphNode,
  type NodeContext,
  type NodeExecutor,
  type NodeResult,
  type NodeTypeInfo,
} from '../node-types';
import { parseFloatText } from '../number-text';
import { flexibleParse, renderTemplate, resolvePath } from '../templating';
import { containsText } from '../text-search';
import { objectOrAbsent, StringOrAbsent } from './param-rules';

const MISSING_FIELD = nodeMessage('Missing condition field');

/** The fields of a condition node's `data` (beside `label`). A field of another type counts as absent. */
@JSONSchema({ examples: [{ expression: '{{Hook.amount}} > 100' }, { field: 'Hook.status', value: 'paid' }] })
export class ConditionParams {
  @JSONSchema({
    description:
      '`<left> <op> <right>` with the first of ` contains `, `>=`, `<=`, `==`, `!=`, `>`, `<` found in it. Each side is a context path, a key of a top-level context object, or a template/literal read as JSON when it parses. When blank, `field`, `operator` and `value` are used instead.',
    examples: ['{{Hook.amount}} > 100'],
  })
  @StringOrAbsent()
  @IsOptional()
  @IsString()
  expression?: string;

  @JSONSchema({
    description: 'Required without an expression: the left side (a context path such as `Hook.amount`, or a template).',
    examples: ['Hook.amount'],
  })
  @StringOrAbsent()
  @ValidateIf((params: ConditionParams) => !params.expression?.trim())
  @IsString({ context: MISSING_FIELD })
  @Matches(/\S/, { context: MISSING_FIELD })
  field?: string;

  @JSONSchema({
    description:
      'Without an expression: how to compare; `equals` when absent. Any other text makes the condition false.',
    enum: ['equals', 'not equals', 'contains', 'greater than', 'less than'],
  })
  @StringOrAbsent()
  @IsOptional()
  @IsString()
  operator?: string;

  @JSONSchema({
    description:
      'Without an expression: the right side. A string is resolved like `field`; any other JSON value is compared as is.',
    examples: ['100'],
  })
  @IsOptional()
  value?: unknown;
}

export const CONDITION_NODE: NodeTypeInfo = {
  kind: 'condition',
  category: 'logic',
  title: 'Condition',
  description:
    'Compares two values and continues along its `cond-true` or `cond-false` edges. Numbers compare as numbers, arrays and objects deeply.',
  nodeTypes: ['condition'],
  actionTypes: [],
  paramsField: 'data',
  params: ConditionParams,
  outputs: { result: 'The outcome (boolean); it also picks the branch.' },
  planGate: null,
};

/**
 * Condition node (docs/contract.md §5.5); arrays/objects compare deeply (deviation 21 in docs/deviations.md).
 *
 * `data.expression` (trimmed; non-string = empty). The operator is the first of ` contains `, `>=`,
 * `<=`, `==`, `!=`, `>`, `<` that occurs anywhere in the expression (tried in that order), split at its
 * first occurrence. No operator → `Unsupported condition expression`. Empty expression → legacy mode:
 * `data.field` (a non-empty string, else `Missing condition field`), `data.operator` (`equals` by
 * default; `not equals`, `contains`, `greater than`, `less than`; anything else → false) and
 * `data.value` (a string is resolved like an operand; any other JSON value is used as is; absent → null).
 *
 * Output `{ result }`; `branch` = result (the executor follows `cond-true` / `cond-false`).
 */
export class ConditionNode implements NodeExecutor {
  readonly instant = true;

  async execute(node: GraphNode, ctx: NodeContext): Promise<NodeResult> {
    const result = evaluateCondition(node.data, ctx.context);
    return { outputs: { result }, branch: result };
  }
}

type Operator = 'contains' | '>=' | '<=' | '==' | '!=' | '>' | '<';

const OPERATORS: readonly [string, Operator][] = [
  [' contains ', 'contains'],
  ['>=', '>='],
  ['<=', '<='],
  ['==', '=='],
  ['!=', '!='],
  ['>', '>'],
  ['<', '<'],
];

const LEGACY_OPERATORS: Readonly<Record<string, Operator>> = {
  equals: '==',
  'not equals': '!=',
  contains: 'contains',
  'greater than': '>',
  'less than': '<',
};

type Context = Readonly<Record<string, unknown>>;

export function evaluateCondition(data: unknown, context: Context): boolean {
  const params = parseParams(ConditionParams, objectOrAbsent(data));
  const expression = params.expression?.trim() ?? '';
  if (expression !== '') {
    const parsed = parseExpression(expression);
    if (!parsed) throw new NodeError('Unsupported condition expression');
    return applyOperator(parsed.op, resolveOperand(parsed.left, context), resolveOperand(parsed.right, context));
  }

  // Validated: without an expression, `field` is a non-blank string.
  const field = params.field!.trim();
  const operatorName = params.operator ?? 'equals';
  const op = Object.prototype.hasOwnProperty.call(LEGACY_OPERATORS, operatorName)
    ? LEGACY_OPERATORS[operatorName]
    : undefined;
  if (!op) return false;
  const raw = params.value;
  const expected = typeof raw === 'string' ? resolveOperand(raw, context) : raw === undefined ? null : raw;
  return applyOperator(op, resolveOperand(field, context), expected);
}

function parseExpression(expression: string): { op: Operator; left: string; right: string } | null {
  for (const [pattern, op] of OPERATORS) {
    const at = expression.indexOf(pattern);
    if (at !== -1) {
      return { op, left: expression.slice(0, at).trim(), right: expression.slice(at + pattern.length).trim() };
    }
  }
  return null;
}

function applyOperator(op: Operator, left: unknown, right: unknown): boolean {
  switch (op) {
    case '==':
      return valuesEqual(left, right);
    case '!=':
      return !valuesEqual(left, right);
    case '>':
      return compareOrder(left, right, 'greater');
    case '<':
      return compareOrder(left, right, 'less');
    case '>=':
      return compareOrder(left, right, 'equal') || compareOrder(left, right, 'greater');
    case '<=':
      return compareOrder(left, right, 'equal') || compareOrder(left, right, 'less');
    case 'contains': {
      const l = stringForm(left);
      const r = stringForm(right);
      return l !== undefined && r !== undefined && containsText(l, r);
    }
  }
}

/**
 * Operand resolution (each side trimmed): empty → null; a dot path into the context (§5.3 rules);
 * else a key with exactly that name inside a top-level context object (first match in sorted key
 * order, as the reference's serde_json map iterates); else template-expand, then parse flexibly.
 */
export function resolveOperand(raw: string, context: Context): unknown {
  const trimmed = raw.trim();
  if (trimmed === '') return null;

  const byPath = resolvePath(context, trimmed);
  if (byPath !== undefined) return byPath;

  for (const key of Object.keys(context).sort()) {
    const value = context[key];
    if (isPlainObject(value) && Object.prototype.hasOwnProperty.call(value, trimmed)) return value[trimmed];
  }

  return flexibleParse(renderTemplate(trimmed, context));
}

/**
 * Equality: arrays/objects compare by deep equality (deviation 21 in docs/deviations.md: arrays order-sensitive,
 * objects key-order-insensitive, nested scalars strictly); a structured value never equals a scalar.
 * Same-type scalars compare directly; otherwise equal when their string forms match (compatibility:
 * `"1" == 1`, `null == ""`, `true == "true"`).
 */
export function valuesEqual(left: unknown, right: unknown): boolean {
  if (isStructured(left) || isStructured(right)) return deepEqual(left, right);
  if (scalarType(left) === scalarType(right)) return left === right;
  return stringForm(left) === stringForm(right);
}

type Ordering = 'greater' | 'less' | 'equal';

/** Numeric when both sides convert to numbers, else byte-wise on string forms, else false. */
function compareOrder(left: unknown, right: unknown, ordering: Ordering): boolean {
  const a = numberForm(left);
  const b = numberForm(right);
  if (a !== undefined && b !== undefined) {
    if (ordering === 'greater') return a > b;
    if (ordering === 'less') return a < b;
    return Math.abs(a - b) < Number.EPSILON;
  }
  const sa = stringForm(left);
  const sb = stringForm(right);
  if (sa === undefined || sb === undefined) return false;
  // UTF-8 byte order, like the reference's Rust string comparison.
  const cmp = Buffer.compare(Buffer.from(sa, 'utf8'), Buffer.from(sb, 'utf8'));
  if (ordering === 'greater') return cmp > 0;
  if (ordering === 'less') return cmp < 0;
  return cmp === 0;
}

/** Strings convert with Rust's f64 parser (decimal and exponent forms, optional sign, inf/infinity/nan). */
function numberForm(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string') return parseFloatText(value.trim());
  return undefined;
}

/** String forms: strings as is, numbers as their float text, bools as true/false, null as ""; none for arrays/objects. */
function stringForm(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return floatText(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value === null || value === undefined) return '';
  return undefined;
}

/** Rust's `f64` Display: shortest round-trip digits, never in exponent notation (1e21 → "1000000000000000000000"). */
export function floatText(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  if (Object.is(n, -0)) return '-0';
  const text = String(n);
  const match = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!match) return text;
  const [, sign, lead, fraction = '', exp] = match;
  const digits = lead + fraction;
  const point = 1 + Number(exp);
  if (point >= digits.length) return sign + digits + '0'.repeat(point - digits.length);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** An explicit stack rather than recursion: an operand parsed from a payload can nest deeper than the call stack. */
function deepEqual(left: unknown, right: unknown): boolean {
  const pending: [unknown, unknown][] = [[left, right]];
  while (pending.length > 0) {
    const [a, b] = pending.pop() as [unknown, unknown];
    if (Array.isArray(a) || Array.isArray(b)) {
      if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
      a.forEach((item, i) => pending.push([item, b[i]]));
    } else if (isPlainObject(a) || isPlainObject(b)) {
      if (!isPlainObject(a) || !isPlainObject(b)) return false;
      const keysA = Object.keys(a).filter((k) => a[k] !== undefined);
      const keysB = Object.keys(b).filter((k) => b[k] !== undefined);
      if (keysA.length !== keysB.length) return false;
      for (const k of keysA) {
        if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
        pending.push([a[k], b[k]]);
      }
    } else if (a !== b) {
      return false;
    }
  }
  return true;
}

function scalarType(value: unknown): string {
  return value === null || value === undefined ? 'null' : typeof value;
}

function isStructured(value: unknown): value is object {
  return value !== null && typeof value === 'object';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return isStructured(value) && !Array.isArray(value);
}
