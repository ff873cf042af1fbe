import { Injectable } from '@nestjs/common';

/** The one source of "now", so tests can move time. */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}

/** RFC 3339 in UTC with `Z`, fractional seconds only when non-zero (docs/contract.md §0). */
export function toRfc3339(date: Date | null | undefined): string | null {
  if (!date) return null;
  const iso = date.toISOString();
  // Every timestamp of every response passes here: trim `.sss` by hand, not with a regex.
  let end = iso.length - 1;
  if (iso[end - 4] !== '.') return iso.replace(/\.(\d*?)0*Z$/, (_, frac: string) => (frac ? `.${frac}Z` : 'Z'));
  while (iso[end - 1] === '0') end -= 1;
  if (iso[end - 1] === '.') end -= 1;
  return end === iso.length - 1 ? iso : `${iso.slice(0, end)}Z`;
}
