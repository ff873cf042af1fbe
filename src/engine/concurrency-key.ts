import { createHmac } from 'node:crypto';
import { REDACTOR } from '../secrets/redactor';
import { initialContext } from './execution-context';
import { SNAPSHOT_KEYS } from './snapshot';
import { resolvePath } from './templating';

/** The longest group name a run stores as it is; a longer one is stored as its keyed hash. */
export const MAX_STORED_CONCURRENCY_KEY = 255;
/** Most `{{…}}` placeholders a key template may hold (checked when it is set, and here). */
export const MAX_CONCURRENCY_KEY_PLACEHOLDERS = 10;
/** Of an object or array a placeholder reaches, the characters of its JSON that count. */
export const CONCURRENCY_KEY_JSON_BUDGET = 1_024;

interface TriggerLike {
  id: string;
  type: string;
  data: Record<string, unknown>;
}

const isNode = (value: unknown): value is TriggerLike => {
  const node = value as Partial<TriggerLike> | null;
  return (
    !!node &&
    typeof node === 'object' &&
    typeof node.id === 'string' &&
    typeof node.type === 'string' &&
    !!node.data &&
    typeof node.data === 'object'
  );
};

/** The text and placeholders of a template, as `{{ path }}` templating reads them (an unclosed `{{` is text). */
export function keyTemplateParts(template: string): { text: string[]; paths: string[] } {
  const text: string[] = [];
  const paths: string[] = [];
  let rest = template;
  for (;;) {
    const open = rest.indexOf('{{');
    const close = open === -1 ? -1 : rest.indexOf('}}', open + 2);
    if (close === -1) {
      text.push(rest);
      return { text, paths };
    }
    text.push(rest.slice(0, open));
    paths.push(rest.slice(open + 2, close).trim());
    rest = rest.slice(close + 2);
  }
}

/**
 * A run's concurrency group (docs/contract.md §2.19): the workflow's `concurrency_key` template
 * rendered over the trigger payload, addressed as the run's first node sees it (`{{Hook.customer_id}}`
 * for a trigger labelled Hook), trimmed. A missing field renders empty; a scalar as templating
 * renders it; an object or array as its JSON with sorted keys, of which the first
 * CONCURRENCY_KEY_JSON_BUDGET characters count (larger values sharing that prefix share a group:
 * stricter, never looser). A group that holds anything redaction would mask (a field named like a
 * credential, on the path or inside the value) or is longer than a column is stored as
 * `hmac:<hex>`, keyed by `hashKey`: the same grouping, nothing readable or guessable offline.
 * Bounded work whatever the payload: at most MAX_CONCURRENCY_KEY_PLACEHOLDERS paths, each
 * resolved once, each value read up to the budget.
 */
export function concurrencyKeyOf(template: string, snapshot: Record<string, unknown>, hashKey: Buffer): string {
  const nodes = Array.isArray(snapshot.nodes) ? snapshot.nodes.filter(isNode) : [];
  const start = snapshot[SNAPSHOT_KEYS.startFromNode];
  const context = initialContext({
    nodes,
    startNodeId: typeof start === 'string' ? start : null,
    triggerContext: snapshot[SNAPSHOT_KEYS.triggerContext],
  });
  const { text, paths } = keyTemplateParts(template);
  let key = text[0];
  let sensitive = false;
  paths.forEach((path, i) => {
    if (i < MAX_CONCURRENCY_KEY_PLACEHOLDERS) {
      const value = resolvePath(context, path);
      if (path.split('.').some((segment) => REDACTOR.isSensitiveKey(segment.trim()))) sensitive = true;
      const shown = display(value);
      if (shown.sensitive) sensitive = true;
      key += shown.text;
    }
    key += text[i + 1];
  });
  key = key.trim();
  if (!sensitive && key.length <= MAX_STORED_CONCURRENCY_KEY) return key;
  return `hmac:${createHmac('sha256', hashKey).update(key).digest('hex')}`;
}

/** A placeholder's text, and whether it reached a field redaction masks. */
function display(value: unknown): { text: string; sensitive: boolean } {
  if (value === undefined) return { text: '', sensitive: false };
  if (typeof value === 'string') return { text: value, sensitive: false };
  if (value === null || typeof value !== 'object') return { text: JSON.stringify(value) ?? 'null', sensitive: false };
  const out = { text: '', sensitive: false };
  boundedJson(value, out, 0);
  return out;
}

/**
 * Sorted-key JSON of `value` into `out.text`, stopping once the budget is spent (and never sorting
 * more keys than the budget could show); notes a sensitive key met on the way.
 */
function boundedJson(value: unknown, out: { text: string; sensitive: boolean }, depth: number): void {
  const room = () => out.text.length < CONCURRENCY_KEY_JSON_BUDGET;
  if (!room()) return;
  if (typeof value === 'string') {
    out.text += JSON.stringify(value.slice(0, CONCURRENCY_KEY_JSON_BUDGET));
  } else if (value === null || typeof value !== 'object') {
    out.text += JSON.stringify(value ?? null) ?? 'null';
  } else if (depth > 64) {
    // Deeper than any payload means: all such values share this text.
    out.text += '"…"';
  } else if (Array.isArray(value)) {
    out.text += '[';
    for (let i = 0; i < value.length && room(); i++) {
      if (i) out.text += ',';
      boundedJson(value[i], out, depth + 1);
    }
    out.text += ']';
  } else {
    const keys = Object.keys(value);
    // More keys than the budget has characters cannot be shown: all such objects share one text
    // (a stricter grouping), and none is sorted.
    if (keys.length > CONCURRENCY_KEY_JSON_BUDGET) {
      out.text += `{"…":${keys.length}}`;
      return;
    }
    keys.sort();
    out.text += '{';
    keys.forEach((k, i) => {
      if (!room()) return;
      if (REDACTOR.isSensitiveKey(k)) out.sensitive = true;
      out.text += `${i ? ',' : ''}${JSON.stringify(k)}:`;
      boundedJson((value as Record<string, unknown>)[k], out, depth + 1);
    });
    out.text += '}';
  }
  if (out.text.length > CONCURRENCY_KEY_JSON_BUDGET) out.text = out.text.slice(0, CONCURRENCY_KEY_JSON_BUDGET);
}
