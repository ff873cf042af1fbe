import { runawayProtectionEnabled, withRunawayProtection } from './runaway-setting';

const W1 = '6f1c1b9e-3f7a-4d33-9c55-1b0e2f0a9a10';
const W2 = '0b7d3c1e-8f2a-4b6c-9d0e-1f2a3b4c5d6e';

describe('runaway protection setting (docs/contract.md §8.7)', () => {
  it('defaults to enabled', () => {
    expect(runawayProtectionEnabled({}, W1)).toBe(true);
    expect(runawayProtectionEnabled(null, null)).toBe(true);
  });

  it('reads a global boolean and a per-workspace map with default', () => {
    expect(runawayProtectionEnabled({ workflows: { runaway_protection_enabled: false } }, W1)).toBe(false);
    const map = { workflows: { runaway_protection_enabled: { default: false, [W1]: true } } };
    expect(runawayProtectionEnabled(map, W1)).toBe(true);
    expect(runawayProtectionEnabled(map, W2)).toBe(false);
    expect(runawayProtectionEnabled(map, null)).toBe(false);
  });

  it('writes a boolean as {default: old, <ws>: new} and keeps other settings', () => {
    const next = withRunawayProtection(
      { theme: 'dark', workflows: { runaway_protection_enabled: true, other: 1 } },
      W1,
      false,
    );
    expect(next).toEqual({
      theme: 'dark',
      workflows: { other: 1, runaway_protection_enabled: { default: true, [W1]: false } },
    });
    expect(withRunawayProtection(next, W2, true).workflows).toEqual({
      other: 1,
      runaway_protection_enabled: { default: true, [W1]: false, [W2]: true },
    });
  });
});
