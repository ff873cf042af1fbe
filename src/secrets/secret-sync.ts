/** What auto-sync (reference §9.3, fixed per SPEC §9 item 10) collects from a saved workflow graph. */

export interface SecretRef {
  group: string;
  service: string;
  name: string;
}

/** One secret value found in a node param. `path` locates the param inside the graph so the caller can rewrite it: node id + the key inside data.params (or inside data for top-level keys). */
export interface FoundSecret {
  nodeId: string;
  paramKey: string;
  group: string;
  service: string;
  value: string;
}

type Json = Record<string, unknown>;
type Platform = 'slack' | 'teams' | 'googlechat';
type Rule = { group: string; service: string; paramKey: string };

/** Keyed by the provider name lower-cased with separators removed (`amazon ses`, `amazon_ses`, `AmazonSes` → `amazonses`). */
const EMAIL_RULES: Record<string, Rule> = {
  mailgun: { group: 'email', service: 'mailgun', paramKey: 'apiKey' },
  sendgrid: { group: 'email', service: 'sendgrid', paramKey: 'apiKey' },
  smtp: { group: 'email', service: 'smtp', paramKey: 'smtpPassword' },
  amazonses: { group: 'email', service: 'amazon_ses', paramKey: 'awsSecretKey' },
};

const AUTH_RULES: Record<'webhook' | 'http', Record<string, Rule>> = {
  webhook: {
    basic: { group: 'webhook', service: 'basic_auth', paramKey: 'authPassword' },
    bearer: { group: 'webhook', service: 'bearer_token', paramKey: 'authToken' },
  },
  http: {
    basic: { group: 'http', service: 'basic_auth', paramKey: 'password' },
    bearer: { group: 'http', service: 'bearer_token', paramKey: 'token' },
  },
};

const SLACK_RULE: Rule = { group: 'messaging', service: 'slack', paramKey: 'token' };
const TEAMS_RULE: Rule = { group: 'messaging', service: 'teams', paramKey: 'workflowHeaderSecret' };
const TEAMS_HEADER_SECRET_OPTION = 'header secret auth';

/** Engine aliases of the messaging router (reference §5.6). */
const MESSAGING_KINDS = new Set(['messaging', 'slack', 'teams', 'microsoftteams', 'googlechat']);

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const lower = (value: unknown): string => str(value)?.trim().toLowerCase() ?? '';
const compact = (value: string): string => value.replace(/[^A-Za-z0-9]/g, '').toLowerCase();
const lookup = <T>(table: Record<string, T>, key: string): T | undefined =>
  Object.prototype.hasOwnProperty.call(table, key) ? table[key] : undefined;

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

/** `action` or any UI action type (`actionHttp`, `actionEmailSendgrid`, ...). */
function isActionNode(type: unknown): type is string {
  return typeof type === 'string' && type.startsWith('action');
}

/** Lower-cased `data.actionType`, else derived from the UI node type. */
function actionKind(type: string, data: Json): string {
  const declared = lower(data.actionType);
  if (declared) return MESSAGING_KINDS.has(declared) ? 'messaging' : declared;
  const suffix = type.slice('action'.length).toLowerCase();
  if (suffix.startsWith('email')) return 'email';
  if (MESSAGING_KINDS.has(suffix)) return 'messaging';
  return suffix;
}

/** params.service, then data.emailProvider (what the engine reads), then the UI type suffix (`actionEmailAmazonSes`). */
function emailProvider(type: string, data: Json, params: Json): string {
  const declared = lower(params.service) || lower(data.emailProvider);
  if (declared) return compact(declared);
  return type.startsWith('actionEmail') ? compact(type.slice('actionEmail'.length)) : '';
}

function detectPlatformIn(text: string): Platform | null {
  if (text.includes('slack')) return 'slack';
  if (text.includes('teams') || text.includes('microsoft')) return 'teams';
  if (text.includes('googlechat') || (text.includes('google') && text.includes('chat'))) return 'googlechat';
  return null;
}

