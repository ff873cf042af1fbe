import { normalizePlan } from './plan-tier';

describe('normalizePlan', () => {
  it.each([
    [undefined, 'solo'],
    ['', 'solo'],
    ['   ', 'solo'],
    ['solo', 'solo'],
    ['Free', 'solo'],
    ['personal-monthly', 'solo'],
    ['individual', 'solo'],
    ['workspace', 'workspace'],
    [' WORKSPACE ', 'workspace'],
    ['team:annual', 'workspace'],
    ['org_123', 'workspace'],
    ['enterprise', 'workspace'],
    ['organisation', 'workspace'],
    ['workspace:6f1c1b9e-3f7a-4d33-9c55-1b0e2f0a9a10', 'workspace'],
    ['pro workspace', 'workspace'],
    ['my-org:x', 'workspace'],
    ['premium', 'solo'],
    ['solo_workspace', 'solo'],
  ])('%p → %p', (input, expected) => {
    expect(normalizePlan(input as string | undefined)).toBe(expected);
  });
});
