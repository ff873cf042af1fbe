import { DateTime } from 'luxon';
import {
  computeNextRun,
  CronScheduleConfig,
  describeInterval,
  DsentrScheduleConfig,
  findScheduleTrigger,
  latestRunAtOrBefore,
  nextRunAfter,
  parseScheduleConfig,
  ScheduleConfig,
  shortestIntervalMs,
} from './schedule-math';

const d = (iso: string): Date => new Date(iso);
const iso = (date: Date | null): string | null => (date ? date.toISOString() : null);
const local = (date: Date | null, zone: string): DateTime => DateTime.fromJSDate(date!, { zone });

function parsed(value: unknown): ScheduleConfig {
  const result = parseScheduleConfig(value);
  if ('error' in result) throw new Error(`unexpected error: ${result.error}`);
  return result.config;
}

function errorOf(value: unknown): string {
  const result = parseScheduleConfig(value);
  if (!('error' in result)) throw new Error(`expected an error for ${JSON.stringify(value)}`);
  return result.error;
}

const next = (config: ScheduleConfig, lastRunAt: string | null, now: string): string | null =>
  iso(computeNextRun(config, lastRunAt === null ? null : d(lastRunAt), d(now)));

describe('parseScheduleConfig', () => {
  it('accepts the DSentr format and normalizes it', () => {
    expect(
      parseScheduleConfig({
        startDate: '2025-01-31',
        startTime: '09:30',
        timezone: 'Europe/Paris',
        repeat: { every: 15, unit: 'minutes' },
      }),
    ).toEqual({
      config: {
        startDate: '2025-01-31',
        startTime: '09:30',
        timezone: 'Europe/Paris',
        repeat: { every: 15, unit: 'minutes' },
      },
    });
  });

  it('defaults startTime to 00:00, timezone to UTC and repeat to one-shot', () => {
    expect(parseScheduleConfig({ startDate: '2025-01-31' })).toEqual({
      config: { startDate: '2025-01-31', startTime: '00:00', timezone: 'UTC', repeat: null },
    });
    expect(parseScheduleConfig({ startDate: '2025-01-31', startTime: '', timezone: '  ', repeat: null })).toEqual({
      config: { startDate: '2025-01-31', startTime: '00:00', timezone: 'UTC', repeat: null },
    });
  });

  it.each([
    ['minute', 'minutes'],
    ['Minutes', 'minutes'],
    ['HOUR', 'hours'],
    ['hours', 'hours'],
    ['Day', 'days'],
    ['days', 'days'],
    ['week', 'weeks'],
    [' WEEKS ', 'weeks'],
  ])('accepts unit %j (case-insensitive, singular or plural) as %s', (unit, canonical) => {
    const config = parsed({ startDate: '2025-01-01', repeat: { every: 2, unit } }) as DsentrScheduleConfig;
    expect(config.repeat).toEqual({ every: 2, unit: canonical });
  });

  it('accepts a numeric string for every', () => {
    const config = parsed({ startDate: '2025-01-01', repeat: { every: '3', unit: 'days' } }) as DsentrScheduleConfig;
    expect(config.repeat).toEqual({ every: 3, unit: 'days' });
  });

  it('accepts HH:MM:SS start times', () => {
    const config = parsed({ startDate: '2025-01-01', startTime: '07:05:30' });
    expect(next(config, null, '2024-01-01T00:00:00Z')).toBe('2025-01-01T07:05:30.000Z');
  });

  it('rejects an unknown time zone', () => {
    expect(errorOf({ startDate: '2025-01-01', timezone: 'Mars/Olympus_Mons' })).toMatch(/unknown time zone/);
    expect(errorOf({ startDate: '2025-01-01', timezone: 42 })).toMatch(/timezone/);
  });

  it('rejects an unknown unit', () => {
    expect(errorOf({ startDate: '2025-01-01', repeat: { every: 1, unit: 'fortnight' } })).toMatch(
      /unknown repeat unit "fortnight"/,
    );
    expect(errorOf({ startDate: '2025-01-01', repeat: { every: 1, unit: 'months' } })).toMatch(/unknown repeat unit/);
    expect(errorOf({ startDate: '2025-01-01', repeat: { every: 1 } })).toMatch(/unknown repeat unit/);
  });

  it.each([0, -1, -15, '0', '-2'])('rejects every = %j (must be > 0)', (every) => {
    expect(errorOf({ startDate: '2025-01-01', repeat: { every, unit: 'minutes' } })).toMatch(/greater than 0/);
  });

  it.each([1.5, NaN, Infinity, 'abc', null, undefined, true])('rejects non-integer every = %p', (every) => {
    expect(errorOf({ startDate: '2025-01-01', repeat: { every, unit: 'minutes' } })).toMatch(/positive integer/);
  });

  it('rejects a repeat that is not an object', () => {
    expect(errorOf({ startDate: '2025-01-01', repeat: 'daily' })).toMatch(/repeat must be an object/);
  });

  it.each(['2025-02-30', '2025-13-01', '2025-00-10', '2025/01/01', '25-01-01', 'tomorrow', '2025-1-1', 20250101])(
    'rejects the bad startDate %p',
    (startDate) => {
      expect(errorOf({ startDate, startTime: '09:00' })).toMatch(/startDate/);
    },
  );

  it('accepts 29 February only in leap years', () => {
    expect(parseScheduleConfig({ startDate: '2024-02-29' })).toHaveProperty('config');
    expect(errorOf({ startDate: '2025-02-29' })).toMatch(/invalid startDate/);
  });

  it('requires a startDate', () => {
    expect(errorOf({})).toMatch(/startDate is required/);
    expect(errorOf({ startTime: '09:00', timezone: 'UTC' })).toMatch(/startDate is required/);
    expect(errorOf({ startDate: '' })).toMatch(/startDate is required/);
  });

  it.each(['24:00', '9', '09:60', '9h30', 930])('rejects the bad startTime %p', (startTime) => {
    expect(errorOf({ startDate: '2025-01-01', startTime })).toMatch(/startTime/);
  });

  it('rejects values that are not objects', () => {
    for (const value of [null, undefined, 'x', 42, [], [{ startDate: '2025-01-01' }]]) {
      expect(errorOf(value)).toBe('scheduleConfig must be an object');
    }
  });

  it('rejects a start local time inside a DST gap', () => {
    // Europe/Paris jumps from 02:00 to 03:00 on 2025-03-30.
    expect(parseScheduleConfig({ startDate: '2025-03-30', startTime: '02:30', timezone: 'Europe/Paris' })).toEqual({
      error: 'start time does not exist in Europe/Paris (DST gap)',
    });
    expect(errorOf({ startDate: '2025-03-09', startTime: '02:00', timezone: 'America/New_York' })).toBe(
      'start time does not exist in America/New_York (DST gap)',
    );
    // The edges of the gap exist.
    expect(
      parseScheduleConfig({ startDate: '2025-03-30', startTime: '01:59', timezone: 'Europe/Paris' }),
    ).toHaveProperty('config');
    expect(
      parseScheduleConfig({ startDate: '2025-03-30', startTime: '03:00', timezone: 'Europe/Paris' }),
    ).toHaveProperty('config');
  });

  it('never throws, even on hostile input', () => {
    const hostile = {
      get startDate(): string {
        throw new Error('boom');
      },
    };
    expect(parseScheduleConfig(hostile)).toEqual({ error: expect.stringContaining('boom') as string });
    const circular: Record<string, unknown> = { startDate: '2025-01-01' };
    circular.repeat = { every: circular, unit: 'days' };
    expect(parseScheduleConfig(circular)).toHaveProperty('error');
  });

  describe('cron', () => {
    it('accepts 5- and 6-field expressions and defaults the zone to UTC', () => {
      expect(parseScheduleConfig({ cron: ' 0 9 * * * ' })).toEqual({ config: { cron: '0 9 * * *', timezone: 'UTC' } });
      expect(parseScheduleConfig({ cron: '30 0 9 * * MON-FRI', timezone: 'America/New_York' })).toEqual({
        config: { cron: '30 0 9 * * MON-FRI', timezone: 'America/New_York' },
      });
      expect(parseScheduleConfig({ cron: '0 9 * * THU' })).toHaveProperty('config');
      expect(parseScheduleConfig({ cron: '@daily' })).toHaveProperty('config');
    });

    it.each([
      ['61 * * * *', /invalid cron expression/],
      ['* * * *', /expected 5 fields/],
      ['* * * * * * *', /expected 5 fields/],
      ['0 9 * * * 2030', /invalid cron expression/], // 6 fields: the last one is the weekday
      ['not a cron', /invalid cron expression/],
      ['H * * * *', /hashed/],
      ['', /empty/],
      ['   ', /empty/],
      ['@sometimes', /invalid cron expression/],
    ])('rejects %j', (cron, message) => {
      expect(errorOf({ cron })).toMatch(message);
    });

    it('rejects a cron expression that never fires', () => {
      expect(errorOf({ cron: '0 0 30 2 *' })).toMatch(/never fires/);
      expect(errorOf({ cron: '0 0 31 4,6 *' })).toMatch(/never fires/);
    });

    it('rejects a non-string cron, an unknown zone, and cron mixed with startDate', () => {
      expect(errorOf({ cron: 5 })).toMatch(/cron must be a string/);
      expect(errorOf({ cron: '0 9 * * *', timezone: 'Nowhere/Land' })).toMatch(/unknown time zone/);
      expect(errorOf({ cron: '0 9 * * *', startDate: '2025-01-01' })).toMatch(/either cron or startDate/);
    });
  });
});

