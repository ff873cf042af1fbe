import { isSecretReference } from './secret-sync';

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

/** Every secret reference in each node's params, by node id (what `hydrateParams` would replace). */
export function graphReferences(graph: unknown): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  const nodes = (graph as { nodes?: unknown } | null)?.nodes;
  if (!Array.isArray(nodes)) return found;
  const walk = (value: unknown, into: Set<string>): void => {
    if (typeof value === 'string') {
      if (isSecretReference(value)) into.add(value);
    } else if (Array.isArray(value)) {
      for (const v of value) walk(v, into);
    } else if (value !== null && typeof value === 'object') {
      for (const v of Object.values(value)) walk(v, into);
    }
  };
  for (const node of nodes as { id?: unknown; data?: { params?: unknown } }[]) {
    if (typeof node?.id !== 'string' || node.data?.params === undefined) continue;
    const refs = new Set<string>();
    walk(node.data.params, refs);
    if (refs.size) found.set(node.id, refs);
  }
  return found;
}
