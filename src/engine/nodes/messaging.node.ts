import { Type } from 'class-transformer';
import { IsObject, IsOptional, IsString, ValidateNested } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { callProvider } from '../outbound';
import { OutboundError, type OutboundResponse } from '../../egress/outbound-http';
import { detectMessagingPlatform } from '../../plans/plan-assessment';
import { parseParams } from '../node-params';
import {
  NodeError,
  type GraphNode,
  type NodeContext,
  type NodeExecutor,
  type NodeResult,
  type NodeTypeInfo,
  type RunInfo,
} from '../node-types';
import { renderDeep, renderTemplate } from '../templating';
import { credentialNote, FieldSchema, flagValue, IsFlag, OptionalParam } from './param-rules';

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

/** The OAuth connection a Slack bot or Teams delegated message is sent with. */
export class MessagingConnection {
  @JSONSchema({ description: 'Whose connection: `workspace` or `user`.' })
  @IsOptional()
  @IsString()
  connectionScope?: string;

  @JSONSchema({ description: "The connection's id." })
  @IsOptional()
  @IsString()
  connectionId?: string;
}

/**
 * `data.params` of a messaging node: one class for the three platforms, each field saying which
 * platform reads it. The UI keeps fields of a delivery it switched away from; they do no harm.
 */
export class MessagingNodeParams {
  @JSONSchema({
    description:
      'The platform, any case: text containing `slack` is Slack, `teams` or `microsoft` Teams, `googlechat` (or both "google" and "chat") Google Chat. The first of `service`, `provider`, `platform`, then the node\'s `data.nodeType`, `actionKey`, `actionType`, `label` and `type` that names one decides.',
    examples: ['Slack', 'Microsoft Teams', 'Google Chat'],
  })
  @IsOptional()
  @IsString()
  service?: string;

  @JSONSchema({ description: 'The platform when `service` names none (same rules).' })
  @IsOptional()
  @IsString()
  provider?: string;

  @JSONSchema({ description: 'The platform when `service` and `provider` name none (same rules).' })
  @IsOptional()
  @IsString()
  platform?: string;

  @JSONSchema({
    description:
      'Incoming webhook URL (http or https), used as written and never shown in errors: the URL is the credential. Required for Google Chat and for webhook deliveries to Slack and Teams.',
  })
  @IsOptional()
  @IsString()
  webhookUrl?: string;

  @JSONSchema({
    description: 'The message text, templated. Required unless a card (`cardJson`) is sent.',
  })
  @IsOptional()
  @IsString()
  message?: string;

  @JSONSchema({
    description:
      'Google Chat and Teams webhooks: a card as JSON text, templated, sent instead of `message`. Google Chat: an object with `cards` or `cardsV2`; Teams: a MessageCard, an Adaptive Card (wrapped for you) or a ready `attachments` message.',
  })
  @IsOptional()
  @IsString()
  cardJson?: string;

  @JSONSchema({
    description:
      'Slack: `workspace_bot` or `personal_user` posts through a Slack connection (and wins over a leftover `webhookUrl`); `incoming_webhook` posts to `webhookUrl`.',
    examples: ['incoming_webhook', 'workspace_bot', 'personal_user'],
  })
  @IsOptional()
  @IsString()
  identity?: string;

  @JSONSchema({
    description:
      'Teams: `Incoming Webhook` (or a connector / `Workflow (Power Automate)` webhook) or `Delegated OAuth (Post as user)`; when empty, `teamId` with `channelId` means delegated and a `webhookUrl` means webhook. Slack: `incoming_webhook` selects the webhook.',
    examples: ['Incoming Webhook', 'Workflow (Power Automate)', 'Delegated OAuth (Post as user)'],
  })
  @IsOptional()
  @IsString()
  deliveryMethod?: string;

  @FieldSchema({
    type: ['boolean', 'string'],
    description:
      'Slack, older graphs: the identity when `identity` is empty, a boolean or "true"/"false": true posts as `personal_user`, false as `workspace_bot`.',
  })
  @OptionalParam()
  @IsFlag()
  postAsUser?: boolean | string;

  @JSONSchema({ description: 'Slack bot and Teams delegated: `workspace` or `user` (else read from `connection`).' })
  @IsOptional()
  @IsString()
  connectionScope?: string;

