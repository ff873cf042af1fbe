/** What auto-sync collects from a saved graph (docs/contract.md §9.3, deviation 10 in docs/deviations.md). */

import { parseGraph, type ParsedNode } from '../engine/graph';
import { actionKindFromType, NODE_TYPES } from '../engine/node-registry';
import { emailProvider as emailNodeProvider, type Provider as EmailProvider } from '../engine/nodes/email.node';
import { httpAuthType, type HttpAuthType } from '../engine/nodes/http.node';
import { usesWorkflowHeaderSecret } from '../engine/nodes/messaging.node';
import { detectMessagingPlatform, type MessagingPlatform } from '../plans/plan-assessment';
import type { CredentialScope, NewSecretRow, SecretsService } from '../secrets/secrets.service';
import { type FoundSecret, isSecretReference } from '../secrets/secret-reference';

type Json = Record<string, unknown>;

/**
 * One credential param of an action node and where auto-sync files its value in the store
 * (`group:service:<auto name>`).
 */
export interface CredentialField {
  readonly paramKey: string;
  readonly group: string;
  readonly service: string;
  /** The node reads the param only when this holds (Teams: a header option). Ignored when ambiguous. */
  readonly when?: (params: Json) => boolean;
  /** Listed by §9.3 although no engine node reads it: still a credential typed into a saved graph. */
  readonly notReadByEngine?: true;
}

/** Which variants (provider, platform, auth type) a node uses. */
export interface VariantChoice<V extends string> {
  /** What the node itself would use, plus any other variant the graph explicitly names. */
  readonly variants: readonly V[];
  /** The graph does not say which variant applies: every variant's fields present are collected too. */
  readonly ambiguous: boolean;
}

/** The credential params of one action kind, by variant, and how a node's variant is resolved. */
export interface NodeCredentials<V extends string = string> {
  readonly variants: Readonly<Record<V, readonly CredentialField[]>>;
  resolve(node: { type: string; data: Json; params: Json }): VariantChoice<V>;
}

const field = (group: string, service: string, paramKey: string, extra: Partial<CredentialField> = {}) => ({
  group,
  service,
  paramKey,
  ...extra,
});
const choose = <V extends string>(variants: Iterable<V>, ambiguous = false): VariantChoice<V> => ({
  variants: [...new Set(variants)],
  ambiguous,
});

/**
 * Email (engine: src/engine/nodes/email.node.ts, providers in email/). Keyed by the node's own `Provider` type, so a provider
 * added to the node does not compile until it is listed here. `awsAccessKey` is the access key *id*,
 * which every signed request carries in clear; the secret is `awsSecretKey`.
 */
const EMAIL_CREDENTIALS: NodeCredentials<EmailProvider> = {
  variants: {
    smtp: [field('email', 'smtp', 'smtpPassword')],
    sendgrid: [field('email', 'sendgrid', 'apiKey')],
    mailgun: [field('email', 'mailgun', 'apiKey')],
    amazon_ses: [field('email', 'amazon_ses', 'awsSecretKey')],
  },
  resolve: ({ type, data, params }) => {
    const used: EmailProvider[] = [];
    try {
      used.push(emailNodeProvider(data, params));
    } catch {
      // The node refuses the provider; the graph may still name one below, else it is ambiguous.
    }
    // Every field that names a provider, the engine's two (in its order) before the UI type suffix.
    let named = [data.emailProvider, params.service].map(namedEmailProvider).filter((p) => p !== undefined);
    if (named.length === 0) {
      const suffix = /^actionemail/i.test(type) ? type.slice('actionEmail'.length) : '';
      named = [namedEmailProvider(suffix)].filter((p) => p !== undefined);
    }
    const known = named.filter((p): p is EmailProvider => p !== null);
    return choose([...used, ...known], named.length === 0 || known.length < named.length);
  },
};

/** Undefined when blank, null when it names no provider; any case and separators (`Amazon-SES`). */
function namedEmailProvider(value: unknown): EmailProvider | null | undefined {
  const text = compact(str(value) ?? '');
  if (text === '') return undefined;
  const providers = Object.keys(EMAIL_CREDENTIALS.variants) as EmailProvider[];
  return providers.find((provider) => compact(provider) === text) ?? null;
}

/**
 * Messaging (engine: src/engine/nodes/messaging.node.ts): the platform by the node's own detection.
 * Slack delivery itself uses the webhook URL or an OAuth connection; §9.3 still moves a `token`.
 */
const MESSAGING_CREDENTIALS: NodeCredentials<MessagingPlatform> = {
  variants: {
    slack: [field('messaging', 'slack', 'token', { notReadByEngine: true })],
    teams: [field('messaging', 'teams', 'workflowHeaderSecret', { when: usesWorkflowHeaderSecret })],
    googlechat: [],
  },
  resolve: (node) => {
    const platform = detectMessagingPlatform(node);
    return platform ? choose([platform]) : choose([], true);
  },
};

