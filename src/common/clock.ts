import { Injectable } from '@nestjs/common';

/** The one source of "now", so tests can move time. */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}

/** RFC 3339 in UTC with `Z`, fractional seconds only when non-zero (reference §0). */
export function toRfc3339(date: Date | null | undefined): string | null {
  if (!date) return null;
  return date.toISOString().replace(/\.(\d*?)0*Z$/, (_, frac: string) => (frac ? `.${frac}Z` : 'Z'));
}