describe('computeNextRun (DSentr format)', () => {
  describe('one-shot', () => {
    const config = parsed({ startDate: '2030-01-01', startTime: '10:00', timezone: 'Europe/Paris' });

    it('returns the start when it is in the future', () => {
      expect(next(config, null, '2025-06-01T00:00:00Z')).toBe('2030-01-01T09:00:00.000Z');
    });

    it('returns the start when it is exactly now', () => {
      expect(next(config, null, '2030-01-01T09:00:00Z')).toBe('2030-01-01T09:00:00.000Z');
    });

    it('returns the past start when it has not run yet (fires on the next poll)', () => {
      expect(next(config, null, '2031-05-05T00:00:00Z')).toBe('2030-01-01T09:00:00.000Z');
    });

    it('returns null once it has run', () => {
      expect(next(config, '2030-01-01T09:00:02Z', '2030-01-01T09:00:03Z')).toBeNull();
      expect(next(config, '2020-01-01T00:00:00Z', '2025-01-01T00:00:00Z')).toBeNull();
    });
  });

  it('resolves the start in the schedule zone (reference example)', () => {
    const config = parsed({
      startDate: '2025-01-31',
      startTime: '09:30',
      timezone: 'Europe/Paris',
      repeat: { every: 15, unit: 'minutes' },
    });
    expect(next(config, null, '2025-01-01T00:00:00Z')).toBe('2025-01-31T08:30:00.000Z');
  });

  describe('every 15 minutes', () => {
    const config = parsed({ startDate: '2020-01-01', startTime: '00:00', repeat: { every: 15, unit: 'minutes' } });

    it('catches up from an old start to the first slot >= now', () => {
      expect(next(config, null, '2025-06-15T10:07:13.500Z')).toBe('2025-06-15T10:15:00.000Z');
    });

    it('returns now when now is exactly on a slot', () => {
      expect(next(config, null, '2025-06-15T10:15:00Z')).toBe('2025-06-15T10:15:00.000Z');
    });

    it('with lastRunAt = the due time, returns the following slot', () => {
      expect(next(config, '2025-06-15T10:15:00Z', '2025-06-15T10:15:00.200Z')).toBe('2025-06-15T10:30:00.000Z');
    });

    it('with lastRunAt = a late firing time, stays aligned to the start anchor (no drift on re-save)', () => {
      // The reference would answer lastRunAt + 15 min = 10:30:07.
      expect(next(config, '2025-06-15T10:15:07Z', '2025-06-15T10:16:00Z')).toBe('2025-06-15T10:30:00.000Z');
    });

    it('with an old lastRunAt, skips the missed slots', () => {
      expect(next(config, '2025-06-15T10:15:00Z', '2025-06-15T12:07:00Z')).toBe('2025-06-15T12:15:00.000Z');
    });

    it('with lastRunAt later than now (clock skew), returns the slot after lastRunAt', () => {
      expect(next(config, '2025-06-15T10:15:00Z', '2025-06-15T10:00:00Z')).toBe('2025-06-15T10:30:00.000Z');
    });
  });

  it('with lastRunAt before a (moved) future start, returns the start', () => {
    const config = parsed({ startDate: '2026-01-01', startTime: '08:00', repeat: { every: 1, unit: 'day' } });
    expect(next(config, '2025-03-01T08:00:00Z', '2025-06-01T00:00:00Z')).toBe('2026-01-01T08:00:00.000Z');
  });

  describe('daily 09:00 Europe/Paris (calendar days across DST)', () => {
    const zone = 'Europe/Paris';
    const config = parsed({
      startDate: '2025-01-01',
      startTime: '09:00',
      timezone: zone,
      repeat: { every: 1, unit: 'days' },
    });

    it('keeps 09:00 local across the March change (UTC instant moves one hour earlier)', () => {
      const before = computeNextRun(config, null, d('2025-03-28T12:00:00Z'));
      const after = computeNextRun(config, null, d('2025-03-29T12:00:00Z'));
      expect(iso(before)).toBe('2025-03-29T08:00:00.000Z'); // CET, UTC+1
      expect(iso(after)).toBe('2025-03-30T07:00:00.000Z'); // CEST, UTC+2
      expect(local(before, zone).hour).toBe(9);
      expect(local(after, zone).hour).toBe(9);
      expect(after!.getTime() - before!.getTime()).toBe(23 * 3600_000);
    });

    it('keeps 09:00 local across the October change (UTC instant moves one hour later)', () => {
      const before = computeNextRun(config, null, d('2025-10-24T12:00:00Z'));
      const after = computeNextRun(config, null, d('2025-10-25T12:00:00Z'));
      expect(iso(before)).toBe('2025-10-25T07:00:00.000Z'); // CEST
      expect(iso(after)).toBe('2025-10-26T08:00:00.000Z'); // CET
      expect(local(before, zone).hour).toBe(9);
      expect(local(after, zone).hour).toBe(9);
      expect(after!.getTime() - before!.getTime()).toBe(25 * 3600_000);
    });

    it('with lastRunAt across the change, returns the next 09:00 local', () => {
      expect(next(config, '2025-03-29T08:00:04Z', '2025-03-29T08:00:05Z')).toBe('2025-03-30T07:00:00.000Z');
      expect(next(config, '2025-10-25T07:00:04Z', '2025-10-25T07:00:05Z')).toBe('2025-10-26T08:00:00.000Z');
    });

    it('fires once per local day at 09:00 for a whole year when chained like the worker does', () => {
      let due = computeNextRun(config, null, d('2025-01-01T00:00:00Z'))!;
      let previous = local(due, zone);
      for (let i = 0; i < 365; i++) {
        const firedAt = new Date(due.getTime() + 1500);
        due = computeNextRun(config, due, firedAt)!;
        const current = local(due, zone);
        expect([current.hour, current.minute]).toEqual([9, 0]);
        expect(current.startOf('day').diff(previous.startOf('day'), 'days').days).toBe(1);
        previous = current;
      }
      expect(previous.toISODate()).toBe('2026-01-01');
    });
  });

  it('every 3 days counts calendar days from the start', () => {
    const config = parsed({ startDate: '2025-01-01', startTime: '06:00', repeat: { every: 3, unit: 'days' } });
    expect(next(config, null, '2025-01-05T00:00:00Z')).toBe('2025-01-07T06:00:00.000Z');
    expect(next(config, '2025-01-07T06:00:00Z', '2025-01-07T06:00:01Z')).toBe('2025-01-10T06:00:00.000Z');
  });

  describe('weekly', () => {
    const zone = 'Europe/Paris';

    it('stays on the same weekday and local time across DST', () => {
      // 2025-01-06 is a Monday.
      const config = parsed({
        startDate: '2025-01-06',
        startTime: '08:00',
        timezone: zone,
        repeat: { every: 1, unit: 'week' },
      });
      expect(next(config, null, '2025-01-01T00:00:00Z')).toBe('2025-01-06T07:00:00.000Z');
      expect(next(config, null, '2025-01-06T07:00:00.001Z')).toBe('2025-01-13T07:00:00.000Z');
      const summer = computeNextRun(config, null, d('2025-04-02T00:00:00Z'));
      expect(iso(summer)).toBe('2025-04-07T06:00:00.000Z');
      expect(local(summer, zone).weekday).toBe(1);
      expect(local(summer, zone).hour).toBe(8);
    });

    it('every 2 weeks skips the off weeks', () => {
      const config = parsed({ startDate: '2025-01-06', startTime: '08:00', repeat: { every: 2, unit: 'weeks' } });
      expect(next(config, null, '2025-01-14T00:00:00Z')).toBe('2025-01-20T08:00:00.000Z');
      expect(next(config, '2025-01-20T08:00:00Z', '2025-01-21T00:00:00Z')).toBe('2025-02-03T08:00:00.000Z');
    });
  });

  describe('hourly across DST (absolute durations)', () => {
    const zone = 'Europe/Paris';
    const config = parsed({
      startDate: '2025-03-30',
      startTime: '00:00',
      timezone: zone,
      repeat: { every: 1, unit: 'hour' },
    });

    it('advances in real hours: the local hour jumps from 01:00 to 03:00 in March', () => {
      const a = computeNextRun(config, null, d('2025-03-29T23:30:00Z'));
      const b = computeNextRun(config, null, d('2025-03-30T00:30:00Z'));
      expect(iso(a)).toBe('2025-03-30T00:00:00.000Z');
      expect(iso(b)).toBe('2025-03-30T01:00:00.000Z');
      expect(local(a, zone).hour).toBe(1);
      expect(local(b, zone).hour).toBe(3);
    });

    it('every 24 hours drifts by one hour of local time across DST (unlike every 1 day)', () => {
      const hours24 = parsed({
        startDate: '2025-03-29',
        startTime: '09:00',
        timezone: zone,
        repeat: { every: 24, unit: 'hours' },
      });
      const result = computeNextRun(hours24, null, d('2025-03-29T09:00:00Z'));
      expect(iso(result)).toBe('2025-03-30T08:00:00.000Z');
      expect(local(result, zone).hour).toBe(10);
    });
  });

  describe('DST fold (ambiguous local times)', () => {
    it('resolves an ambiguous start to the earlier instant', () => {
      // Europe/Paris repeats 02:00–03:00 on 2025-10-26: 02:30 is 00:30Z (CEST) and 01:30Z (CET).
      const paris = parsed({ startDate: '2025-10-26', startTime: '02:30', timezone: 'Europe/Paris' });
      expect(next(paris, null, '2025-01-01T00:00:00Z')).toBe('2025-10-26T00:30:00.000Z');
      // America/New_York repeats 01:00–02:00 on 2025-11-02: 01:30 is 05:30Z (EDT) and 06:30Z (EST).
      const ny = parsed({ startDate: '2025-11-02', startTime: '01:30', timezone: 'America/New_York' });
      expect(next(ny, null, '2025-01-01T00:00:00Z')).toBe('2025-11-02T05:30:00.000Z');
    });

    it('a daily schedule fires once on the fold day (earlier instant) then keeps its local time', () => {
      const config = parsed({
        startDate: '2025-10-20',
        startTime: '02:30',
        timezone: 'Europe/Paris',
        repeat: { every: 1, unit: 'day' },
      });
      expect(next(config, '2025-10-25T00:30:00Z', '2025-10-25T00:30:01Z')).toBe('2025-10-26T00:30:00.000Z');
      expect(next(config, '2025-10-26T00:30:00Z', '2025-10-26T00:30:01Z')).toBe('2025-10-27T01:30:00.000Z');
    });
  });

  it('a daily occurrence that falls in a DST gap runs at the shifted local time, without moving the anchor', () => {
    const config = parsed({
      startDate: '2025-03-01',
      startTime: '02:30',
      timezone: 'Europe/Paris',
      repeat: { every: 1, unit: 'day' },
    });
    // 02:30 does not exist on 2025-03-30: runs at 03:30 CEST (01:30Z) that day.
    expect(next(config, '2025-03-29T01:30:00Z', '2025-03-29T01:30:01Z')).toBe('2025-03-30T01:30:00.000Z');
    // And back to 02:30 CEST (00:30Z) the next day.
    expect(next(config, '2025-03-30T01:30:00Z', '2025-03-30T01:30:01Z')).toBe('2025-03-31T00:30:00.000Z');
  });

  // Closed form, not a walk over past occurrences: walking minute by minute from these start dates
  // would take hundreds of millions of steps per call and never finish within the test's timeout.
  describe('far-past start dates', () => {
    it('a 1-minute schedule started a century ago computes exactly', () => {
      const config = parsed({ startDate: '1925-03-17', startTime: '00:00', repeat: { every: 1, unit: 'minute' } });
      for (let i = 0; i < 1000; i++) {
        expect(next(config, null, '2025-06-15T10:07:13.500Z')).toBe('2025-06-15T10:08:00.000Z');
      }
      expect(next(config, '2025-06-15T10:08:00Z', '2025-06-15T10:08:00.010Z')).toBe('2025-06-15T10:09:00.000Z');
    });

    it('a daily schedule started decades ago computes exactly', () => {
      const config = parsed({
        startDate: '1971-01-01',
        startTime: '09:00',
        timezone: 'Europe/Paris',
        repeat: { every: 1, unit: 'day' },
      });
      for (let i = 0; i < 200; i++) {
        expect(next(config, null, '2025-07-01T12:00:00Z')).toBe('2025-07-02T07:00:00.000Z');
      }
    });
  });

  it('returns null for invalid configs or dates instead of throwing', () => {
    const good = parsed({ startDate: '2025-01-01', repeat: { every: 1, unit: 'day' } });
    expect(computeNextRun({ startDate: 'nope' }, null, d('2025-01-01T00:00:00Z'))).toBeNull();
    expect(computeNextRun({ startDate: '2025-01-01', repeat: { every: 0, unit: 'day' } }, null, new Date())).toBeNull();
    expect(computeNextRun({ cron: 'bad' }, null, new Date())).toBeNull();
    expect(computeNextRun(good, null, new Date(NaN))).toBeNull();
    expect(computeNextRun(good, new Date(NaN), new Date())).toBeNull();
  });

  it('accepts un-normalized configs (as stored) directly', () => {
    const raw: DsentrScheduleConfig = {
      startDate: '2025-01-01',
      startTime: '09:00',
      timezone: '',
      repeat: { every: 2, unit: 'HOURS' },
    };
    expect(next(raw, null, '2025-01-01T10:00:00Z')).toBe('2025-01-01T11:00:00.000Z');
  });
});