/** Same precedence as the engine (reference §5.6): the first field that names a platform wins. */
function detectPlatform(type: string, data: Json, params: Json): Platform | null {
  const candidates = [
    params.platform,
    params.service,
    params.provider,
    data.nodeType,
    data.actionKey,
    data.actionType,
    data.label,
    type,
  ];
  for (const candidate of candidates) {
    const platform = detectPlatformIn(lower(candidate));
    if (platform) return platform;
  }
  return null;
}

function ruleFor(type: string, data: Json, params: Json): Rule | undefined {
  const kind = actionKind(type, data);
  switch (kind) {
    case 'email':
      return lookup(EMAIL_RULES, emailProvider(type, data, params));
    case 'messaging': {
      const platform = detectPlatform(type, data, params);
      if (platform === 'slack') return SLACK_RULE;
      if (platform === 'teams' && lower(params.workflowOption) === TEAMS_HEADER_SECRET_OPTION) return TEAMS_RULE;
      return undefined;
    }
    case 'webhook':
    case 'http':
      return lookup(AUTH_RULES[kind], lower(params.authType));
    default:
      return undefined;
  }
}

/** Table of §9.3: email (params.service mailgun/sendgrid/smtp/`amazon ses` (also accept amazon_ses) → email/mailgun apiKey, email/sendgrid apiKey, email/smtp smtpPassword, email/amazon_ses awsSecretKey), messaging Slack → messaging/slack params.token, messaging Teams with params.workflowOption === 'Header Secret Auth' → messaging/teams params.workflowHeaderSecret, webhook authType basic/bearer → webhook/basic_auth authPassword, webhook/bearer_token authToken; http authType basic/bearer → http/basic_auth password, http/bearer_token token. Non-empty trimmed values only (the trimmed value is returned). Values that already are secret references (see isSecretReference) or contain a `{{` template are NOT collected. Untrusted input: never throw. */
export function collectGraphSecrets(graph: unknown): FoundSecret[] {
  const found: FoundSecret[] = [];
  const nodes = isObject(graph) ? graph.nodes : undefined;
  if (!Array.isArray(nodes)) return found;
  for (const node of nodes) {
    try {
      const secret = collectNodeSecret(node);
      if (secret) found.push(secret);
    } catch {
      // A hostile node (throwing getter, proxy) must not stop the save; it simply contributes nothing.
    }
  }
  return found;
}

function collectNodeSecret(node: unknown): FoundSecret | undefined {
  if (!isObject(node) || typeof node.id !== 'string' || !isActionNode(node.type)) return undefined;
  const data = node.data;
  if (!isObject(data) || !isObject(data.params)) return undefined;
  const params = data.params;
  const rule = ruleFor(node.type, data, params);
  if (!rule || !Object.prototype.hasOwnProperty.call(params, rule.paramKey)) return undefined;
  const value = str(params[rule.paramKey])?.trim();
  if (!value || value.includes('{{') || isSecretReference(value)) return undefined;
  return { nodeId: node.id, paramKey: rule.paramKey, group: rule.group, service: rule.service, value };
}

/** Returns a deep copy of the graph where each found secret's param value is replaced by the given reference string. `replacements` maps `${nodeId}\u0000${paramKey}` → reference. Untrusted input; never mutate the input. */
export function replaceGraphSecrets(graph: unknown, replacements: Map<string, string>): unknown {
  const copy = deepCopy(graph, new WeakMap());
  if (replacements.size === 0 || !isObject(copy) || !Array.isArray(copy.nodes)) return copy;
  for (const node of copy.nodes) {
    if (!isObject(node) || typeof node.id !== 'string' || !isObject(node.data)) continue;
    const params = node.data.params;
    if (!isObject(params)) continue;
    for (const key of Object.keys(params)) {
      const reference = replacements.get(`${node.id}\u0000${key}`);
      if (reference !== undefined && typeof params[key] === 'string') params[key] = reference;
    }
  }
  return copy;
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
