/**
 * Delay node (docs/contract.md §5.8). Computes how long to wait from `data.config`; a positive wait is
 * returned as `pauseUntil` and the executor persists the pause. Time comes from `ctx.now()` and
 * jitter from the injected random source, so the node is deterministic under test.
 */
import { DateTime } from 'luxon';
import { NodeError, type GraphNode, type NodeContext, type NodeExecutor, type NodeResult } from '../node-types';
import { formatRfc3339, parseRfc3339 } from './formatter.node';

interface DelayConfig {
  /** `duration`, `datetime`, anything else (or absent) = auto. */
  mode: string;
  /** Seconds; undefined when `wait_for` is absent (auto mode cares about presence, not size). */
  waitForSeconds?: number;
  waitUntil?: DateTime;
  jitterSeconds: number;
}

export class DelayNode implements NodeExecutor {
  /** It computes the resume time; the waiting is a pause of the run, not of the node. */
  readonly instant = true;

  constructor(private readonly random: () => number = Math.random) {}

  async execute(node: GraphNode, ctx: NodeContext): Promise<NodeResult> {
    const config = parseConfig(node.data.config);
    const now = ctx.now().getTime();
    const durationMs = (config.waitForSeconds ?? 0) * 1000;
    const untilMs = config.waitUntil ? Math.max(0, config.waitUntil.toMillis() - now) : 0;

    let baseMs: number;
    if (config.mode === 'duration') {
      if (durationMs === 0) throw new NodeError('Configure a duration before continuing');
      baseMs = durationMs;
    } else if (config.mode === 'datetime') {
      if (!config.waitUntil) throw new NodeError('Configure a valid target datetime before continuing');
      baseMs = untilMs;
    } else {
      if (config.waitForSeconds === undefined && !config.waitUntil) {
        throw new NodeError('Configure either a wait duration or an absolute datetime');
      }
      baseMs = Math.max(durationMs, untilMs);
    }

    const jitter = baseMs === 0 || config.jitterSeconds === 0 ? 0 : this.jitter(config.jitterSeconds);
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

function invalid(): NodeError {
  return new NodeError('Invalid delay config: Invalid delay configuration');
}

function parseConfig(raw: unknown): DelayConfig {
  if (!isPlainObject(raw)) throw invalid();
  const { mode, wait_for: waitFor, wait_until: waitUntil, jitter_seconds: jitter } = raw;

  if (mode != null && typeof mode !== 'string') throw invalid();

  let waitForSeconds: number | undefined;
  if (waitFor != null) {
    if (!isPlainObject(waitFor)) throw invalid();
    waitForSeconds = count(waitFor.minutes) * 60 + count(waitFor.hours) * 3600 + count(waitFor.days) * 86_400;
    if (!Number.isSafeInteger(waitForSeconds)) throw new NodeError('Delay duration is too large');
  }

  // A blank `wait_until` (what a cleared form field sends) counts as absent rather than invalid.
  let target: DateTime | undefined;
  if (typeof waitUntil === 'string' && waitUntil.trim() !== '') {
    target = parseRfc3339(waitUntil) ?? undefined;
    if (!target) throw invalid();
  } else if (waitUntil != null && typeof waitUntil !== 'string') {
    throw invalid();
  }

  return { mode: mode ?? 'auto', waitForSeconds, waitUntil: target, jitterSeconds: count(jitter) };
}

/** An optional non-negative integer (absent/null = 0); anything else invalidates the config. */
function count(value: unknown): number {
  if (value == null) return 0;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw invalid();
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