describe('computeNextRun (cron)', () => {
  it("evaluates '0 9 * * *' in America/New_York across the March DST change", () => {
    const config: CronScheduleConfig = { cron: '0 9 * * *', timezone: 'America/New_York' };
    const before = computeNextRun(config, null, d('2025-03-07T15:00:00Z'));
    const after = computeNextRun(config, null, d('2025-03-08T15:00:00Z'));
    expect(iso(before)).toBe('2025-03-08T14:00:00.000Z'); // EST, UTC-5
    expect(iso(after)).toBe('2025-03-09T13:00:00.000Z'); // EDT, UTC-4
    expect(local(before, 'America/New_York').hour).toBe(9);
    expect(local(after, 'America/New_York').hour).toBe(9);
  });

  it("evaluates '0 9 * * *' in America/New_York across the November DST change", () => {
    const config: CronScheduleConfig = { cron: '0 9 * * *', timezone: 'America/New_York' };
    expect(next(config, null, '2025-10-31T15:00:00Z')).toBe('2025-11-01T13:00:00.000Z');
    expect(next(config, null, '2025-11-01T15:00:00Z')).toBe('2025-11-02T14:00:00.000Z');
  });

  it('defaults to UTC', () => {
    expect(next({ cron: '0 9 * * *' }, null, '2025-03-08T15:00:00Z')).toBe('2025-03-09T09:00:00.000Z');
  });

  it('without lastRunAt returns the first occurrence >= now (now itself when it matches)', () => {
    expect(next({ cron: '*/15 * * * *' }, null, '2025-01-03T10:15:00Z')).toBe('2025-01-03T10:15:00.000Z');
    expect(next({ cron: '*/15 * * * *' }, null, '2025-01-03T10:15:00.001Z')).toBe('2025-01-03T10:30:00.000Z');
  });

  it('catching up after missed runs returns the first occurrence >= now', () => {
    expect(next({ cron: '*/15 * * * *' }, '2025-01-01T00:00:00Z', '2025-01-03T10:07:00Z')).toBe(
      '2025-01-03T10:15:00.000Z',
    );
  });

  it('with lastRunAt = the due time, returns the occurrence strictly after it', () => {
    expect(next({ cron: '*/15 * * * *' }, '2025-01-03T10:15:00Z', '2025-01-03T10:15:00Z')).toBe(
      '2025-01-03T10:30:00.000Z',
    );
  });

  it('with lastRunAt later than now, returns the occurrence after lastRunAt', () => {
    expect(next({ cron: '0 * * * *' }, '2025-01-03T11:00:00Z', '2025-01-03T10:30:00Z')).toBe(
      '2025-01-03T12:00:00.000Z',
    );
  });

  it('supports a seconds field', () => {
    expect(next({ cron: '30 0 9 * * *', timezone: 'Europe/Paris' }, null, '2025-07-01T00:00:00Z')).toBe(
      '2025-07-01T07:00:30.000Z',
    );
  });

  it('handles sparse expressions (29 February)', () => {
    expect(next({ cron: '0 0 29 2 *' }, null, '2025-03-01T00:00:00Z')).toBe('2028-02-29T00:00:00.000Z');
  });
});