  @JSONSchema({ description: 'Slack bot and Teams delegated: the connection id (else read from `connection`).' })
  @IsOptional()
  @IsString()
  connectionId?: string;

  @JSONSchema({
    description: 'Slack bot and Teams delegated: `{connectionScope, connectionId}`, as the UI nests them.',
  })
  @OptionalParam()
  @IsObject()
  @ValidateNested()
  @Type(() => MessagingConnection)
  connection?: MessagingConnection;

  @JSONSchema({ description: 'Slack bot: the channel to post to, templated. Required for bot messages.' })
  @IsOptional()
  @IsString()
  channel?: string;

  @JSONSchema({ description: 'Teams delegated: the team id. Required for delegated messages.' })
  @IsOptional()
  @IsString()
  teamId?: string;

  @JSONSchema({ description: 'Teams delegated: the channel id. Required for delegated messages.' })
  @IsOptional()
  @IsString()
  channelId?: string;

  @JSONSchema({
    description:
      'Teams workflow webhooks: text containing "header" (e.g. `Header Secret Auth`) sends `workflowHeaderSecret` in the `workflowHeaderName` header.',
  })
  @IsOptional()
  @IsString()
  workflowOption?: string;

  @JSONSchema({ description: "Teams workflow webhooks: the secret header's name (with a header `workflowOption`)." })
  @IsOptional()
  @IsString()
  workflowHeaderName?: string;

  @JSONSchema({
    description: `Teams workflow webhooks: the secret header's value (with a header \`workflowOption\`). ${credentialNote('messaging:teams:<name>')}`,
  })
  @IsOptional()
  @IsString()
  workflowHeaderSecret?: string;

  @JSONSchema({
    description: `Slack: a token the UI keeps; this server's Slack deliveries do not send it. ${credentialNote('messaging:slack:<name>')}`,
  })
  @IsOptional()
  @IsString()
  token?: string;
}

/**
 * Messaging action (docs/contract.md §5.6 "messaging"): Google Chat, Slack and Microsoft Teams.
 *
 * `data.params`: `MessagingNodeParams`, parsed once per send. Platform by `detectMessagingPlatform`.
 * Google Chat is allowed on every plan; Slack and Teams pass the plan gate first. Webhook deliveries
 * POST JSON through `ctx.http`; Slack bot and Teams delegated deliveries need a `ConnectionProvider`
 * and fail clearly without one. Webhook URLs are credentials: errors never carry them, nor any other
 * param (deviation 22 in docs/deviations.md).
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
      params: parseParams(MessagingNodeParams, data.params),
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
        (params.webhookUrl ?? '').trim() !== '');

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
    const channel = renderTemplate(params.channel ?? '', ctx.context).trim();
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
      const cardText = params.cardJson ?? '';
      const payload = cardText.trim() !== '' ? teamsCard(cardText, ctx) : { text: requiredMessage(params, ctx) };
      const response = await post(d, 'Microsoft Teams', url, payload, headers);
      return { sent: true, service: 'Microsoft Teams', platform: 'Microsoft Teams', status: response.status };
    }

    const provider = this.provider('Teams delegated messages need a Microsoft Teams connection provider');
    const connection = connectionParams(params);
    requireConnection(connection);
    const teamId = (params.teamId ?? '').trim();
    const channelId = (params.channelId ?? '').trim();
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

/** The messaging node in the node-type catalogue (`GET /api/node-types`, docs/nodes.md). */
export const MESSAGING_NODE: NodeTypeInfo = {
  kind: 'messaging',
  category: 'action',
  title: 'Send a chat message',
  description:
    'Posts a templated message or card to Google Chat, Slack or Microsoft Teams through an incoming webhook (through the egress policy). Slack bot and Teams delegated messages need an OAuth connection provider, which this server does not have yet. Node-level `timeout` (ms, default 30000) bounds the call.',
  nodeTypes: ['action', 'actionSlack', 'actionTeams', 'actionGoogleChat'],
  actionTypes: ['messaging', 'slack', 'teams', 'microsoftteams', 'googlechat'],
  paramsField: 'params',
  params: MessagingNodeParams,
  outputs: {
    sent: 'Always true (a refused or failed post fails the node).',
    service: 'The platform posted to: `Google Chat`, `Slack` or `Microsoft Teams`.',
    platform: 'The same as `service`.',
    status: "Webhook deliveries: the HTTP status of the webhook's answer.",
    messageTs: 'Slack bot messages: the message timestamp, as the connection provider returns it.',
    channelId: 'Slack bot messages: the channel id, as the connection provider returns it.',
    messageId: 'Teams delegated messages: the message id, as the connection provider returns it.',
    connectionScope: 'Connection deliveries: the connection scope used, as the connection provider returns it.',
    connectionId: 'Connection deliveries: the connection id used, as the connection provider returns it.',
  },
  planGate:
    "Slack and Microsoft Teams: the run's workspace must be on the workspace plan and the workflow owner still a member of it (checked when the node runs; the Solo plan check also refuses them as a premium integration). Google Chat: every plan.",
};

