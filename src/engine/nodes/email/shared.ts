/**
 * What the email providers share: the send in progress, address checks, required params and
 * template variables. Errors name a field or a bad address, never a param value.
 */
import type { OutboundRequest, OutboundResponse } from '../../../egress/outbound-http';
import { NodeError, type GraphNode, type NodeContext } from '../../node-types';
import { callProvider } from '../../outbound';
import { renderDeep, renderTemplate } from '../../templating';
import type { EmailNodeParams } from '../email.node';

/** One send: the node, its context, its parsed params and the templated subject and body. */
export interface Delivery {
  node: GraphNode;
  ctx: NodeContext;
  params: EmailNodeParams;
  timeoutMs: number;
  subject: string;
  body: string;
}

/** Template data as the client writes it: `[{key, value}]` rows, an object, or JSON object text. */
export type TemplateVariables = { key?: unknown; value?: unknown }[] | Record<string, unknown> | string;

type Context = Readonly<Record<string, unknown>>;
type RequiredField =
  'smtpHost' | 'smtpUser' | 'smtpPassword' | 'from' | 'apiKey' | 'domain' | 'awsAccessKey' | 'awsSecretKey';

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?';
export const DOMAIN = new RegExp(`^${LABEL}(?:\\.${LABEL})+$`);
/** `local@domain.tld`: an atom-ish local part and a dotted host name. */
const EMAIL = new RegExp(`^[A-Za-z0-9.!#$%&'*+/=?^_\`{|}~-]+@${LABEL}(?:\\.${LABEL})+$`);

/** Comma list of addresses, each `local@domain.tld`, no case-insensitive duplicates. */
export function recipients(raw: string | undefined): string[] {
  const list = (raw ?? '')
    .split(',')
    .map((address) => address.trim())
    .filter((address) => address !== '');
  if (list.length === 0) throw new NodeError('At least one recipient is required');
  const seen = new Set<string>();
  for (const address of list) {
    if (!EMAIL.test(address)) throw new NodeError(`Invalid recipient email address: ${address}`);
    const key = address.toLowerCase();
    if (seen.has(key)) throw new NodeError(`Duplicate recipient email address: ${address}`);
    seen.add(key);
  }
  return list;
}

/** `addr@example.com` or `Name <addr@example.com>`. */
export function sender(raw: string): { email: string; name?: string; text: string } {
  const text = raw.trim();
  if (EMAIL.test(text)) return { email: text, text };
  const match = /^([^<>\r\n]*)<([^<>\s]+)>$/.exec(text);
  if (match && EMAIL.test(match[2])) {
    const name = match[1].trim().replace(/^"(.*)"$/, '$1');
    return name === '' ? { email: match[2], text: match[2] } : { email: match[2], name, text };
  }
  throw new NodeError('Invalid sender (from) email address');
}

export function requireContent(s: Delivery): void {
  if (s.subject.trim() === '') throw new NodeError('subject is required');
  if (s.body.trim() === '') throw new NodeError('body is required');
}

/** A required text param; the error names the field, never a value. */
export function required(params: EmailNodeParams, field: RequiredField): string {
  const value = params[field];
  if (typeof value !== 'string' || value.trim() === '') throw new NodeError(`${field} is required`);
  return value;
}

/** An API provider's request, through the egress client (`ctx.http`). */
export function call(
  s: Delivery,
  service: string,
  req: Pick<OutboundRequest, 'method' | 'url' | 'headers' | 'body'>,
): Promise<OutboundResponse> {
  return callProvider(s.ctx, s.node, service, s.timeoutMs, req);
}

/** Template variables: `[{key,value}]` rows, an object, or a JSON object text; strings templated. */
export function variables(raw: TemplateVariables | undefined, context: Context): Record<string, unknown> {
  if (Array.isArray(raw)) {
    const out: Record<string, unknown> = {};
    for (const { key, value } of raw) {
      if (typeof key !== 'string' || key.trim() === '') continue;
      out[key.trim()] = typeof value === 'string' ? renderTemplate(value, context) : renderDeep(value, context);
    }
    return out;
  }
  if (typeof raw === 'string') {
    if (raw.trim() === '') return {};
    const parsed = parseJson(raw);
    if (!isPlainObject(parsed)) throw new NodeError('Template variables must be a JSON object');
    return renderDeep(parsed, context) as Record<string, unknown>;
  }
  if (raw !== null && typeof raw === 'object') return renderDeep(raw, context) as Record<string, unknown>;
  return {};
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A field of a JSON object response, or undefined when the text is not one. */
export function jsonField(text: string, field: string): unknown {
  const parsed = parseJson(text);
  return isPlainObject(parsed) ? parsed[field] : undefined;
}
