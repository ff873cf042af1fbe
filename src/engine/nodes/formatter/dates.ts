/** `date.*` formatter operations; parsing and rendering live in engine/dates. */
import type { DateTime } from 'luxon';
import {
  DATE_FORMATS,
  formatNamed,
  formatRfc3339,
  isDateFormat,
  parseAnyDate,
  parseDateAs,
  renderDatePieces,
  tokeniseDateFormat,
  type DateFormat,
} from '../../dates';
import { NodeError } from '../../node-types';
import type { Operation } from './operation';

const PARSE_ERRORS: Record<DateFormat, string> = {
  rfc3339: 'Date must be RFC 3339 / ISO 8601 with an offset (e.g. 2025-01-02T03:04:05Z).',
  rfc2822: 'Date must be RFC 2822 (e.g. Thu, 01 Jan 1970 00:00:00 GMT).',
  date_only: 'Date must match YYYY-MM-DD.',
  datetime: 'Datetime must match YYYY-MM-DD HH:mm:ss (UTC).',
  us_short: 'Date must match MM/DD/YYYY.',
  unix_seconds: 'Unix seconds must be a whole number within the supported range.',
  unix_milliseconds: 'Unix milliseconds must be a whole number within the supported range.',
};

export const DATE_COMPONENTS = new Map<string, (d: DateTime) => number>([
  ['year', (d) => d.year],
  ['month', (d) => d.month],
  ['day', (d) => d.day],
  ['hour', (d) => d.hour],
  ['minute', (d) => d.minute],
  ['second', (d) => d.second],
  ['weekday', (d) => d.weekday],
]);

export const DATE_OPERATIONS: [string, Operation][] = [
  [
    'date.parse',
    (input, f) => {
      const format = f.requiredString('format', true).toLowerCase();
      if (!isDateFormat(format)) {
        throw new NodeError(`Field "format" must be one of ${DATE_FORMATS.join(', ')}.`);
      }
      const parsed = parseDateAs(input.trim(), format);
      if (!parsed) throw new NodeError(PARSE_ERRORS[format]);
      return formatRfc3339(parsed);
    },
  ],
  [
    'date.format',
    (input, f) => {
      const format = f.requiredString('output_format', true);
      const named = format.toLowerCase();
      const render = isDateFormat(named) ? (d: DateTime) => formatNamed(d, named) : compileTokens(format);
      const zone = f.zone();
      return render(anyDate(input).setZone(zone));
    },
  ],
  [
    'date.adjust',
    (input, f) => {
      const days = f.number('days') ?? 0;
      const hours = f.number('hours') ?? 0;
      const minutes = f.number('minutes') ?? 0;
      if (days === 0 && hours === 0 && minutes === 0) {
        throw new NodeError('Add at least one offset (days, hours, or minutes).');
      }
      // Fixed-length days (the arithmetic is in UTC), fractions allowed: 1.5 hours = 90 minutes.
      const offset = Math.round(days * 86_400_000 + hours * 3_600_000 + minutes * 60_000);
      const adjusted = anyDate(input).plus({ milliseconds: offset });
      if (!adjusted.isValid) throw new NodeError('Adjusted date is out of range.');
      return formatRfc3339(adjusted);
    },
  ],
  [
    'date.extract',
    (input, f) => {
      const component = f.requiredString('component', true).toLowerCase();
      const read = DATE_COMPONENTS.get(component);
      if (!read) {
        throw new NodeError(`Field "component" must be one of ${[...DATE_COMPONENTS.keys()].join(', ')}.`);
      }
      return read(anyDate(input).setZone(f.zone()));
    },
  ],
];

function anyDate(input: string): DateTime {
  const date = parseAnyDate(input);
  if (date) return date;
  throw new NodeError(
    'Unable to parse date. Supported formats: ISO 8601 / RFC 3339, RFC 2822, YYYY-MM-DD, YYYY-MM-DD HH:mm:ss, MM/DD/YYYY, Unix seconds, Unix milliseconds.',
  );
}

function compileTokens(format: string): (date: DateTime) => string {
  // A lower-case word that is not a named format is a typo, not a pattern of `m`/`s`/`h` tokens.
  if (/^[a-z0-9_]+$/.test(format) || format.includes('%')) {
    throw new NodeError(
      `Field "output_format" must be one of ${DATE_FORMATS.join(', ')} or a token pattern such as YYYY-MM-DD HH:mm.`,
    );
  }
  const pieces = tokeniseDateFormat(format);
  if (!pieces.some((piece) => typeof piece !== 'string')) {
    throw new NodeError('Field "output_format" contains no date tokens.');
  }
  return (date) => renderDatePieces(pieces, date);
}
