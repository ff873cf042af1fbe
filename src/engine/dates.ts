/**
 * Date parsing and formatting shared by the formatter and delay nodes. Plain functions over luxon,
 * no DI: pure nodes load this inside worker threads.
 *
 * Dates are handled in UTC unless a caller sets a zone. RFC 3339 results are written chrono style
 * (`2025-01-02T03:04:05+00:00`, `.SSS` only when milliseconds are non-zero) because that is what the
 * reference's node outputs carry (§4.6 shows the same style for `_resume_at`).
 */
import { DateTime, FixedOffsetZone } from 'luxon';
import { isIntegerText } from './number-text';

export const DATE_FORMATS = [
  'rfc3339',
  'rfc2822',
  'date_only',
  'datetime',
  'us_short',
  'unix_seconds',
  'unix_milliseconds',
] as const;
export type DateFormat = (typeof DATE_FORMATS)[number];

const RFC3339 = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2}(?:\.\d+)?)([Zz]|[+-]\d{2}:\d{2})$/;
const DATE_ONLY = /^(\d{4})-(\d{1,2})-(\d{1,2})$/;
const DATETIME = /^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2}):(\d{2})$/;
const US_SHORT = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/;
/** Auto-detected bare numbers at or above this magnitude are milliseconds (1e11 s is year 5138). */
const MILLIS_THRESHOLD = 1e11;
const OPEN_BRACKET = 0x5b;

export function isDateFormat(format: string): format is DateFormat {
  return (DATE_FORMATS as readonly string[]).includes(format);
}

/** RFC 3339 with a mandatory offset; `t`/space separators and `z` accepted like chrono. UTC result. */
export function parseRfc3339(text: string): DateTime | null {
  const match = RFC3339.exec(text.trim());
  if (!match) return null;
  const date = DateTime.fromISO(`${match[1]}T${match[2]}${match[3].toUpperCase()}`, { setZone: true });
  return date.isValid ? date.toUTC() : null;
}

/** `2025-01-02T03:04:05+00:00` / `…05.120+00:00` (chrono `to_rfc3339` style), in the date's own zone. */
export function formatRfc3339(date: DateTime): string {
  const ms = date.millisecond === 0 ? '' : `.${pad(date.millisecond, 3)}`;
  return `${date.toFormat("yyyy-MM-dd'T'HH:mm:ss")}${ms}${offset(date, ':')}`;
}

/** Matches `pattern` and builds a UTC date from the captures listed in year, month, day, h, m, s order. */
function utcDate(text: string, pattern: RegExp, order: number[]): DateTime | null {
  const match = pattern.exec(text);
  if (!match) return null;
  const [year, month, day, hour = 0, minute = 0, second = 0] = order.map((i) => Number(match[i]));
  const date = DateTime.utc(year, month, day, hour, minute, second);
  return date.isValid ? date : null;
}

function fromEpoch(text: string, scale: number): DateTime | null {
  if (!isIntegerText(text)) return null;
  const date = DateTime.fromMillis(Number(text) * scale, { zone: FixedOffsetZone.utcInstance });
  return date.isValid ? date : null;
}

/** `text` read as exactly `format` (UTC), or null. */
export function parseDateAs(text: string, format: DateFormat): DateTime | null {
  switch (format) {
    case 'rfc3339':
      return parseRfc3339(text);
    case 'rfc2822': {
      const date = DateTime.fromRFC2822(text);
      return date.isValid ? date.toUTC() : null;
    }
    case 'date_only':
      return utcDate(text, DATE_ONLY, [1, 2, 3]);
    case 'datetime':
      return utcDate(text, DATETIME, [1, 2, 3, 4, 5, 6]);
    case 'us_short':
      return utcDate(text, US_SHORT, [3, 1, 2]);
    case 'unix_seconds':
      return fromEpoch(text, 1000);
    case 'unix_milliseconds':
      return fromEpoch(text, 1);
  }
}

/**
 * Tries every named format; null when none fits. A bare integer is Unix seconds below 1e11 and
 * milliseconds from there on (the reference tries milliseconds first, which turns any seconds
 * timestamp into January 1970).
 */
export function parseAnyDate(input: string): DateTime | null {
  const text = input.trim();
  for (const format of ['rfc3339', 'rfc2822', 'datetime', 'date_only', 'us_short'] as const) {
    const date = parseDateAs(text, format);
    if (date) return date;
  }
  if (isIntegerText(text)) {
    const date = fromEpoch(text, Math.abs(Number(text)) >= MILLIS_THRESHOLD ? 1 : 1000);
    if (date) return date;
  }
  return null;
}