/** HTTP (engine: src/engine/nodes/http.node.ts): the node's auth type, plus a loosely spelled one. */
const HTTP_CREDENTIALS: NodeCredentials<HttpAuthType> = {
  variants: {
    basic: [field('http', 'basic_auth', 'password')],
    bearer: [field('http', 'bearer_token', 'token')],
    none: [],
  },
  resolve: ({ params }) => choose([httpAuthType(params), spelledAuthType(params.authType)]),
};

/** The UI's webhook action (§9.3). No engine node runs it (the registry skips the action type). */
const WEBHOOK_CREDENTIALS: NodeCredentials<HttpAuthType> = {
  variants: {
    basic: [field('webhook', 'basic_auth', 'authPassword', { notReadByEngine: true })],
    bearer: [field('webhook', 'bearer_token', 'authToken', { notReadByEngine: true })],
    none: [],
  },
  resolve: ({ params }) => choose([spelledAuthType(params.authType)]),
};

function spelledAuthType(value: unknown): HttpAuthType {
  const text = compact(str(value) ?? '');
  return text === 'basic' || text === 'bearer' ? text : 'none';
}

/** Type-checks one kind against its own variant type, then files it in the untyped table. */
const erase = <V extends string>(credentials: NodeCredentials<V>) => credentials as unknown as NodeCredentials;

/**
 * Every action kind (see `credentialKind`) and its credential params: the one table auto-sync reads.
 * `null`: the kind's node reads no credential param. A kind that is not listed (an action node added
 * with `npm run g:node` and not declared here yet) gets every param whose name looks like a credential
 * (`CREDENTIAL_PARAM_NAME`) collected; the spec fails until every registered action kind is listed.
 */
export const NODE_CREDENTIALS: Readonly<Record<string, NodeCredentials | null>> = {
  email: erase(EMAIL_CREDENTIALS),
  messaging: erase(MESSAGING_CREDENTIALS),
  http: erase(HTTP_CREDENTIALS),
  webhook: erase(WEBHOOK_CREDENTIALS),
  code: null,
  sheets: null,
  notion: null,
  asana: null,
};

/** A param name that holds a credential (`apiKey`, `smtpPassword`, `awsSecretKey`, `token`, ...). */
export const CREDENTIAL_PARAM_NAME = /pass(?:word|wd)|secret|token|api_?key|private_?key|credential/i;

/** The registry's action keys that run the messaging node (docs/contract.md §5.6). */
const MESSAGING_KINDS: ReadonlySet<string> = new Set(
  NODE_TYPES.filter((info) => info.kind === 'messaging').flatMap((info) =>
    info.actionTypes.map((t) => t.toLowerCase()),
  ),
);

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const lower = (value: unknown): string => str(value)?.trim().toLowerCase() ?? '';
const compact = (value: string): string => value.replace(/[^A-Za-z0-9]/g, '').toLowerCase();
const lookup = <T>(table: Record<string, T>, key: string): T | undefined =>
  Object.prototype.hasOwnProperty.call(table, key) ? table[key] : undefined;

/** `action` or any UI action type (`actionHttp`, `actionEmailSendgrid`, ...). */
function isActionNode(type: unknown): type is string {
  return typeof type === 'string' && type.startsWith('action');
}

/**
 * The action kind of an action node, as the engine's registry routes it: lower-cased `data.actionType`
 * (messaging aliases → `messaging`), else the UI type's prefix (`actionHttpRequest` → `http`), else
 * the rest of the UI type (`actionWebhook` → `webhook`). '' when nothing names one.
 */
export function credentialKind(node: unknown): string {
  if (!isObject(node) || !isActionNode(node.type)) return '';
  const declared = isObject(node.data) ? lower(node.data.actionType) : '';
  const kind = declared || actionKindFromType(node.type) || node.type.slice('action'.length).toLowerCase();
  return MESSAGING_KINDS.has(kind) ? 'messaging' : kind;
}

/**
 * The credential params auto-sync collects from an action node, most specific first: the fields of
 * the variants the node uses (and any other variant the graph names), then, when the variant is
 * ambiguous, the fields of every variant. One entry per param.
 */
export function credentialFields(node: { type: string; data: Json; params: Json }): CredentialField[] {
  const kind = credentialKind(node);
  if (kind === '') return [];
  if (!Object.prototype.hasOwnProperty.call(NODE_CREDENTIALS, kind)) return guessedFields(kind, node.params);
  const credentials = NODE_CREDENTIALS[kind];
  if (!credentials) return [];
  const choice = credentials.resolve(node);
  const fields = choice.variants.flatMap((v) =>
    (lookup(credentials.variants, v) ?? []).filter((f) => !f.when || f.when(node.params)),
  );
  if (choice.ambiguous) fields.push(...Object.values(credentials.variants).flat());
  const byParam = new Map<string, CredentialField>();
  for (const f of fields) if (!byParam.has(f.paramKey)) byParam.set(f.paramKey, f);
  return [...byParam.values()];
}

/** An action kind nobody declared: every param named like a credential, filed under `action:<kind>`. */
function guessedFields(kind: string, params: Json): CredentialField[] {
  const service = compact(kind).slice(0, 100) || 'unknown';
  return Object.keys(params)
    .filter((key) => CREDENTIAL_PARAM_NAME.test(key))
    .map((key) => field('action', service, key));
}