describe('latestRunAtOrBefore and nextRunAfter (what the scheduler fires after downtime, and next)', () => {
  const latest = (config: ScheduleConfig, at: string) => iso(latestRunAtOrBefore(config, d(at)));
  const after = (config: ScheduleConfig, at: string) => iso(nextRunAfter(config, d(at)));

  it('every 15 minutes: the most recent due time, the same one when exactly due, none before the start', () => {
    const config = parsed({ startDate: '2025-01-31', startTime: '09:30', repeat: { every: 15, unit: 'minutes' } });
    expect(latest(config, '2025-02-01T10:07:00Z')).toBe('2025-02-01T10:00:00.000Z');
    expect(latest(config, '2025-02-01T10:00:00Z')).toBe('2025-02-01T10:00:00.000Z');
    expect(latest(config, '2025-01-31T09:29:59Z')).toBeNull();
    expect(after(config, '2025-02-01T10:00:00Z')).toBe('2025-02-01T10:15:00.000Z');
  });

  it('a one-shot: its start once due, and nothing after it has fired', () => {
    const config = parsed({ startDate: '2025-01-31', startTime: '09:30' });
    expect(latest(config, '2025-03-01T00:00:00Z')).toBe('2025-01-31T09:30:00.000Z');
    expect(after(config, '2025-01-31T09:30:00Z')).toBeNull();
  });

  it('daily at 09:00 Europe/Paris stays at 09:00 local across the March and October DST changes', () => {
    const config = parsed({
      startDate: '2025-03-01',
      startTime: '09:00',
      timezone: 'Europe/Paris',
      repeat: { every: 1, unit: 'day' },
    });
    // Before the change 09:00 CET = 08:00Z; after it 09:00 CEST = 07:00Z.
    expect(latest(config, '2025-03-30T06:00:00Z')).toBe('2025-03-29T08:00:00.000Z');
    expect(after(config, '2025-03-29T08:00:00Z')).toBe('2025-03-30T07:00:00.000Z');
    expect(latest(config, '2025-03-30T07:00:00Z')).toBe('2025-03-30T07:00:00.000Z');
    expect(latest(config, '2025-10-26T07:59:00Z')).toBe('2025-10-25T07:00:00.000Z');
    expect(after(config, '2025-10-25T07:00:00Z')).toBe('2025-10-26T08:00:00.000Z');
    for (const due of ['2025-03-29T08:00:00Z', '2025-03-30T07:00:00Z', '2025-10-26T08:00:00Z']) {
      expect(local(latestRunAtOrBefore(config, d(due)), 'Europe/Paris').toFormat('HH:mm')).toBe('09:00');
    }
  });

  it('hourly in absolute time across the autumn fold: 25 due times that day, none doubled or lost', () => {
    const config = parsed({
      startDate: '2025-10-26',
      startTime: '00:00',
      timezone: 'Europe/Paris',
      repeat: { every: 1, unit: 'hour' },
    });
    const times: string[] = [];
    let at: Date | null = latestRunAtOrBefore(config, d('2025-10-26T00:00:00+02:00'));
    while (at && at < d('2025-10-27T00:00:00+01:00')) {
      times.push(at.toISOString());
      at = nextRunAfter(config, at);
    }
    expect(times).toHaveLength(25);
    expect(new Set(times).size).toBe(25);
  });

  it('cron in a zone: the previous occurrence, across the spring gap', () => {
    const config = parsed({ cron: '30 2 * * *', timezone: 'America/New_York' });
    // 02:30 does not exist on 2025-03-09 in New York.
    expect(latest(config, '2025-03-10T12:00:00Z')).toBe('2025-03-10T06:30:00.000Z');
    expect(latest(config, '2025-03-08T12:00:00Z')).toBe('2025-03-08T07:30:00.000Z');
    expect(after(config, '2025-03-10T06:30:00Z')).toBe('2025-03-11T06:30:00.000Z');
  });

  it('never throws on bad input', () => {
    expect(latestRunAtOrBefore({ startDate: 'nope' } as never, d('2025-01-01T00:00:00Z'))).toBeNull();
    expect(latestRunAtOrBefore(parsed({ cron: '* * * * *' }), new Date(NaN))).toBeNull();
  });
});

