import { callProvider } from '../outbound';
import { OutboundError, type OutboundResponse } from '../../egress/outbound-http';
import { detectMessagingPlatform } from '../../plans/plan-assessment';
import {
  NodeError,
  type GraphNode,
  type NodeContext,
  type NodeExecutor,
  type NodeResult,
  type RunInfo,
} from '../node-types';
import { renderDeep, renderTemplate } from '../templating';

/** What the node hands an OAuth-connection provider; identity and connection are explicit, never guessed. */
interface ConnectionMessage {
  run: RunInfo;
  nodeId: string;
  connectionScope: string;
  connectionId: string;
  /** Templated. */
  message: string;
  signal: AbortSignal;
  timeoutMs: number;
}

export interface SlackMessageArgs extends ConnectionMessage {
  identity: 'workspace_bot' | 'personal_user';
  /** Templated. */
  channel: string;
}

export interface TeamsMessageArgs extends ConnectionMessage {
  teamId: string;
  channelId: string;
}

/**
 * Slack bot and Teams delegated delivery go through OAuth connections (out of scope of the engine,
 * docs/contract.md §5.1): a provider posts the message and returns fields merged into the node's outputs
 * (e.g. `messageTs`, `channelId`, `connectionScope`, `connectionId`). Throw `NodeError` for failures.
 */
export interface ConnectionProvider {
  postSlackMessage(args: SlackMessageArgs): Promise<Record<string, unknown>>;
  postTeamsMessage(args: TeamsMessageArgs): Promise<Record<string, unknown>>;
}

export interface MessagingNodeDeps {
  /** Plan gate for Slack/Teams (docs/contract.md §5.6): throws `NodeError('Forbidden: …')` when not allowed. */
  gate: (run: NodeContext['run'], platform: 'slack' | 'teams') => Promise<void>;
  connections: ConnectionProvider | null;
}

/**
 * Messaging action (docs/contract.md §5.6 "messaging"): Google Chat, Slack and Microsoft Teams.
 *
 * Platform by `detectMessagingPlatform`. Google Chat is allowed on every plan; Slack and Teams pass
 * the plan gate first. Webhook deliveries POST JSON through `ctx.http`; Slack bot and Teams delegated
 * deliveries need a `ConnectionProvider` and fail clearly without one. Webhook URLs are credentials:
 * errors never carry them, nor any other param (deviation 22 in docs/deviations.md).
 *
 * Slack: an explicit `identity` of `workspace_bot|personal_user` wins over a leftover `webhookUrl`
 * (the UI keeps stale fields when the identity is switched).
 */
export class MessagingNode implements NodeExecutor {
  constructor(private readonly deps: MessagingNodeDeps) {}

  async execute(node: GraphNode, ctx: NodeContext): Promise<NodeResult> {
    const data = node.data ?? {};
    const delivery: Delivery = {
      node,
      ctx,
      params: asRecord(data.params),
      timeoutMs: positiveNumber(data.timeout) ?? DEFAULT_TIMEOUT_MS,
    };
    switch (detectMessagingPlatform(node)) {
      case 'googlechat':
        return { outputs: await sendGoogleChat(delivery) };
      case 'slack':
        await this.deps.gate(ctx.run, 'slack');
        return { outputs: await this.sendSlack(delivery) };
      case 'teams':
        await this.deps.gate(ctx.run, 'teams');
        return { outputs: await this.sendTeams(delivery) };
      default:
        throw new NodeError('Could not determine the messaging platform');
    }
  }

  private async sendSlack(d: Delivery): Promise<Record<string, unknown>> {
    const { params, ctx } = d;
    const identity = normalized(params.identity);
    const deliveryMethod = normalized(params.deliveryMethod);
    const explicitBot = identity === 'workspace_bot' || identity === 'personal_user';
    const webhook =
      !explicitBot &&
      (identity === 'incoming_webhook' ||
        deliveryMethod === 'incoming_webhook' ||
        stringParam(params.webhookUrl).trim() !== '');

    if (webhook) {
      const url = webhookUrl(params, 'Slack');
      const response = await post(d, 'Slack', url, { text: requiredMessage(params, ctx) });
      return { sent: true, service: 'Slack', platform: 'Slack', status: response.status };
    }

    const connection = connectionParams(params);
    if (!explicitBot && params.postAsUser === undefined && connection.scope === '' && connection.id === '') {
      throw new NodeError('Slack messages need an incoming webhook URL or a Slack connection (identity)');
    }
    const provider = this.provider('Slack bot messages need a Slack connection provider');
    const resolvedIdentity = slackIdentity(identity, params.postAsUser);
    requireConnection(connection);
    const channel = renderTemplate(stringParam(params.channel), ctx.context).trim();
    if (channel === '') throw new NodeError('channel is required');
    const message = requiredMessage(params, ctx);

    const result = await fromProvider(() =>
      provider.postSlackMessage({
        ...connectionMessage(d, connection, message),
        identity: resolvedIdentity,
        channel,
      }),
    );
    return providerOutputs('Slack', 'Slack', result);
  }

