import { DateTime } from 'luxon';
import {
  formatNamed,
  formatRfc3339,
  parseAnyDate,
  parseDateAs,
  parseRfc3339,
  renderDatePieces,
  tokeniseDateFormat,
} from './dates';

describe('engine dates', () => {
  it('parseRfc3339 needs an offset, accepts chrono separators and returns UTC', () => {
    expect(parseRfc3339('2025-01-02T03:04:05+02:00')?.toISO()).toBe('2025-01-02T01:04:05.000Z');
    expect(parseRfc3339(' 2025-01-02t03:04:05z ')?.toISO()).toBe('2025-01-02T03:04:05.000Z');
    expect(parseRfc3339('2025-01-02 03:04:05.25Z')?.toISO()).toBe('2025-01-02T03:04:05.250Z');
    expect(parseRfc3339('2025-01-02T03:04:05')).toBeNull();
    expect(parseRfc3339('2025-02-30T00:00:00Z')).toBeNull();
  });

  it("formatRfc3339 writes chrono style, milliseconds only when non-zero, in the date's zone", () => {
    expect(formatRfc3339(DateTime.utc(2025, 1, 2, 3, 4, 5))).toBe('2025-01-02T03:04:05+00:00');
    expect(formatRfc3339(DateTime.utc(2025, 1, 2, 3, 4, 5, 120))).toBe('2025-01-02T03:04:05.120+00:00');
    const tokyo = DateTime.utc(2025, 1, 2, 3, 4, 5).setZone('Asia/Tokyo');
    expect(formatRfc3339(tokyo)).toBe('2025-01-02T12:04:05+09:00');
  });

  it('parseDateAs reads exactly the named format', () => {
    expect(parseDateAs('01/02/2025', 'us_short')?.toISODate()).toBe('2025-01-02');
    expect(parseDateAs('2025-01-02', 'us_short')).toBeNull();
    expect(parseDateAs('1700000000', 'unix_seconds')?.toMillis()).toBe(1_700_000_000_000);
  });

  it('parseAnyDate reads a bare integer as seconds below 1e11 and milliseconds from there', () => {
    expect(parseAnyDate('1700000000')?.toMillis()).toBe(1_700_000_000_000);
    expect(parseAnyDate('1700000000000')?.toMillis()).toBe(1_700_000_000_000);
    expect(parseAnyDate('2025-01-02 03:04:05')?.toISO()).toBe('2025-01-02T03:04:05.000Z');
    expect(parseAnyDate('not a date')).toBeNull();
  });

  it('formats named formats and token patterns', () => {
    const date = DateTime.utc(2025, 1, 2, 15, 4, 5, 6);
    expect(formatNamed(date, 'us_short')).toBe('01/02/2025');
    expect(formatNamed(date, 'unix_seconds')).toBe(Math.floor(date.toMillis() / 1000));
    const pieces = tokeniseDateFormat('dddd, MMMM D YYYY [at] h:mm A Z');
    expect(renderDatePieces(pieces, date)).toBe('Thursday, January 2 2025 at 3:04 PM +00:00');
  });
});
