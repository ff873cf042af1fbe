import { toRfc3339 } from './clock';

describe('toRfc3339', () => {
  it('drops zero fractions and trims trailing zeros', () => {
    expect(toRfc3339(new Date('2025-03-01T10:20:30.000Z'))).toBe('2025-03-01T10:20:30Z');
    expect(toRfc3339(new Date('2025-03-01T10:20:30.120Z'))).toBe('2025-03-01T10:20:30.12Z');
    expect(toRfc3339(new Date('2025-03-01T10:20:30.123Z'))).toBe('2025-03-01T10:20:30.123Z');
    expect(toRfc3339(new Date('2025-03-01T10:20:30.100Z'))).toBe('2025-03-01T10:20:30.1Z');
    expect(toRfc3339(new Date('2025-03-01T10:20:30.010Z'))).toBe('2025-03-01T10:20:30.01Z');
    expect(toRfc3339(new Date('2025-03-01T10:20:30.001Z'))).toBe('2025-03-01T10:20:30.001Z');
    // Six-digit years (toISOString adds a sign) keep the same trimming.
    expect(toRfc3339(new Date('+012025-03-01T10:20:30.500Z'))).toBe('+012025-03-01T10:20:30.5Z');
    expect(toRfc3339(null)).toBeNull();
  });
});
