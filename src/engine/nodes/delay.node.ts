/**
 * Delay node (docs/contract.md §5.8). Computes how long to wait from `data.config`; a positive wait is
 * returned as `pauseUntil` and the executor persists the pause. Time comes from `ctx.now()` and
 * jitter from the injected random source, so the node is deterministic under test.
 */
import { Type } from 'class-transformer';
import { IsInt, IsObject, IsOptional, IsString, Max, Min, ValidateBy, ValidateNested } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { DateTime } from 'luxon';
import { nodeMessage, parseParams } from '../node-params';
import {
  NodeError,
  type GraphNode,
  type NodeContext,
  type NodeExecutor,
  type NodeResult,
  type NodeTypeInfo,
} from '../node-types';
import { formatRfc3339, parseRfc3339 } from '../dates';
import { objectOrAbsent } from './param-rules';

const INVALID_MESSAGE = 'Invalid delay config: Invalid delay configuration';
const INVALID = { context: nodeMessage(INVALID_MESSAGE) };

/** An optional count: a non-negative safe integer (null counts as absent). */
function Count(description: string): PropertyDecorator {
  const decorators = [
    JSONSchema({ type: 'integer', minimum: 0, description }),
    IsOptional(),
    IsInt(INVALID),
    Min(0, INVALID),
    Max(Number.MAX_SAFE_INTEGER, INVALID),
  ];
  return (target, key) => decorators.forEach((decorate) => decorate(target, key as string));
}

/** `wait_for`: the parts add up. */
export class DelayWaitFor {
  @Count('Minutes to wait.')
  minutes?: number;

  @Count('Hours to wait.')
  hours?: number;

  @Count('Days to wait.')
  days?: number;
}

/** A delay node's `data.config`. */
@JSONSchema({ examples: [{ mode: 'duration', wait_for: { minutes: 30 } }] })
export class DelayConfig {
  @JSONSchema({
    description:
      '`duration` waits for `wait_for`, `datetime` until `wait_until`; anything else (or none) waits for the later of the two, at least one of them set.',
    examples: ['duration', 'datetime', 'auto'],
  })
  @IsOptional()
  @IsString(INVALID)
  mode?: string | null;

  @JSONSchema({ description: 'How long to wait (whole minutes, hours and days, summed).' })
  @IsOptional()
  @IsObject(INVALID)
  @ValidateNested(INVALID)
  @Type(() => DelayWaitFor)
  wait_for?: DelayWaitFor | null;

  @JSONSchema({
    format: 'date-time',
    description: 'When to continue: RFC 3339 with an offset (`2030-06-15T12:00:00Z`). Blank counts as absent.',
  })
  @IsOptional()
  @IsString(INVALID)
  @ValidateBy(
    {
      name: 'isRfc3339OrBlank',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && (!value.trim() || !!parseRfc3339(value)),
        // A constraint without a message gets no context, so no node message either.
        defaultMessage: () => '$property must be an RFC 3339 date-time',
      },
    },
    INVALID,
  )
  wait_until?: string | null;

  @Count('Up to this many seconds are added at random to a positive wait.')
  jitter_seconds?: number | null;
}

export const DELAY_NODE: NodeTypeInfo = {
  kind: 'delay',
  category: 'logic',
  title: 'Delay',
  description:
    'Pauses the run for a duration or until a date and time, then continues with its successors. The run is parked, not a worker.',
  nodeTypes: ['delay', 'logicDelay', 'wait'],
  actionTypes: [],
  paramsField: 'config',
  params: DelayConfig,
  outputs: {
    resumeAt: 'When the run continues (RFC 3339, UTC), or null when there is nothing to wait for.',
    delaySeconds: 'The wait in whole seconds, jitter included.',
    baseDelaySeconds: 'The wait before jitter (present when the run pauses).',
    jitterAppliedSeconds: 'The random seconds added.',
    mode: '`duration_or_absolute` when the run pauses, `duration` when it continues at once.',
  },
  planGate: null,
};

export class DelayNode implements NodeExecutor {
  /** It computes the resume time; the waiting is a pause of the run, not of the node. */
  readonly instant = true;

  constructor(private readonly random: () => number = Math.random) {}

  async execute(node: GraphNode, ctx: NodeContext): Promise<NodeResult> {
    const raw = node.data.config;
    // A missing config is invalid here, not an empty one.
    if (!objectOrAbsent(raw)) throw new NodeError(INVALID_MESSAGE);
    const config = parseParams(DelayConfig, raw);
    const waitForSeconds = seconds(config.wait_for);
    // A blank `wait_until` (what a cleared form field sends) counts as absent.
    const waitUntil = config.wait_until?.trim() ? parseRfc3339(config.wait_until)! : undefined;
    const jitterSeconds = config.jitter_seconds ?? 0;

    const now = ctx.now().getTime();
    const durationMs = (waitForSeconds ?? 0) * 1000;
    const untilMs = waitUntil ? Math.max(0, waitUntil.toMillis() - now) : 0;

    let baseMs: number;
    if (config.mode === 'duration') {
      if (durationMs === 0) throw new NodeError('Configure a duration before continuing');
      baseMs = durationMs;
    } else if (config.mode === 'datetime') {
      if (!waitUntil) throw new NodeError('Configure a valid target datetime before continuing');
      baseMs = untilMs;
    } else {
      if (waitForSeconds === undefined && !waitUntil) {
        throw new NodeError('Configure either a wait duration or an absolute datetime');
      }
      baseMs = Math.max(durationMs, untilMs);
    }

    const jitter = baseMs === 0 || jitterSeconds === 0 ? 0 : this.jitter(jitterSeconds);
    const totalMs = baseMs + jitter * 1000;
    if (totalMs === 0) {
      return {
        outputs: { resumeAt: null, delaySeconds: Math.floor(baseMs / 1000), jitterAppliedSeconds: 0, mode: 'duration' },
      };
    }

    const resumeAt = DateTime.fromMillis(now + totalMs, { zone: 'utc' });
    if (!Number.isSafeInteger(totalMs) || !resumeAt.isValid) throw new NodeError('Delay duration is too large');
    return {
      outputs: {
        resumeAt: formatRfc3339(resumeAt),
        // Whole seconds, truncated like the reference's `Duration::as_secs`.
        delaySeconds: Math.floor(totalMs / 1000),
        baseDelaySeconds: Math.floor(baseMs / 1000),
        jitterAppliedSeconds: jitter,
        mode: 'duration_or_absolute',
      },
      pauseUntil: resumeAt.toJSDate(),
    };
  }

  /** Uniform integer in [0, max]. */
  private jitter(max: number): number {
    return Math.min(max, Math.floor(this.random() * (max + 1)));
  }
}

/** Seconds; undefined when `wait_for` is absent (auto mode cares about presence, not size). */
function seconds(waitFor: DelayWaitFor | null | undefined): number | undefined {
  if (waitFor == null) return undefined;
  const total = (waitFor.minutes ?? 0) * 60 + (waitFor.hours ?? 0) * 3600 + (waitFor.days ?? 0) * 86_400;
  if (!Number.isSafeInteger(total)) throw new NodeError('Delay duration is too large');
  return total;
}