describe('findScheduleTrigger', () => {
  const configA = { startDate: '2025-01-01', repeat: { every: 1, unit: 'day' } };
  const configB = { cron: '0 9 * * *' };

  it('picks the first schedule trigger, skipping malformed nodes and non-schedule triggers', () => {
    const graph = {
      nodes: [
        null,
        'not a node',
        42,
        { id: 'x1', data: { triggerType: 'Schedule', scheduleConfig: configB } }, // no type
        { id: 'x2', type: 7, data: { triggerType: 'Schedule', scheduleConfig: configB } }, // non-string type
        { id: 'x3', type: 'trigger' }, // no data
        { id: 'x4', type: 'trigger', data: 'oops' },
        { id: 'x5', type: 'trigger', data: { triggerType: 'Webhook', scheduleConfig: configB } },
        { id: 'x6', type: 'trigger', data: { label: 'Manual' } },
        { id: 'x7', type: 'trigger', data: { triggerType: 'Schedule' } }, // no scheduleConfig
        { id: 'x8', type: 'trigger', data: { triggerType: 'Schedule', scheduleConfig: null } },
        { id: 'x9', type: 'Trigger', data: { triggerType: 'Schedule', scheduleConfig: configB } }, // type not exact
        { id: 'x10', type: 'actionHttp', data: { triggerType: 'Schedule', scheduleConfig: configB } },
        { id: 'x11', type: 'trigger', data: { triggerType: 'NotionNewDatabaseRow', scheduleConfig: configB } },
        { type: 'trigger', data: { triggerType: 'Schedule', scheduleConfig: configB } }, // no id
        {
          id: 'sched-1',
          type: 'trigger',
          data: { triggerType: 'SCHEDULE', label: '  Nightly ', scheduleConfig: configA },
        },
        { id: 'sched-2', type: 'trigger', data: { triggerType: 'Schedule', label: 'Other', scheduleConfig: configB } },
      ],
      edges: [],
    };
    const found = findScheduleTrigger(graph);
    expect(found).toEqual({ nodeId: 'sched-1', label: 'Nightly', rawConfig: configA });
    expect(found!.rawConfig).toBe(configA);
  });

  it('falls back to the node id when the label is empty, and returns the raw config as-is', () => {
    const raw = { whatever: true };
    const graph = {
      nodes: [
        { id: 'trigger-1', type: 'trigger', data: { triggerType: 'schedule', label: '  ', scheduleConfig: raw } },
      ],
    };
    expect(findScheduleTrigger(graph)).toEqual({ nodeId: 'trigger-1', label: 'trigger-1', rawConfig: raw });
  });

  it('skips numeric node ids, as graph validation refuses them', () => {
    const graph = { nodes: [{ id: 3, type: 'trigger', data: { triggerType: 'Schedule', scheduleConfig: configA } }] };
    expect(findScheduleTrigger(graph)).toBeNull();
  });

  it('returns null when there is no schedule trigger or the graph is malformed', () => {
    expect(findScheduleTrigger({ nodes: [{ id: 't', type: 'trigger', data: { triggerType: 'Manual' } }] })).toBeNull();
    expect(findScheduleTrigger({ nodes: [] })).toBeNull();
    expect(findScheduleTrigger({ nodes: 'x' })).toBeNull();
    expect(findScheduleTrigger({})).toBeNull();
    expect(findScheduleTrigger(null)).toBeNull();
    expect(findScheduleTrigger('{"nodes":[]}')).toBeNull();
    expect(findScheduleTrigger([])).toBeNull();
  });
});