interface Delivery {
  node: GraphNode;
  ctx: NodeContext;
  params: MessagingNodeParams;
  timeoutMs: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

async function sendGoogleChat(d: Delivery): Promise<Record<string, unknown>> {
  const { params, ctx } = d;
  const url = webhookUrl(params, 'Google Chat');
  const cardText = params.cardJson ?? '';
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
function slackIdentity(identity: string, postAsUser: MessagingNodeParams['postAsUser']): SlackMessageArgs['identity'] {
  if (identity === 'workspace_bot' || identity === 'personal_user') return identity;
  const flag = flagValue(postAsUser);
  if (flag === true) return 'personal_user';
  if (flag === false) return 'workspace_bot';
  throw new NodeError('Slack identity is required (workspace_bot or personal_user)');
}

function teamsDeliveryMethod(params: MessagingNodeParams): 'webhook' | 'delegated' {
  const method = (params.deliveryMethod ?? '').trim().toLowerCase();
  if (method.includes('delegated') || method.includes('oauth')) return 'delegated';
  if (['webhook', 'connector', 'workflow', 'power automate'].some((word) => method.includes(word))) return 'webhook';
  if (method !== '') throw new NodeError('Unsupported Teams delivery method');
  if ((params.teamId ?? '').trim() !== '' && (params.channelId ?? '').trim() !== '') return 'delegated';
  if ((params.webhookUrl ?? '').trim() !== '') return 'webhook';
  throw new NodeError('Teams messages need a delivery method (Incoming Webhook or Delegated OAuth)');
}

/**
 * Whether a Teams workflow webhook sends `workflowHeaderSecret` (the `workflowOption` names a header).
 * Secret sync (src/workflows/secret-sync.ts) collects the secret on exactly this condition.
 */
export function usesWorkflowHeaderSecret(params: { workflowOption?: unknown }): boolean {
  return typeof params.workflowOption === 'string' && params.workflowOption.toLowerCase().includes('header');
}

/** Workflow (Power Automate) webhooks may require a shared-secret header. */
function workflowHeader(params: MessagingNodeParams): Record<string, string> {
  if (!usesWorkflowHeaderSecret(params)) return {};
  const name = (params.workflowHeaderName ?? '').trim();
  const secret = (params.workflowHeaderSecret ?? '').trim();
  if (name === '' || !HEADER_NAME.test(name))
    throw new NodeError('workflowHeaderName is required and must be a header name');
  if (secret === '' || !HEADER_VALUE.test(secret)) throw new NodeError('workflowHeaderSecret is required');
  return { [name]: secret };
}

/** Not templated and never echoed: the URL is the credential. */
function webhookUrl(params: MessagingNodeParams, platform: string): string {
  const raw = (params.webhookUrl ?? '').trim();
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

function requiredMessage(params: MessagingNodeParams, ctx: NodeContext): string {
  const message = renderTemplate(params.message ?? '', ctx.context);
  if (message.trim() === '') throw new NodeError('message is required');
  return message;
}

/** `connectionScope` + `connectionId`, top-level or inside `connection`. */
function connectionParams(params: MessagingNodeParams): { scope: string; id: string } {
  // Cleared (`''`, null) when not an instance: validation let only an object through.
  const nested: MessagingConnection = params.connection instanceof MessagingConnection ? params.connection : {};
  return {
    scope: (params.connectionScope ?? '').trim() || (nested.connectionScope ?? '').trim(),
    id: (params.connectionId ?? '').trim() || (nested.connectionId ?? '').trim(),
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

function normalized(value: string | undefined): string {
  return (value ?? '')
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

function positiveNumber(value: unknown): number | undefined {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined;
}