  private async sendTeams(d: Delivery): Promise<Record<string, unknown>> {
    const { params, ctx } = d;
    const method = teamsDeliveryMethod(params);

    if (method === 'webhook') {
      const url = webhookUrl(params, 'Teams');
      const headers = workflowHeader(params);
      const cardText = stringParam(params.cardJson);
      const payload = cardText.trim() !== '' ? teamsCard(cardText, ctx) : { text: requiredMessage(params, ctx) };
      const response = await post(d, 'Microsoft Teams', url, payload, headers);
      return { sent: true, service: 'Microsoft Teams', platform: 'Microsoft Teams', status: response.status };
    }

    const provider = this.provider('Teams delegated messages need a Microsoft Teams connection provider');
    const connection = connectionParams(params);
    requireConnection(connection);
    const teamId = stringParam(params.teamId).trim();
    const channelId = stringParam(params.channelId).trim();
    if (teamId === '') throw new NodeError('teamId is required');
    if (channelId === '') throw new NodeError('channelId is required');
    const message = requiredMessage(params, ctx);

    const result = await fromProvider(() =>
      provider.postTeamsMessage({ ...connectionMessage(d, connection, message), teamId, channelId }),
    );
    return providerOutputs('Microsoft Teams', 'Microsoft Teams', result);
  }

  private provider(what: string): ConnectionProvider {
    if (!this.deps.connections) throw new NodeError(`${what}, which is not configured on this server`);
    return this.deps.connections;
  }
}

interface Delivery {
  node: GraphNode;
  ctx: NodeContext;
  params: Record<string, unknown>;
  timeoutMs: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

async function sendGoogleChat(d: Delivery): Promise<Record<string, unknown>> {
  const { params, ctx } = d;
  const url = webhookUrl(params, 'Google Chat');
  const cardText = stringParam(params.cardJson);
  let payload: unknown;
  if (cardText.trim() !== '') {
    const card = parseCard(cardText, ctx);
    if (!('cards' in card) && !('cardsV2' in card)) throw new NodeError('Card JSON must contain cards or cardsV2');
    payload = card;
  } else {
    payload = { text: requiredMessage(params, ctx) };
  }
  const response = await post(d, 'Google Chat', url, payload);
  return { sent: true, service: 'Google Chat', platform: 'Google Chat', status: response.status };
}

/**
 * Templated card JSON. Valid JSON is parsed first and its strings templated, so values with quotes
 * cannot break it; otherwise (placeholders outside strings) the text is templated, then parsed.
 */
function parseCard(text: string, ctx: NodeContext): Record<string, unknown> {
  let card = parseJson(text);
  card = card === undefined ? parseJson(renderTemplate(text, ctx.context)) : renderDeep(card, ctx.context);
  if (card === undefined) throw new NodeError('Card JSON is not valid JSON');
  if (card === null || typeof card !== 'object' || Array.isArray(card)) {
    throw new NodeError('Card JSON must be a JSON object');
  }
  return card as Record<string, unknown>;
}

/** A MessageCard or a ready `attachments` message is sent as is; a bare Adaptive Card is wrapped. */
function teamsCard(text: string, ctx: NodeContext): Record<string, unknown> {
  const card = parseCard(text, ctx);
  if (String(card['@type']).toLowerCase() === 'messagecard' || Array.isArray(card.attachments)) return card;
  if (card.type === 'AdaptiveCard') {
    return {
      type: 'message',
      attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card }],
    };
  }
  throw new NodeError('Teams card JSON must be a MessageCard or an Adaptive Card');
}

/** Explicit `identity`, else the legacy `postAsUser` flag. */
function slackIdentity(identity: string, postAsUser: unknown): SlackMessageArgs['identity'] {
  if (identity === 'workspace_bot' || identity === 'personal_user') return identity;
  if (postAsUser === true || postAsUser === 'true') return 'personal_user';
  if (postAsUser === false || postAsUser === 'false') return 'workspace_bot';
  throw new NodeError('Slack identity is required (workspace_bot or personal_user)');
}

