import { isSecretReference } from './secret-reference';

/**
 * Replaces `group:service:name` references inside a node's params with the owner's values, in
 * memory, at execution (deviations 8–9 in docs/deviations.md): only params are hydrated, never trigger payloads, and
 * unknown references stay as written.
 */
export function hydrateParams(value: unknown, store: ReadonlyMap<string, string>): unknown {
  if (typeof value === 'string') return isSecretReference(value) ? (store.get(value) ?? value) : value;
  if (Array.isArray(value)) return value.map((v) => hydrateParams(v, store));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, hydrateParams(v, store)]));
  }
  return value;
}
