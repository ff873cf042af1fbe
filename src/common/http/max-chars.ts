import { ValidateBy, ValidationOptions } from 'class-validator';

/**
 * At most `max` characters as the databases count them (code points, as PostgreSQL's varchar(n)
 * does). class-validator's MaxLength discounts variation selectors (U+FE0E, U+FE0F), which
 * PostgreSQL counts: a value it let through could overflow its column, a 500 instead of a 400.
 */
export const MaxChars = (max: number, options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'maxChars',
      constraints: [max],
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || countChars(value, max) <= max,
        defaultMessage: (args) => `${args?.property} must be at most ${max} characters`,
      },
    },
    options,
  );

/** Code points of `value`, counted up to just past `max` (a huge value is not walked to its end). */
function countChars(value: string, max: number): number {
  // Each code point is one or two UTF-16 units: the length bounds the count from both sides.
  if (value.length <= max) return value.length;
  if (value.length > max * 2) return max + 1;
  let count = 0;
  for (let i = 0; i < value.length && count <= max; i++) {
    const unit = value.charCodeAt(i);
    // A high surrogate followed by a low one is one code point.
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < value.length) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    count++;
  }
  return count;
}