function teamsDeliveryMethod(params: Record<string, unknown>): 'webhook' | 'delegated' {
  const method = stringParam(params.deliveryMethod).trim().toLowerCase();
  if (method.includes('delegated') || method.includes('oauth')) return 'delegated';
  if (['webhook', 'connector', 'workflow', 'power automate'].some((word) => method.includes(word))) return 'webhook';
  if (method !== '') throw new NodeError('Unsupported Teams delivery method');
  if (stringParam(params.teamId).trim() !== '' && stringParam(params.channelId).trim() !== '') return 'delegated';
  if (stringParam(params.webhookUrl).trim() !== '') return 'webhook';
  throw new NodeError('Teams messages need a delivery method (Incoming Webhook or Delegated OAuth)');
}

/**
 * Whether a Teams workflow webhook sends `workflowHeaderSecret` (the `workflowOption` names a header).
 * Secret sync (src/secrets/secret-sync.ts) collects the secret on exactly this condition.
 */
export function usesWorkflowHeaderSecret(params: Record<string, unknown>): boolean {
  return stringParam(params.workflowOption).toLowerCase().includes('header');
}

/** Workflow (Power Automate) webhooks may require a shared-secret header. */
function workflowHeader(params: Record<string, unknown>): Record<string, string> {
  if (!usesWorkflowHeaderSecret(params)) return {};
  const name = stringParam(params.workflowHeaderName).trim();
  const secret = stringParam(params.workflowHeaderSecret).trim();
  if (name === '' || !HEADER_NAME.test(name))
    throw new NodeError('workflowHeaderName is required and must be a header name');
  if (secret === '' || !HEADER_VALUE.test(secret)) throw new NodeError('workflowHeaderSecret is required');
  return { [name]: secret };
}

/** Not templated and never echoed: the URL is the credential. */
function webhookUrl(params: Record<string, unknown>, platform: string): string {
  const raw = stringParam(params.webhookUrl).trim();
  if (raw === '') throw new NodeError(`${platform} webhook URL is required`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new NodeError(`${platform} webhook URL is not a valid URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new NodeError(`${platform} webhook URL must use http or https`);
  }
  return url.toString();
}

function requiredMessage(params: Record<string, unknown>, ctx: NodeContext): string {
  const message = renderTemplate(stringParam(params.message), ctx.context);
  if (message.trim() === '') throw new NodeError('message is required');
  return message;
}

/** `connectionScope` + `connectionId`, top-level or inside `connection`. */
function connectionParams(params: Record<string, unknown>): { scope: string; id: string } {
  const nested = asRecord(params.connection);
  return {
    scope: stringParam(params.connectionScope).trim() || stringParam(nested.connectionScope).trim(),
    id: stringParam(params.connectionId).trim() || stringParam(nested.connectionId).trim(),
  };
}

function requireConnection(connection: { scope: string; id: string }): void {
  if (connection.scope === '' || connection.id === '') {
    throw new NodeError('OAuth connections require explicit connectionScope and connectionId parameters');
  }
}

function connectionMessage(d: Delivery, connection: { scope: string; id: string }, message: string): ConnectionMessage {
  return {
    run: d.ctx.run,
    nodeId: d.node.id,
    connectionScope: connection.scope,
    connectionId: connection.id,
    message,
    signal: d.ctx.signal,
    timeoutMs: d.timeoutMs,
  };
}

/** The provider's fields (message ids, connection) after the fixed ones, which it cannot override. */
function providerOutputs(service: string, platform: string, result: Record<string, unknown>): Record<string, unknown> {
  const fixed = { sent: true, service, platform };
  return { ...fixed, ...result, ...fixed };
}

async function fromProvider(call: () => Promise<Record<string, unknown>>): Promise<Record<string, unknown>> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof OutboundError) throw new NodeError(err.message);
    throw err;
  }
}

function post(
  d: Delivery,
  service: string,
  url: string,
  payload: unknown,
  extraHeaders: Record<string, string> = {},
): Promise<OutboundResponse> {
  return callProvider(d.ctx, d.node, service, d.timeoutMs, {
    method: 'POST',
    url,
    headers: { 'Content-Type': 'application/json', ...extraHeaders },
    body: JSON.stringify(payload),
  });
}

function normalized(value: unknown): string {
  return stringParam(value)
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function stringParam(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function positiveNumber(value: unknown): number | undefined {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined;
}

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
