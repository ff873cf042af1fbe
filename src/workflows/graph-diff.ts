/**
 * Change-log diff of two workflow graphs (docs/contract.md §2.14, deviation 21 in docs/deviations.md).
 *
 * Each node's `data` (matched by array index in `nodes`, not by id) is flattened to leaf paths
 * `nodes[<i>].data.<key>(.<key>|[<i>])*`. Leaves are scalars, plus empty objects/arrays (which have
 * no children to stand for them); entries the graph parser leaves out (src/engine/graph.ts) have no
 * leaves. One entry per path whose leaf differs, the missing side being
 * `null`, ordered by plain string comparison of the path. Inputs are untrusted: never throws.
 */

import type { DiffEntry } from '../database/entities/workflow-log.entity';
import { parseGraph } from '../engine/graph';

export type { DiffEntry };

type Frame = { kind: 'visit'; path: string; value: unknown } | { kind: 'exit'; container: object };

/**
 * Flattens `value` under `prefix` into `out`. Iterative (explicit stack) so deeply nested input
 * cannot overflow the call stack; a container that is its own ancestor (impossible in parsed JSON)
 * is skipped instead of looping. `undefined` values count as absent, like in JSON.
 */
function flatten(prefix: string, value: unknown, out: Map<string, unknown>): void {
  const ancestors = new Set<object>();
  const stack: Frame[] = [{ kind: 'visit', path: prefix, value }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    if (frame.kind === 'exit') {
      ancestors.delete(frame.container);
      continue;
    }
    const { path, value: current } = frame;
    if (current === undefined) continue;
    if (typeof current !== 'object' || current === null) {
      out.set(path, current);
      continue;
    }
    if (ancestors.has(current)) continue;
    const children: Frame[] = [];
    if (Array.isArray(current)) {
      current.forEach((item, i) => children.push({ kind: 'visit', path: `${path}[${i}]`, value: item }));
    } else {
      const record = current as Record<string, unknown>;
      for (const key of Object.keys(record).sort()) {
        if (record[key] !== undefined) children.push({ kind: 'visit', path: `${path}.${key}`, value: record[key] });
      }
    }
    if (children.length === 0) {
      out.set(path, Array.isArray(current) ? [] : {});
      continue;
    }
    ancestors.add(current);
    stack.push({ kind: 'exit', container: current });
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  }
}

function leaves(graph: unknown): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const node of parseGraph(graph).graph.nodes) flatten(`nodes[${node.index}].data`, node.storedData, out);
  return out;
}

/**
 * Structural equality. Leaves are scalars or empty containers, but this is a full deep comparison
 * so that two different arrays/objects never compare equal (the reference compared string forms,
 * under which all arrays/objects were equal — deviation 21 in docs/deviations.md). `{}` and `[]` differ.
 */
function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => deepEqual(item, b[i]));
  }
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left);
  if (keys.length !== Object.keys(right).length) return false;
  return keys.every((key) => Object.prototype.hasOwnProperty.call(right, key) && deepEqual(left[key], right[key]));
}

function comparePaths(a: string, b: string): number {
  if (a < b) return -1;
  return a > b ? 1 : 0;
}

export function diffGraphs(oldGraph: unknown, newGraph: unknown): DiffEntry[] {
  const before = leaves(oldGraph);
  const after = leaves(newGraph);
  const paths = new Set([...before.keys(), ...after.keys()]);
  const entries: DiffEntry[] = [];
  for (const path of paths) {
    const from = before.has(path) ? before.get(path) : null;
    const to = after.has(path) ? after.get(path) : null;
    if (!deepEqual(from, to)) entries.push({ path, from, to });
  }
  return entries.sort((x, y) => comparePaths(x.path, y.path));
}

/**
 * Where a `{key, value}` pair (a header, a query parameter, a form field) names a credential in
 * either graph: the path of its `value`, under which every leaf is a credential. The leaf paths
 * alone cannot tell: they end in `.value`.
 */
export function credentialPairPaths(
  oldGraph: unknown,
  newGraph: unknown,
  isSensitiveKey: (key: string) => boolean,
): Set<string> {
  const paths = new Set<string>();
  for (const graph of [oldGraph, newGraph]) {
    for (const [path, leaf] of leaves(graph)) {
      if (path.endsWith('.key') && typeof leaf === 'string' && isSensitiveKey(leaf)) {
        paths.add(`${path.slice(0, -'.key'.length)}.value`);
      }
    }
  }
  return paths;
}

/**
 * The entries of `diffs` with each side as it reads in the redacted graphs (`redactedBefore`,
 * `redactedAfter`: the same graphs through the response redactor), so a diff shows no more than
 * reading the workflow does, whatever the shape of the key that made a value a credential. A leaf
 * the redacted graph does not have sits under a container the redactor masked as a whole: `mask(value)`.
 */
export function asRedacted(
  diffs: DiffEntry[],
  redactedBefore: unknown,
  redactedAfter: unknown,
  mask: (value: unknown) => unknown,
): DiffEntry[] {
  const before = leaves(redactedBefore);
  const after = leaves(redactedAfter);
  const side = (redacted: Map<string, unknown>, path: string, raw: unknown) => {
    if (redacted.has(path)) return redacted.get(path);
    return raw === null || raw === undefined ? null : mask(raw);
  };
  return diffs.map((d) => ({ path: d.path, from: side(before, d.path, d.from), to: side(after, d.path, d.to) }));
}

/** Whether `path` is `base` or lies under it. */
export function isUnder(path: string, base: string): boolean {
  return path === base || path.startsWith(`${base}.`) || path.startsWith(`${base}[`);
}