/**
 * Collects the credential params of every action node (see `NODE_CREDENTIALS`): the table of §9.3 —
 * email mailgun/sendgrid `apiKey`, smtp `smtpPassword`, amazon_ses `awsSecretKey`; messaging Slack
 * `token`, Teams with a header `workflowOption` `workflowHeaderSecret`; webhook basic/bearer
 * `authPassword`/`authToken`; http basic/bearer `password`/`token` — with the provider, platform and
 * auth type resolved by the engine nodes' own functions, so sync and node cannot disagree; any other
 * provider the graph names is collected too, and an ambiguous one collects every credential present.
 * Non-empty trimmed values only (the trimmed value is returned). Values that already are secret
 * references (see isSecretReference) or contain a `{{` template are NOT collected. Untrusted input:
 * never throw.
 */
export function collectGraphSecrets(graph: unknown): FoundSecret[] {
  const found: FoundSecret[] = [];
  for (const node of parseGraph(graph).graph.nodes) {
    try {
      found.push(...collectNodeSecrets(node));
    } catch {
      // A hostile node (throwing getter, proxy) must not stop the save; it simply contributes nothing.
    }
  }
  return found;
}

function collectNodeSecrets(node: ParsedNode): FoundSecret[] {
  const { id, type, data } = node;
  if (!isActionNode(type) || !isObject(data.params)) return [];
  const params = data.params;
  const found: FoundSecret[] = [];
  for (const { paramKey, group, service } of credentialFields({ type, data, params })) {
    if (!Object.prototype.hasOwnProperty.call(params, paramKey)) continue;
    const value = str(params[paramKey])?.trim();
    if (!value || value.includes('{{') || isSecretReference(value)) continue;
    found.push({ nodeId: id, paramKey, group, service, value });
  }
  return found;
}

/** Returns a deep copy of the graph where each found secret's param value is replaced by the given reference string. `replacements` maps `${nodeId}\u0000${paramKey}` → reference. Untrusted input; never mutate the input. */
export function replaceGraphSecrets(graph: unknown, replacements: Map<string, string>): unknown {
  const copy = deepCopy(graph, new WeakMap());
  if (replacements.size === 0) return copy;
  // The parser's nodes share `data` with the copy: the params are rewritten in place there.
  for (const node of parseGraph(copy).graph.nodes) {
    const params = node.data.params;
    if (!isObject(params)) continue;
    for (const key of Object.keys(params)) {
      const reference = replacements.get(`${node.id}\u0000${key}`);
      if (reference !== undefined && typeof params[key] === 'string') params[key] = reference;
    }
  }
  return copy;
}

/** Every secret reference in each node's params, by node id (what hydrateParams would replace). */
export function graphReferences(graph: unknown): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  const walk = (value: unknown, into: Set<string>): void => {
    if (typeof value === 'string') {
      if (isSecretReference(value)) into.add(value);
    } else if (Array.isArray(value)) {
      for (const v of value) walk(v, into);
    } else if (value !== null && typeof value === 'object') {
      for (const v of Object.values(value)) walk(v, into);
    }
  };
  for (const node of parseGraph(graph).graph.nodes) {
    if (node.data.params === undefined) continue;
    // Merged per id: with duplicate ids (graphs stored before saves were validated) every copy's
    // references are checked, whichever one a run executes.
    const refs = found.get(node.id) ?? new Set<string>();
    walk(node.data.params, refs);
    if (refs.size) found.set(node.id, refs);
  }
  return found;
}

/**
 * Auto-sync on save: credentials typed into the graph go into the saver's store (SecretsService
 * decides the names and rows) and the graph keeps only references. Returns the graph to store and
 * the rows to insert with it.
 */
export async function syncGraphSecrets(
  secrets: Pick<SecretsService, 'planSync'>,
  saverId: string,
  scope: CredentialScope,
  graph: unknown,
): Promise<{ graph: unknown; inserts: NewSecretRow[] }> {
  const found = collectGraphSecrets(graph);
  if (!found.length) return { graph, inserts: [] };
  const { replacements, inserts } = await secrets.planSync(saverId, scope, found);
  return { graph: replaceGraphSecrets(graph, replacements), inserts };
}

/** JSON-shaped copy (arrays and objects rebuilt, everything else shared); shared and cyclic references keep their shape. */
function deepCopy(value: unknown, seen: WeakMap<object, unknown>): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Date) return new Date(value.getTime());
  const known = seen.get(value);
  if (known !== undefined) return known;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    seen.set(value, out);
    for (const item of value) out.push(deepCopy(item, seen));
    return out;
  }
  if (ArrayBuffer.isView(value)) return value;
  const out: Json = {};
  seen.set(value, out);
  for (const key of Object.keys(value)) {
    // defineProperty: a JSON `__proto__` key must stay data, not become the copy's prototype.
    Object.defineProperty(out, key, {
      value: deepCopy((value as Json)[key], seen),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}