export function formatNamed(date: DateTime, format: DateFormat): string | number {
  switch (format) {
    case 'rfc3339':
      return formatRfc3339(date);
    case 'rfc2822':
      return date.toRFC2822() ?? formatRfc3339(date);
    case 'date_only':
      return date.toFormat('yyyy-MM-dd');
    case 'datetime':
      return date.toFormat('yyyy-MM-dd HH:mm:ss');
    case 'us_short':
      return date.toFormat('MM/dd/yyyy');
    case 'unix_seconds':
      return Math.floor(date.toMillis() / 1000);
    case 'unix_milliseconds':
      return date.toMillis();
  }
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/**
 * Token patterns (day.js/moment style, English names, case-sensitive):
 * YYYY YY · MMMM MMM MM M · DD D · dddd ddd · HH H (24h) · hh h (12h) · mm m · ss s · SSS · A a ·
 * Z (+00:00) ZZ (+0000) · X (Unix s) x (Unix ms) · `[text]` is literal. Everything else is copied.
 */
const TOKENS: Record<string, (d: DateTime) => string> = {
  YYYY: (d) => pad(d.year, 4),
  YY: (d) => pad(d.year % 100, 2),
  MMMM: (d) => MONTHS[d.month - 1],
  MMM: (d) => MONTHS[d.month - 1].slice(0, 3),
  MM: (d) => pad(d.month, 2),
  M: (d) => String(d.month),
  DD: (d) => pad(d.day, 2),
  D: (d) => String(d.day),
  dddd: (d) => WEEKDAYS[d.weekday - 1],
  ddd: (d) => WEEKDAYS[d.weekday - 1].slice(0, 3),
  HH: (d) => pad(d.hour, 2),
  H: (d) => String(d.hour),
  hh: (d) => pad(d.hour % 12 || 12, 2),
  h: (d) => String(d.hour % 12 || 12),
  mm: (d) => pad(d.minute, 2),
  m: (d) => String(d.minute),
  ss: (d) => pad(d.second, 2),
  s: (d) => String(d.second),
  SSS: (d) => pad(d.millisecond, 3),
  A: (d) => (d.hour < 12 ? 'AM' : 'PM'),
  a: (d) => (d.hour < 12 ? 'am' : 'pm'),
  ZZ: (d) => offset(d, ''),
  Z: (d) => offset(d, ':'),
  X: (d) => String(Math.floor(d.toMillis() / 1000)),
  x: (d) => String(d.toMillis()),
};
/** Tokens by first letter, longest first: at each position the first that matches wins. */
const TOKENS_BY_LETTER = new Map<string, string[]>();
for (const token of Object.keys(TOKENS).sort((a, b) => b.length - a.length)) {
  TOKENS_BY_LETTER.set(token[0], [...(TOKENS_BY_LETTER.get(token[0]) ?? []), token]);
}

/** Literal text, or a token to render. */
export type FormatPiece = string | { token: string };

/**
 * Splits a token pattern left to right: `[text]` is literal, then the tokens. An unclosed `[` is
 * plain text; once no `]` follows one, none follows any later one, so each `]` search runs once
 * (the regex this replaces searched to the end again from every unclosed `[`).
 */
export function tokeniseDateFormat(format: string): FormatPiece[] {
  const pieces: FormatPiece[] = [];
  let copied = 0;
  let unclosed = false;
  let i = 0;
  const emit = (piece: FormatPiece, end: number) => {
    if (copied < i) pieces.push(format.slice(copied, i));
    pieces.push(piece);
    i = end;
    copied = end;
  };
  while (i < format.length) {
    if (format.charCodeAt(i) === OPEN_BRACKET && !unclosed) {
      const close = format.indexOf(']', i + 1);
      if (close !== -1) {
        emit(format.slice(i + 1, close), close + 1);
        continue;
      }
      unclosed = true;
    }
    const token = TOKENS_BY_LETTER.get(format[i])?.find((t) => format.startsWith(t, i));
    if (token) emit({ token }, i + token.length);
    else i++;
  }
  if (copied < format.length) pieces.push(format.slice(copied));
  return pieces;
}

/** Renders pieces from {@link tokeniseDateFormat} for `date`. */
export function renderDatePieces(pieces: readonly FormatPiece[], date: DateTime): string {
  return pieces.map((piece) => (typeof piece === 'string' ? piece : TOKENS[piece.token](date))).join('');
}

function offset(date: DateTime, separator: string): string {
  const minutes = date.offset;
  const abs = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${pad(Math.floor(abs / 60), 2)}${separator}${pad(abs % 60, 2)}`;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}
