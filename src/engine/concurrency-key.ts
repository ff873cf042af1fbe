import { createHash } from 'node:crypto';
import { REDACTOR } from '../secrets/redactor';
import { initialContext } from './execution-context';
import { SNAPSHOT_KEYS } from './snapshot';
import { renderTemplate } from './templating';

/** The longest group name a run stores as it is; a longer one is stored as its hash. */
export const MAX_STORED_CONCURRENCY_KEY = 255;

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

/**
 * A run's concurrency group (docs/contract.md §2.12): the workflow's `concurrency_key` template
 * rendered over the trigger payload, addressed as the run's first node sees it (`{{Hook.customer_id}}`
 * for a trigger labelled Hook), trimmed. A missing field renders empty: such runs share the group "".
 * The group is shown in run responses, so one that holds anything redaction would mask (a field
 * named like a credential) or is longer than a column is stored as its hash: the same grouping,
 * nothing readable. Linear in the template and payload (a payload is bounded by the body limit).
 */
export function concurrencyKeyOf(template: string, snapshot: Record<string, unknown>): string {
  const nodes = Array.isArray(snapshot.nodes) ? snapshot.nodes.filter(isNode) : [];
  const start = snapshot[SNAPSHOT_KEYS.startFromNode];
  const context = initialContext({
    nodes,
    startNodeId: typeof start === 'string' ? start : null,
    triggerContext: snapshot[SNAPSHOT_KEYS.triggerContext],
  });
  const key = renderTemplate(template, context).trim();
  const shown = renderTemplate(template, REDACTOR.redact(context)).trim();
  if (key.length <= MAX_STORED_CONCURRENCY_KEY && key === shown) return key;
  return `sha256:${createHash('sha256').update(key).digest('hex')}`;
}
