import { webhookSecretProblems } from './webhook-secret';

const SECRET = '0123456789abcdefghijklmnopqrstuvwxyz-test-secret';

describe('webhookSecretProblems', () => {
  it('accepts a long, varied secret', () => {
    expect(webhookSecretProblems(SECRET)).toEqual([]);
  });

  it.each([
    ['too short', 'abcdefghijklmnopqrstuvwxyz01234', /at least 32 characters/],
    ['too few distinct characters', 'abcdefgabcdefgabcdefgabcdefgabcdefg', /8 distinct characters/],
    ['contains changeme', 'please-CHANGEME-0123456789abcdefghij', /changeme/],
    ['is the development placeholder', 'dev-secret', /development placeholder/],
  ])('reports a secret that is %s', (_name, secret, problem) => {
    const sut = webhookSecretProblems(secret);
    expect(sut.some((p) => problem.test(p))).toBe(true);
    expect(sut.join('\n')).not.toContain(secret);
  });

  it('counts characters, not UTF-16 units, and reports every problem at once', () => {
    expect(webhookSecretProblems('😀'.repeat(16))).toEqual([
      expect.stringMatching(/at least 32 characters/),
      expect.stringMatching(/8 distinct characters/),
    ]);
    expect(webhookSecretProblems('dev-secret')).toHaveLength(2);
  });

  it('treats exactly 32 characters with exactly 8 distinct ones as enough', () => {
    expect(webhookSecretProblems('abcdefgh'.repeat(4))).toEqual([]);
  });
});
