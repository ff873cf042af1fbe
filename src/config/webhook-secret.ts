/** docs/contract.md §6.1 boot rules for WEBHOOK_SECRET; empty = acceptable. Messages never contain the secret. */
export function webhookSecretProblems(secret: string): string[] {
  const problems: string[] = [];
  const chars = [...secret];
  if (chars.length < 32) problems.push('WEBHOOK_SECRET must be at least 32 characters long');
  if (new Set(chars).size < 8) problems.push('WEBHOOK_SECRET must contain at least 8 distinct characters');
  if (secret.toLowerCase().includes('changeme')) problems.push('WEBHOOK_SECRET must not contain "changeme"');
  if (secret === 'dev-secret') problems.push('WEBHOOK_SECRET must not be the development placeholder');
  return problems;
}
