/**
 * Pure schedule math (docs/contract.md §10.1–10.3, with the fixes listed below). No I/O, no clock: callers pass `now`.
 *
 * Differences from the reference:
 * - `day(s)` / `week(s)` repeats are calendar arithmetic in the schedule's zone (a daily 09:00 Europe/Paris
 *   schedule stays at 09:00 local time across DST changes); `minute(s)` / `hour(s)` stay absolute durations.
 * - Occurrences are always `start + k·interval` counted from the start anchor, also when a last run is known,
 *   so re-saving a workflow never shifts the cadence (reference quirk 19).
 * - A standard cron expression (5 fields, or 6 with seconds) evaluated in an IANA zone is accepted too.
 * - `findScheduleTrigger` skips malformed nodes instead of aborting the scan.
 */
import { CronExpressionParser } from 'cron-parser';
import { IANAZone } from 'luxon';
import { nodeLabel, parseGraph } from './graph';

/** DSentr format (docs/contract.md §10.1). */
export interface DsentrScheduleConfig {
  startDate: string;
  startTime?: string;
  timezone?: string;
  repeat?: { every: number; unit: string } | null;
}
/** Alternative: standard 5-field cron (optionally 6 with seconds) evaluated in an IANA time zone (default UTC). */
export interface CronScheduleConfig {
  cron: string;
  timezone?: string;
}
export type ScheduleConfig = DsentrScheduleConfig | CronScheduleConfig;

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
/** Largest absolute value a JS Date can hold. */
const MAX_DATE_MS = 8.64e15;
const MAX_CRON_LENGTH = 256;

type Repeat = { kind: 'absolute'; ms: number } | { kind: 'calendar'; days: number };

interface ResolvedDsentr {
  kind: 'dsentr';
  zone: IANAZone;
  /** Start as a "wall clock" timestamp: the local date/time encoded as if it were UTC. */
  startWall: number;
  /** Start as a real instant (ms since epoch). */
  start: number;
  repeat: Repeat | null;
}
interface ResolvedCron {
  kind: 'cron';
  expression: string;
  timezone: string;
}
type Resolved = ResolvedDsentr | ResolvedCron;
type Result<T> = { ok: T } | { error: string };

