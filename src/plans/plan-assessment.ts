import { PlanViolation } from '../common/errors/app-error';

/**
 * Solo-plan assessment of a workflow graph (docs/contract.md §8.3/§8.4).
 *
 * Pure functions: the graph comes parsed (src/engine/graph.ts, read by the callers since plans sit
 * below the engine); node fields are still untrusted, and nothing here throws whatever they hold.
 */

export const SOLO_NODE_LIMIT = 10;
export const SOLO_WORKFLOW_LIMIT = 3;
/** Versions a workflow keeps (docs/contract.md §8.3): the newest, by plan. */
export const SOLO_VERSION_RETENTION = 20;
export const WORKSPACE_VERSION_RETENTION = 200;

export const WORKFLOW_LIMIT_MESSAGE =
  'Solo accounts can save up to 3 workflows. Delete an existing workflow or upgrade in Settings → Plan.';
export const WORKFLOW_LOCKED_MESSAGE =
  'This workflow is locked on the solo plan. Upgrade in Settings → Plan to edit or run it.';

export const SCHEDULE_TRIGGER_MESSAGE =
  'Scheduled triggers are available on workspace plans and above. Switch this trigger to Manual or Webhook, or upgrade in Settings → Plan.';
/** The reference's text has mojibake (`Settings ƒ+' Plan`); fixed to the arrow used everywhere else. */
export const NOTION_TRIGGER_MESSAGE =
  'Notion triggers are available on workspace plans and above. Upgrade in Settings → Plan to use them.';

export type MessagingPlatform = 'slack' | 'teams' | 'googlechat';

type PremiumIntegration = 'Google Sheets' | 'Notion' | 'Slack' | 'Microsoft Teams';

export function premiumIntegrationMessage(integration: string): string {
  return `${integration} actions are available on workspace plans and above. Upgrade in Settings → Plan to run this step.`;
}

export function nodeLimitMessage(excess: number): string {
  return `Solo plans support up to ${SOLO_NODE_LIMIT} nodes per workflow. Remove ${excess} ${
    excess === 1 ? 'node' : 'nodes'
  } or upgrade in Settings → Plan.`;
}

const MESSAGING_ACTION_TYPES = new Set(['messaging', 'teams', 'slack', 'googlechat', 'microsoftteams']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function field(value: unknown, key: string): unknown {
  return isRecord(value) ? value[key] : undefined;
}

/** Trimmed, lower-cased string, or '' for anything that is not a string. */
function lowerString(value: unknown): string {
  return typeof value === 'string' ? value.trim().toLowerCase() : '';
}

/** A node as the graph parser gives it. */
export interface AssessedNode {
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/** `data.label`, trimmed (as the reference does), when it is a non-blank string. */
function nodeLabel(node: AssessedNode): string | undefined {
  const label = field(node.data, 'label');
  const trimmed = typeof label === 'string' ? label.trim() : '';
  return trimmed !== '' ? trimmed : undefined;
}

function platformFromText(text: string): MessagingPlatform | null {
  if (text.includes('slack')) return 'slack';
  if (text.includes('teams') || text.includes('microsoft')) return 'teams';
  if (text.includes('googlechat') || (text.includes('google') && text.includes('chat'))) return 'googlechat';
  return null;
}

/**
 * Messaging platform of a node. Candidates are tried in order — `data.params.service`,
 * `data.params.provider`, `data.params.platform`, then `data.nodeType`, `data.actionKey`,
 * `data.actionType`, `data.label`, and finally the node `type` — and the first candidate whose
 * lower-cased text matches a substring rule wins: `slack` → slack; `teams` or `microsoft` → teams;
 * `googlechat`, or both `google` and `chat` → googlechat. Non-string candidates are skipped.
 */
export function detectMessagingPlatform(node: unknown): MessagingPlatform | null {
  if (!isRecord(node)) return null;
  const data = node.data;
  const params = field(data, 'params');
  const candidates: unknown[] = [
    field(params, 'service'),
    field(params, 'provider'),
    field(params, 'platform'),
    field(data, 'nodeType'),
    field(data, 'actionKey'),
    field(data, 'actionType'),
    field(data, 'label'),
    node.type,
  ];
  for (const candidate of candidates) {
    const text = lowerString(candidate);
    if (text === '') continue;
    const platform = platformFromText(text);
    if (platform) return platform;
  }
  return null;
}

function isActionType(type: string): boolean {
  return type.startsWith('action');
}

/**
 * The action kind that decides premium status: the lower-cased `data.actionType`. When it is
 * missing or empty we fall back to the UI node type (`actionSheets` → `sheets`, `actionSlack` →
 * `slack`, ...). This fallback is a deliberate improvement over the reference, which only reads
 * `data.actionType` and therefore let a premium UI node without an actionType slip through.
 */
function actionKind(node: AssessedNode, type: string): string {
  const actionType = lowerString(field(node.data, 'actionType'));
  if (actionType !== '') return actionType;
  return type.slice('action'.length);
}

function premiumIntegration(node: AssessedNode, type: string): PremiumIntegration | null {
  const kind = actionKind(node, type);
  if (kind === 'sheets') return 'Google Sheets';
  if (kind === 'notion') return 'Notion';
  if (MESSAGING_ACTION_TYPES.has(kind)) {
    const platform = detectMessagingPlatform(node);
    if (platform === 'slack') return 'Slack';
    if (platform === 'teams') return 'Microsoft Teams';
    // Google Chat is allowed on every plan; an undetectable platform is not flagged either.
  }
  return null;
}

function withLabel(code: string, message: string, label: string | undefined): PlanViolation {
  return label === undefined ? { code, message } : { code, message, nodeLabel: label };
}

/**
 * Violations of a parsed graph for the Solo plan, in the reference's order: every premium
 * integration (node order), then schedule triggers, then Notion triggers, then the node-count
 * violation (the graph's nodes; saves validate the graph first, so no stored entry is left out).
 */
export function assessSoloGraph(graph: { readonly nodes: readonly AssessedNode[] }): PlanViolation[] {
  const { nodes } = graph;
  const integrations: PlanViolation[] = [];
  const schedules: PlanViolation[] = [];
  const notionTriggers: PlanViolation[] = [];

  for (const node of nodes) {
    const type = lowerString(node.type);
    if (isActionType(type)) {
      const integration = premiumIntegration(node, type);
      if (integration) {
        integrations.push(withLabel('premium-integration', premiumIntegrationMessage(integration), nodeLabel(node)));
      }
    } else if (type === 'trigger') {
      const triggerType = lowerString(field(node.data, 'triggerType'));
      if (triggerType === 'schedule') {
        schedules.push(withLabel('premium-trigger', SCHEDULE_TRIGGER_MESSAGE, nodeLabel(node)));
      } else if (triggerType.startsWith('notion')) {
        notionTriggers.push(withLabel('premium-trigger', NOTION_TRIGGER_MESSAGE, nodeLabel(node)));
      }
    }
  }

  const violations = [...integrations, ...schedules, ...notionTriggers];
  if (nodes.length > SOLO_NODE_LIMIT) {
    violations.push({ code: 'node-limit', message: nodeLimitMessage(nodes.length - SOLO_NODE_LIMIT) });
  }
  return violations;
}