describe('shortestIntervalMs (what the minimum schedule interval is checked against)', () => {
  const cron = (expression: string, timezone = 'UTC') => shortestIntervalMs({ cron: expression, timezone });
  const SECOND = 1000;
  const MINUTE = 60 * SECOND;

  it('cron: the smallest gap between consecutive firings, seconds included', () => {
    expect(cron('* * * * * *')).toBe(SECOND);
    expect(cron('*/7 * * * * *')).toBe(4 * SECOND); // :56 then :00 of the next minute
    expect(cron('0,30 * * * * *')).toBe(30 * SECOND);
    expect(cron('* * * * *')).toBe(MINUTE);
    expect(cron('*/5 * * * *')).toBe(5 * MINUTE);
    expect(cron('@hourly')).toBe(60 * MINUTE);
    expect(cron('30 9 * * 1-5', 'America/New_York')).toBe(24 * 60 * MINUTE);
    expect(cron('0 0 1 1 *')).toBe(24 * 60 * MINUTE);
  });

  it('cron: a short gap that only occurs across midnight, or late in the day, is found', () => {
    // 00:00, 00:59, 23:00, 23:59: 23:59 → 00:00 the next day is one minute.
    expect(cron('0,59 0,23 * * *')).toBe(MINUTE);
    // Only on the 1st and 2nd of January: a sample of the next firings from most dates would not see it.
    expect(cron('0,59 0,23 1,2 1 *')).toBe(MINUTE);
    // Every 10 minutes, plus one firing 5 seconds after 23:50.
    expect(cron('0,5 */10 * * * *')).toBe(5 * SECOND);
    expect(cron('0 0,10,20,30,40,50 * * * *')).toBe(10 * MINUTE);
  });

  it('DSentr repeats: every × unit; one-shots and invalid configs have none', () => {
    expect(shortestIntervalMs(parsed({ startDate: '2030-01-01', repeat: { every: 1, unit: 'minute' } }))).toBe(MINUTE);
    expect(shortestIntervalMs(parsed({ startDate: '2030-01-01', repeat: { every: 15, unit: 'minutes' } }))).toBe(
      15 * MINUTE,
    );
    expect(shortestIntervalMs(parsed({ startDate: '2030-01-01', repeat: { every: 2, unit: 'hours' } }))).toBe(
      120 * MINUTE,
    );
    expect(shortestIntervalMs(parsed({ startDate: '2030-01-01', repeat: { every: 1, unit: 'week' } }))).toBe(
      7 * 24 * 60 * MINUTE,
    );
    expect(shortestIntervalMs(parsed({ startDate: '2030-01-01' }))).toBeNull();
    expect(shortestIntervalMs({ cron: 'not a cron' })).toBeNull();
  });

  it('is quick for the densest expression (no sampling)', () => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < 20; i += 1) cron('* * * * * *');
    expect(Number(process.hrtime.bigint() - started) / 1e6 / 20).toBeLessThan(100);
  });

  it('describeInterval writes durations as a person would', () => {
    expect(describeInterval(SECOND)).toBe('1 second');
    expect(describeInterval(90 * SECOND)).toBe('90 seconds');
    expect(describeInterval(MINUTE)).toBe('1 minute');
    expect(describeInterval(15 * MINUTE)).toBe('15 minutes');
    expect(describeInterval(120 * MINUTE)).toBe('2 hours');
  });
});