const UNITS: Record<string, 'minutes' | 'hours' | 'days' | 'weeks'> = {
  minute: 'minutes',
  minutes: 'minutes',
  hour: 'hours',
  hours: 'hours',
  day: 'days',
  days: 'days',
  week: 'weeks',
  weeks: 'weeks',
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isAbsent(value: unknown): boolean {
  return value === undefined || value === null;
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------------------------

function parseTimezone(value: unknown): Result<string> {
  if (isAbsent(value)) return { ok: 'UTC' };
  if (typeof value !== 'string') return { error: 'timezone must be a string (IANA time zone name)' };
  const name = value.trim();
  if (name === '') return { ok: 'UTC' };
  if (!IANAZone.isValidZone(name)) return { error: `unknown time zone ${JSON.stringify(name)}` };
  return { ok: name };
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeap(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function wallTime(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  return d.getTime();
}

function parseStartDate(value: unknown): Result<{ text: string; year: number; month: number; day: number }> {
  if (isAbsent(value) || value === '') return { error: 'startDate is required (YYYY-MM-DD)' };
  if (typeof value !== 'string') return { error: 'startDate must be a string (YYYY-MM-DD)' };
  const text = value.trim();
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  const invalid = { error: `invalid startDate ${JSON.stringify(value)} (expected a YYYY-MM-DD calendar date)` };
  if (!m) return invalid;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return invalid;
  return { ok: { text, year, month, day } };
}

function parseStartTime(value: unknown): Result<{ text: string; hour: number; minute: number; second: number }> {
  if (isAbsent(value)) return { ok: { text: '00:00', hour: 0, minute: 0, second: 0 } };
  if (typeof value !== 'string') return { error: 'startTime must be a string (HH:MM)' };
  const text = value.trim();
  if (text === '') return { ok: { text: '00:00', hour: 0, minute: 0, second: 0 } };
  const m = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(text);
  const invalid = { error: `invalid startTime ${JSON.stringify(value)} (expected HH:MM, 24-hour clock)` };
  if (!m) return invalid;
  const hour = Number(m[1]);
  const minute = Number(m[2]);
  const second = m[3] === undefined ? 0 : Number(m[3]);
  if (hour > 23 || minute > 59 || second > 59) return invalid;
  return { ok: { text, hour, minute, second } };
}

function parseRepeat(value: unknown): Result<{ every: number; unit: 'minutes' | 'hours' | 'days' | 'weeks' } | null> {
  if (isAbsent(value)) return { ok: null };
  if (!isRecord(value)) return { error: 'repeat must be an object {"every": <positive integer>, "unit": "..."}' };
  let every: number = NaN;
  if (typeof value.every === 'number') every = value.every;
  else if (typeof value.every === 'string' && /^\s*-?\d+\s*$/.test(value.every)) every = Number(value.every);
  if (!Number.isFinite(every) || !Number.isInteger(every)) {
    return { error: `repeat.every must be a positive integer (got ${show(value.every)})` };
  }
  if (every <= 0) return { error: `repeat.every must be greater than 0 (got ${every})` };
  if (!Number.isSafeInteger(every)) return { error: `repeat.every is too large (got ${every})` };
  const unit = typeof value.unit === 'string' ? UNITS[value.unit.trim().toLowerCase()] : undefined;
  if (!unit) {
    return {
      error: `unknown repeat unit ${show(value.unit)} (expected minute(s), hour(s), day(s) or week(s))`,
    };
  }
  return { ok: { every, unit } };
}

function validateDsentr(
  value: Record<string, unknown>,
): Result<{ config: DsentrScheduleConfig; resolved: ResolvedDsentr }> {
  const date = parseStartDate(value.startDate);
  if ('error' in date) return date;
  const time = parseStartTime(value.startTime);
  if ('error' in time) return time;
  const tz = parseTimezone(value.timezone);
  if ('error' in tz) return tz;
  const repeat = parseRepeat(value.repeat);
  if ('error' in repeat) return repeat;

  const zone = IANAZone.create(tz.ok);
  const { year, month, day } = date.ok;
  const { hour, minute, second } = time.ok;
  const startWall = wallTime(year, month, day, hour, minute, second);
  const start = resolveWall(zone, startWall, 'strict');
  if (start === null) return { error: `start time does not exist in ${tz.ok} (DST gap)` };

  let resolvedRepeat: Repeat | null = null;
  if (repeat.ok) {
    const { every, unit } = repeat.ok;
    if (unit === 'minutes') resolvedRepeat = { kind: 'absolute', ms: every * MINUTE_MS };
    else if (unit === 'hours') resolvedRepeat = { kind: 'absolute', ms: every * HOUR_MS };
    else resolvedRepeat = { kind: 'calendar', days: unit === 'weeks' ? every * 7 : every };
  }
  return {
    ok: {
      config: {
        startDate: date.ok.text,
        startTime: time.ok.text,
        timezone: tz.ok,
        repeat: repeat.ok ? { every: repeat.ok.every, unit: repeat.ok.unit } : null,
      },
      resolved: { kind: 'dsentr', zone, startWall, start, repeat: resolvedRepeat },
    },
  };
}

function hasHashedField(expression: string): boolean {
  // Jenkins-style `H` makes cron-parser pick a random value per parse (non-deterministic due times).
  return expression.split(/\s+/).some((field) => /(^|[^A-Z])H([^A-Z]|$)/i.test(field));
}

function validateCron(value: Record<string, unknown>): Result<{ config: CronScheduleConfig; resolved: ResolvedCron }> {
  if (typeof value.cron !== 'string') return { error: 'cron must be a string' };
  const expression = value.cron.trim();
  if (expression === '') return { error: 'cron expression is empty' };
  if (expression.length > MAX_CRON_LENGTH) return { error: `cron expression is too long (max ${MAX_CRON_LENGTH})` };
  const tz = parseTimezone(value.timezone);
  if ('error' in tz) return tz;
  if (!expression.startsWith('@')) {
    const fields = expression.split(/\s+/).length;
    if (fields !== 5 && fields !== 6) {
      return { error: `invalid cron expression: expected 5 fields (or 6 with seconds), got ${fields}` };
    }
  }
  if (hasHashedField(expression)) return { error: 'invalid cron expression: hashed (H) fields are not supported' };
  let parsed;
  try {
    parsed = CronExpressionParser.parse(expression, { currentDate: new Date(), tz: tz.ok });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/invalid explicit day of month/i.test(message)) {
      return { error: `cron expression never fires (${message})` };
    }
    return { error: `invalid cron expression: ${message}` };
  }
  try {
    const next = parsed.next().toDate();
    if (Number.isNaN(next.getTime())) return { error: 'cron expression never fires' };
  } catch {
    return { error: 'cron expression never fires' };
  }
  return {
    ok: { config: { cron: expression, timezone: tz.ok }, resolved: { kind: 'cron', expression, timezone: tz.ok } },
  };
}

function validate(value: unknown): Result<{ config: ScheduleConfig; resolved: Resolved }> {
  if (!isRecord(value)) return { error: 'scheduleConfig must be an object' };
  const hasCron = !isAbsent(value.cron);
  const hasStart = !isAbsent(value.startDate);
  if (hasCron && hasStart) return { error: 'scheduleConfig must have either cron or startDate, not both' };
  return hasCron ? validateCron(value) : validateDsentr(value);
}

/**
 * Validates an unknown value (e.g. a trigger node's data.scheduleConfig) into a ScheduleConfig, or returns
 * { error } with a human-readable reason (unknown time zone, bad date, bad cron, every <= 0, unknown unit...).
 * Never throws.
 *
 * The returned config is normalized: strings trimmed, `startTime` defaulted to `00:00`, `timezone` defaulted to
 * `UTC`, `repeat` is `{ every, unit }` with the unit in canonical lower-case plural form, or `null` (one-shot).
 * A value with `cron` is a cron schedule; a value with `startDate` is a DSentr schedule; both is an error.
 */
export function parseScheduleConfig(value: unknown): { config: ScheduleConfig } | { error: string } {
  try {
    const result = validate(value);
    return 'error' in result ? { error: result.error } : { config: result.ok.config };
  } catch (err) {
    return { error: `invalid scheduleConfig: ${err instanceof Error ? err.message : String(err)}` };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Time-zone resolution
// ---------------------------------------------------------------------------------------------------------------

/**
 * Converts a wall-clock timestamp (local date/time encoded as UTC) into an instant in `zone`.
 * Ambiguous (DST fold) → the earlier instant. Non-existent (DST gap) → null in 'strict' mode, otherwise the
 * instant the wall clock shows after the jump (e.g. 02:30 during a 02:00→03:00 jump → 03:30), like luxon.
 */
function resolveWall(zone: IANAZone, wall: number, mode: 'strict' | 'shift'): number | null {
  const offsets = new Set<number>();
  for (const delta of [-2 * DAY_MS, -DAY_MS, -14 * HOUR_MS, 0, 14 * HOUR_MS, DAY_MS, 2 * DAY_MS]) {
    const offset = zone.offset(wall + delta);
    if (Number.isFinite(offset)) offsets.add(offset);
  }
  let best: number | null = null;
  for (const offset of offsets) {
    const instant = wall - offset * MINUTE_MS;
    if (zone.offset(instant) === offset && (best === null || instant < best)) best = instant;
  }
  if (best !== null || mode === 'strict' || offsets.size === 0) return best;
  // Gap: interpret the wall time with the offset in force before the jump (the smallest one around).
  return wall - Math.min(...offsets) * MINUTE_MS;
}

// ---------------------------------------------------------------------------------------------------------------
// Next run
// ---------------------------------------------------------------------------------------------------------------

function calendarOccurrence(r: ResolvedDsentr, days: number, k: number): number {
  if (k === 0) return r.start;
  return resolveWall(r.zone, r.startWall + k * days * DAY_MS, 'shift') ?? NaN;
}

/** First occurrence `start + k·interval` (k >= 0) that is >= `threshold`. */
function firstOccurrenceAtOrAfter(r: ResolvedDsentr, repeat: Repeat, threshold: number): number {
  if (r.start >= threshold) return r.start;
  if (repeat.kind === 'absolute') {
    const k = Math.ceil((threshold - r.start) / repeat.ms);
    return r.start + k * repeat.ms;
  }
  // Calendar steps: estimate k with the nominal length (offset changes move each occurrence by less than a
  // step), then correct by a few steps. Occurrences are non-decreasing in k.
  const stepMs = repeat.days * DAY_MS;
  let k = Math.max(0, Math.ceil((threshold - r.start) / stepMs));
  for (let i = 0; i < 16 && k > 0 && calendarOccurrence(r, repeat.days, k - 1) >= threshold; i++) k--;
  for (let i = 0; i < 16; i++) {
    const candidate = calendarOccurrence(r, repeat.days, k);
    if (!(candidate < threshold)) return candidate;
    k++;
  }
  return NaN;
}

function nextCron(r: ResolvedCron, threshold: number): number {
  const expression = CronExpressionParser.parse(r.expression, { currentDate: new Date(threshold - 1), tz: r.timezone });
  // next() is strictly after currentDate, so starting 1 ms before the threshold yields the first one >= threshold.
  return expression.next().toDate().getTime();
}

function toDate(ms: number): Date | null {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS ? new Date(ms) : null;
}

/** Next due time strictly following the rules of docs/contract.md §10.2, computed in the schedule's time zone:
 *  - without lastRunAt: start >= now → start; else with repeat → first start + k·interval >= now; else (one-shot in the past) → start itself (fires on next poll).
 *  - with lastRunAt: repeat required (else null = one-shot done); candidate = lastRunAt + interval (at least start); advance by interval until >= now.
 *  - cron: the first cron occurrence > (lastRunAt ?? now - 1ms) that is >= now… i.e. with lastRunAt, the next occurrence after lastRunAt, but never earlier than now (skip missed ones: return the first occurrence >= now); without lastRunAt the first occurrence >= now.
 *  Returns null when there is no next time (one-shot already run).
 *
 *  Fixes over the reference: with lastRunAt a repeating schedule returns the first occurrence of the series
 *  `start + k·interval` that is strictly after lastRunAt and >= now (the cadence stays anchored on the start);
 *  day/week steps are calendar steps in the zone. An invalid config or invalid dates → null. Never throws. */
export function computeNextRun(config: ScheduleConfig, lastRunAt: Date | null, now: Date): Date | null {
  try {
    const nowMs = now instanceof Date ? now.getTime() : NaN;
    if (!Number.isFinite(nowMs)) return null;
    let lastMs: number | null = null;
    if (lastRunAt !== null && lastRunAt !== undefined) {
      lastMs = lastRunAt instanceof Date ? lastRunAt.getTime() : NaN;
      if (!Number.isFinite(lastMs)) return null;
    }
    const result = validate(config);
    if ('error' in result) return null;
    const r = result.ok.resolved;
    const threshold = lastMs === null ? nowMs : Math.max(nowMs, lastMs + 1);

    if (r.kind === 'cron') return toDate(nextCron(r, threshold));

    if (lastMs === null) {
      if (r.start >= nowMs || !r.repeat) return toDate(r.start);
      return toDate(firstOccurrenceAtOrAfter(r, r.repeat, nowMs));
    }
    if (!r.repeat) return null;
    return toDate(firstOccurrenceAtOrAfter(r, r.repeat, threshold));
  } catch {
    return null;
  }
}

/** The first due time strictly after `dueAt` (what follows a firing), or null when there is none (one-shot). */
export function nextRunAfter(config: ScheduleConfig, dueAt: Date): Date | null {
  return computeNextRun(config, dueAt, new Date(dueAt.getTime() + 1));
}

/**
 * The most recent due time at or before `at` (catch-up after downtime fires this one), or null when the
 * schedule had none yet. Same series as computeNextRun: `start + k·interval`, calendar steps in the zone.
 */
export function latestRunAtOrBefore(config: ScheduleConfig, at: Date): Date | null {
  try {
    const atMs = at.getTime();
    if (!Number.isFinite(atMs)) return null;
    const result = validate(config);
    if ('error' in result) return null;
    const r = result.ok.resolved;
    if (r.kind === 'cron') {
      const expression = CronExpressionParser.parse(r.expression, { currentDate: new Date(atMs + 1), tz: r.timezone });
      return toDate(expression.prev().toDate().getTime());
    }
    if (r.start > atMs) return null;
    if (!r.repeat) return toDate(r.start);
    if (r.repeat.kind === 'absolute') {
      return toDate(r.start + Math.floor((atMs - r.start) / r.repeat.ms) * r.repeat.ms);
    }
    const days = r.repeat.days;
    let k = Math.max(0, Math.floor((atMs - r.start) / (days * DAY_MS)));
    for (let i = 0; i < 16 && calendarOccurrence(r, days, k + 1) <= atMs; i++) k++;
    for (let i = 0; i < 16 && k > 0 && calendarOccurrence(r, days, k) > atMs; i++) k--;
    return toDate(calendarOccurrence(r, days, k));
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Cadence
// ---------------------------------------------------------------------------------------------------------------

const DAY_SECONDS = 24 * 3600;

/**
 * The shortest time between two consecutive firings of a schedule, in ms (what a minimum interval is checked
 * against); null when it fires at most once (a one-shot), or when the config is invalid. Never throws.
 *
 * - DSentr repeats: `every × unit` (day/week steps at their nominal length).
 * - Cron: read from the parsed fields, not by sampling firings (a sample can miss a short gap that only occurs
 *   later, e.g. across midnight on the one day of the month that fires): the times of day it fires
 *   (seconds × minutes × hours, the same on every day that fires) give the gaps within a day, and the gap from the
 *   last time of one day to the first of the next is counted as if two consecutive days could fire. Wall-clock
 *   time: a DST change can bring two firings closer once, which is not counted.
 */
export function shortestIntervalMs(config: ScheduleConfig): number | null {
  try {
    const result = validate(config);
    if ('error' in result) return null;
    const r = result.ok.resolved;
    if (r.kind === 'dsentr') {
      if (!r.repeat) return null;
      return r.repeat.kind === 'absolute' ? r.repeat.ms : r.repeat.days * DAY_MS;
    }
    const { second, minute, hour } = CronExpressionParser.parse(r.expression, { tz: r.timezone }).fields;
    const sorted = (values: readonly unknown[]) =>
      values.filter((v): v is number => typeof v === 'number').sort((a, b) => a - b);
    const [seconds, minutes, hours] = [sorted(second.values), sorted(minute.values), sorted(hour.values)];
    let first: number | null = null;
    let previous: number | null = null;
    let shortest = Infinity;
    for (const h of hours) {
      for (const m of minutes) {
        for (const s of seconds) {
          const at = h * 3600 + m * 60 + s;
          if (previous === null) first = at;
          else shortest = Math.min(shortest, at - previous);
          previous = at;
        }
      }
    }
    if (first === null || previous === null) return null;
    shortest = Math.min(shortest, first + DAY_SECONDS - previous);
    return shortest * 1000;
  } catch {
    return null;
  }
}

/** "1 second", "90 seconds", "15 minutes", "2 hours": a duration as a person would write it. */
export function describeInterval(ms: number): string {
  const seconds = Math.round(ms / 1000);
  const [value, unit] =
    seconds % 3600 === 0
      ? [seconds / 3600, 'hour']
      : seconds % 60 === 0
        ? [seconds / 60, 'minute']
        : [seconds, 'second'];
  return `${value} ${unit}${value === 1 ? '' : 's'}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Graph scan
// ---------------------------------------------------------------------------------------------------------------

/**
 * Why a schedule fires too often for this deployment, or null when it does not: the shortest gap between
 * two of its firings against SCHEDULE_MIN_INTERVAL_SECONDS (the workspace plan's minimum; Solo plans have
 * no schedules at all, docs/contract.md §8.3).
 */
export function tooFrequent(config: ScheduleConfig, minIntervalMs: number, label: string): string | null {
  const shortest = shortestIntervalMs(config);
  if (shortest === null || shortest >= minIntervalMs) return null;
  return `The schedule trigger "${label}" would run every ${describeInterval(shortest)}; schedules run at most once every ${describeInterval(minIntervalMs)}. Choose a longer interval.`;
}

/**
 * The schedule trigger of a workflow graph (docs/contract.md §10.2): the FIRST trigger node whose trigger
 * kind is `schedule` and that has a `data.scheduleConfig` (null counts as absent); nodes the graph parser
 * leaves out are skipped instead of aborting the scan. Returns null when none.
 *
 * `label` is the node's label (src/engine/graph.ts); `rawConfig` is `data.scheduleConfig` as-is (validate
 * it with parseScheduleConfig).
 */
export function findScheduleTrigger(graph: unknown): { nodeId: string; label: string; rawConfig: unknown } | null {
  const trigger = parseGraph(graph)
    .graph.triggers('schedule')
    .find((node) => !isAbsent(node.data.scheduleConfig));
  return trigger ? { nodeId: trigger.id, label: nodeLabel(trigger), rawConfig: trigger.data.scheduleConfig } : null;
}
