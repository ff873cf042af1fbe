/** Secret references as graphs hold them, `group:service:name` (docs/contract.md §9.3). */

export interface SecretRef {
  group: string;
  service: string;
  name: string;
}

/**
 * A credential auto-sync found in a saved graph (src/workflows/secret-sync.ts): the param holding it
 * (node id + key inside `data.params`) and the store section it is filed in.
 */
export interface FoundSecret {
  nodeId: string;
  paramKey: string;
  group: string;
  service: string;
  value: string;
}

const compact = (value: string): string => value.replace(/[^A-Za-z0-9]/g, '').toLowerCase();

/** A string that is exactly `group:service:name` (exactly two colons, three non-empty trimmed parts without whitespace inside group/service). */
export function isSecretReference(value: unknown): value is string {
  return typeof value === 'string' && parseSecretReference(value) !== null;
}

export function parseSecretReference(value: string): SecretRef | null {
  if (typeof value !== 'string' || value !== value.trim()) return null;
  const parts = value.split(':');
  if (parts.length !== 3) return null;
  const [group, service, name] = parts;
  if (!group || !service || !name.trim() || name !== name.trim()) return null;
  if (/\s/.test(group) || /\s/.test(service)) return null;
  return { group, service, name };
}

export function formatSecretReference(ref: SecretRef): string {
  return `${ref.group}:${ref.service}:${ref.name}`;
}

/** `auto-<service with non-alphanumerics removed, lower-cased>-<n>` with the smallest free n ≥ 1 among `existingNames`. */
export function autoSecretName(service: string, existingNames: Iterable<string>): string {
  const base = `auto-${compact(service)}-`;
  const taken = new Set(existingNames);
  let n = 1;
  while (taken.has(`${base}${n}`)) n += 1;
  return `${base}${n}`;
}

/**
 * The sections auto-sync files credentials in, besides `action:<kind>`. The workflow save path's
 * table (`NODE_CREDENTIALS` in src/workflows/secret-sync.ts) must name exactly these; its spec checks.
 */
export const SYNC_SECTIONS: ReadonlySet<string> = new Set([
  'email:smtp',
  'email:sendgrid',
  'email:mailgun',
  'email:amazon_ses',
  'messaging:slack',
  'messaging:teams',
  'http:basic_auth',
  'http:bearer_token',
  'webhook:basic_auth',
  'webhook:bearer_token',
]);

/**
 * Whether a reference points into a section auto-sync fills (`http:bearer_token`, `email:sendgrid`,
 * `action:<kind>`, ...): such a reference is a credential whether or not it resolves yet.
 */
export function isSyncSection(ref: SecretRef): boolean {
  if (ref.group === 'action') return /^[a-z0-9]+$/.test(ref.service);
  return SYNC_SECTIONS.has(`${ref.group}:${ref.service}`);
}
