import { validateSync } from 'class-validator';
import { MaxChars } from './max-chars';

class Named {
  @MaxChars(10)
  name: unknown;
}

const errors = (name: unknown) => {
  const value = Object.assign(new Named(), { name });
  return validateSync(value).flatMap((e) => Object.values(e.constraints ?? {}));
};

describe('MaxChars', () => {
  it('counts code points, as PostgreSQL counts a varchar', () => {
    expect(errors('a'.repeat(10))).toEqual([]);
    expect(errors('a'.repeat(11))).toEqual(['name must be at most 10 characters']);
    // Ten emoji of two UTF-16 units each are ten characters.
    expect(errors('😀'.repeat(10))).toEqual([]);
    expect(errors('😀'.repeat(11))).toEqual(['name must be at most 10 characters']);
    // A variation selector is a character of its own (class-validator's MaxLength discounts it).
    expect(errors('❤️'.repeat(5))).toEqual([]);
    expect(errors('❤️'.repeat(6))).toEqual(['name must be at most 10 characters']);
    // A lone surrogate is one.
    expect(errors('\ud800'.repeat(10))).toEqual([]);
    expect(errors(`${'\ud800'.repeat(10)}a`)).toEqual(['name must be at most 10 characters']);
  });

  it('refuses a huge value without walking it, and leaves non-strings to their own checks', () => {
    expect(errors('😀'.repeat(5_000_000))).toEqual(['name must be at most 10 characters']);
    expect(errors(12345678901)).toEqual([]);
    expect(errors(undefined)).toEqual([]);
  });
});
