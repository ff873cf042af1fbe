import { callProvider, outboundOrigin } from '../outbound';
import { IsOptional, IsString, ValidateBy } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { createHash, createHmac } from 'node:crypto';
import { createTransport } from 'nodemailer';
import { connectionGuardOf, type VettedConnection } from '../../egress/guarded-outbound-http';
import { OutboundError, type OutboundRequest, type OutboundResponse } from '../../egress/outbound-http';
import { parseParams } from '../node-params';
import {
  NodeError,
  type GraphNode,
  type NodeContext,
  type NodeExecutor,
  type NodeResult,
  type NodeTypeInfo,
} from '../node-types';
import { renderDeep, renderTemplate } from '../templating';
import { credentialNote, FieldSchema, flagValue, IsFlag, IsNumberOrText, OptionalParam } from './param-rules';

export interface EmailNodeOptions {
  sendgridBaseUrl: string;
  mailgunBaseUrl: string;
  mailgunEuBaseUrl: string;
  sesEndpoint: (region: string) => string;
  /**
   * TESTS ONLY: accept any SMTP server certificate (`tls.rejectUnauthorized = false`), so a local
   * `smtp-server` with its self-signed default certificate can be reached over STARTTLS. Never set
   * this in production wiring.
   */
  allowInsecureTls?: boolean;
}

export type Provider = 'smtp' | 'sendgrid' | 'mailgun' | 'amazon_ses';

/** Template data as the client writes it: `[{key, value}]` rows, an object, or JSON object text. */
type TemplateVariables = { key?: unknown; value?: unknown }[] | Record<string, unknown> | string;

/** The schema of a `TemplateVariables` field, with what it is for. */
const TemplateVariablesSchema = (description: string) =>
  FieldSchema({
    type: ['array', 'object', 'string'],
    items: { type: 'object', properties: { key: { type: 'string' }, value: {} } },
    description,
  });

/**
 * `data.params` of an email node: one class for the four providers, each field saying which
 * provider reads it. Which fields a provider requires is checked when it sends, so fields the UI
 * keeps from another provider do no harm.
 */
export class EmailNodeParams {
  @JSONSchema({
    description:
      'The provider when the node\'s `data.emailProvider` is not set: `smtp`, `sendgrid`, `mailgun` or `amazon_ses` (any case; spaces and dashes read as `_`, so "Amazon SES" works).',
    examples: ['smtp', 'sendgrid', 'mailgun', 'amazon_ses'],
  })
  @IsOptional()
  @IsString()
  service?: string;

  @JSONSchema({
    description:
      'Recipients: comma-separated `local@domain.tld` addresses, not templated; an address twice (any case) is refused. Required (Amazon SES: this or `toEmail`).',
  })
  @IsOptional()
  @IsString()
  to?: string;

  @JSONSchema({
    description:
      'Sender: `addr@example.com` or `Name <addr@example.com>`. Required for SMTP, SendGrid and Mailgun; Amazon SES uses it when `fromEmail` is empty.',
  })
  @IsOptional()
  @IsString()
  from?: string;

  @JSONSchema({ description: 'Subject, templated. Required by the API providers unless a template is named.' })
  @IsOptional()
  @IsString()
  subject?: string;

  @JSONSchema({
    description: 'Plain-text body, templated. Required by the API providers unless a template is named.',
  })
  @IsOptional()
  @IsString()
  body?: string;

  @JSONSchema({
    description:
      'SMTP: server host name or address, without a port. Required for SMTP; the connection passes the egress policy.',
  })
  @IsOptional()
  @IsString()
  smtpHost?: string;

  @FieldSchema({
    type: ['integer', 'string'],
    description: 'SMTP: server port (1-65535), a number or numeric text. Required for SMTP.',
  })
  @OptionalParam()
  @IsNumberOrText()
  smtpPort?: number | string;

  @JSONSchema({ description: 'SMTP: user name. Required for SMTP.' })
  @IsOptional()
  @IsString()
  smtpUser?: string;

  @JSONSchema({ description: `SMTP: password. Required for SMTP. ${credentialNote('email:smtp:<name>')}` })
  @IsOptional()
  @IsString()
  smtpPassword?: string;

  @JSONSchema({
    description:
      'SMTP: `starttls`, or `implicit_tls` (also `implicit`, `wrapper`); `none` and `plaintext` are refused. When empty, `smtpTls` and the port decide.',
    examples: ['starttls', 'implicit_tls'],
  })
  @IsOptional()
  @IsString()
  smtpTlsMode?: string;

  @FieldSchema({
    type: ['boolean', 'string'],
    description:
      'SMTP, older graphs: TLS on when `smtpTlsMode` is empty, a boolean or "true"/"false"; false is refused (no plaintext SMTP). Port 465 then uses implicit TLS, any other port mandatory STARTTLS.',
  })
  @OptionalParam()
  @IsFlag()
  smtpTls?: boolean | string;

  @JSONSchema({
    description: `SendGrid and Mailgun: API key. Required for both. ${credentialNote('email:sendgrid:<name>')} (Mailgun: \`email:mailgun:<name>\`).`,
  })
  @IsOptional()
  @IsString()
  apiKey?: string;

  @JSONSchema({ description: 'SendGrid: dynamic template id; with one, subject and body are optional.' })
  @IsOptional()
  @IsString()
  templateId?: string;

  @TemplateVariablesSchema(
    'SendGrid: dynamic template data, as `[{key, value}]` rows, an object or JSON object text; strings templated.',
  )
  @OptionalParam()
  @IsTemplateVariables()
  substitutions?: TemplateVariables;

  @JSONSchema({ description: 'Mailgun: sending domain, a plain domain name. Required for Mailgun.' })
  @IsOptional()
  @IsString()
  domain?: string;

  @JSONSchema({
    description:
      'Mailgun: any text containing "eu" (any case) sends through the EU endpoint, else the US one. Amazon SES: the AWS region when `awsRegion` is empty.',
  })
  @IsOptional()
  @IsString()
  region?: string;

  @JSONSchema({
    description: 'Mailgun and Amazon SES: name of a stored template; with one, subject and body are optional.',
  })
  @IsOptional()
  @IsString()
  template?: string;

  @TemplateVariablesSchema('Mailgun: template variables, same forms as `substitutions`.')
  @OptionalParam()
  @IsTemplateVariables()
  variables?: TemplateVariables;

  @JSONSchema({
    description: 'Amazon SES: access key id (sent in clear in every signed request). Required for SES.',
  })
  @IsOptional()
  @IsString()
  awsAccessKey?: string;

  @JSONSchema({
    description: `Amazon SES: secret access key. Required for SES. ${credentialNote('email:amazon_ses:<name>')}`,
  })
  @IsOptional()
  @IsString()
  awsSecretKey?: string;

  @JSONSchema({ description: 'Amazon SES: AWS region such as `eu-west-1` (else `region`). Required for SES.' })
  @IsOptional()
  @IsString()
  awsRegion?: string;

  @JSONSchema({ description: 'Amazon SES: API version, `v2` (default) or `v1`.', examples: ['v2', 'v1'] })
  @IsOptional()
  @IsString()
  sesVersion?: string;

  @JSONSchema({ description: 'Amazon SES: sender, same forms as `from` (used when this is empty).' })
  @IsOptional()
  @IsString()
  fromEmail?: string;

  @JSONSchema({ description: 'Amazon SES: recipients when `to` is empty, same form.' })
  @IsOptional()
  @IsString()
  toEmail?: string;

  @TemplateVariablesSchema('Amazon SES: template data, same forms as `substitutions`.')
  @OptionalParam()
  @IsTemplateVariables()
  templateVariables?: TemplateVariables;
}

/** Template data: text, an object, or rows that are objects whose `key`, when set, is text. */
function IsTemplateVariables(): PropertyDecorator {
  const isRow = (row: unknown) =>
    isPlainObject(row) && (row.key === undefined || row.key === null || typeof row.key === 'string');
  return ValidateBy({
    name: 'isTemplateVariables',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'string' || (Array.isArray(value) ? value.every(isRow) : isPlainObject(value)),
      defaultMessage: () => '$property must be [{key, value}] rows, an object or JSON object text',
    },
  });
}

/**
 * Email action (docs/contract.md §5.6 "email"): SMTP, SendGrid, Mailgun or Amazon SES.
 *
 * `data.params`: `EmailNodeParams`, parsed once per send. Provider from `data.emailProvider`, else
 * `params.service`. Recipients (`to`, SES also `toEmail`) are a comma list, not templated; `subject`
 * and `body` are templated. API providers go through `ctx.http` (egress policy applies); SMTP goes
 * through nodemailer once `ctx.http` has vetted the connection by the same policy (`vetConnection`),
 * to the vetted address with the host as TLS server name, so DNS is asked once; a client that cannot
 * vet connections sends no SMTP at all.
 * Errors name missing fields or a bad address but never carry param values (deviation 22 in docs/deviations.md).
 * Email nodes never select a next node.
 */
export class EmailNode implements NodeExecutor {
  constructor(private readonly options: EmailNodeOptions) {}

  async execute(node: GraphNode, ctx: NodeContext): Promise<NodeResult> {
    const data = node.data ?? {};
    const params = parseParams(EmailNodeParams, data.params);
    const provider = emailProvider(data, params);
    const send: Delivery = {
      node,
      ctx,
      params,
      timeoutMs: positiveNumber(data.timeout) ?? DEFAULT_TIMEOUT_MS,
      subject: renderTemplate(params.subject ?? '', ctx.context),
      body: renderTemplate(params.body ?? '', ctx.context),
    };
    switch (provider) {
      case 'smtp':
        return { outputs: await this.sendSmtp(send) };
      case 'sendgrid':
        return { outputs: await this.sendSendgrid(send) };
      case 'mailgun':
        return { outputs: await this.sendMailgun(send) };
      case 'amazon_ses':
        return { outputs: await this.sendSes(send) };
    }
  }

  private async sendSmtp(s: Delivery): Promise<Record<string, unknown>> {
    const { params } = s;
    const host = required(params, 'smtpHost').trim();
    const port = smtpPort(params.smtpPort);
    const user = required(params, 'smtpUser');
    const pass = required(params, 'smtpPassword');
    const from = sender(required(params, 'from'));
    const to = recipients(params.to);
    const tls = smtpTlsOptions(params, port);

    const target = await vetSmtp(s, host, port);
    if (s.ctx.signal.aborted) throw new NodeError('Email sending aborted');

    const transport = createTransport({
      // The vetted address, never the name: nodemailer must not resolve it again (DNS rebinding).
      host: target.address,
      port,
      ...(target.servername ? { servername: target.servername } : {}),
      secure: tls.secure,
      requireTLS: tls.requireTLS,
      auth: { user, pass },
      connectionTimeout: s.timeoutMs,
      greetingTimeout: s.timeoutMs,
      socketTimeout: s.timeoutMs,
      dnsTimeout: s.timeoutMs,
      disableFileAccess: true,
      disableUrlAccess: true,
      ...(this.options.allowInsecureTls ? { tls: { rejectUnauthorized: false } } : {}),
    });
    // nodemailer closes the connection itself when the signal aborts; closing here frees the transport.
    const onAbort = () => transport.close();
    s.ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      await transport.sendMail({ from: from.text, to, subject: s.subject, text: s.body, signal: s.ctx.signal });
    } catch (err) {
      throw smtpError(err, s.ctx.signal);
    } finally {
      s.ctx.signal.removeEventListener('abort', onAbort);
      transport.close();
    }
    return { sent: true, service: 'SMTP', recipient_count: to.length };
  }

  private async sendSendgrid(s: Delivery): Promise<Record<string, unknown>> {
    const { params, ctx } = s;
    const apiKey = required(params, 'apiKey').trim();
    const from = sender(required(params, 'from'));
    const to = recipients(params.to);
    const templateId = (params.templateId ?? '').trim();
    if (templateId === '') requireContent(s);

    const personalization: Record<string, unknown> = { to: to.map((email) => ({ email })) };
    if (templateId !== '') personalization.dynamic_template_data = variables(params.substitutions, ctx.context);
    const payload: Record<string, unknown> = {
      personalizations: [personalization],
      from: from.name ? { email: from.email, name: from.name } : { email: from.email },
    };
    if (templateId !== '') payload.template_id = templateId;
    if (s.subject !== '') payload.subject = s.subject;
    if (s.body !== '') payload.content = [{ type: 'text/plain', value: s.body }];

    const response = await call(s, 'SendGrid', {
      method: 'POST',
      url: `${trimSlash(this.options.sendgridBaseUrl)}/v3/mail/send`,
      headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(payload),
    });
    return {
      sent: true,
      service: 'SendGrid',
      status: response.status,
      message_id: response.headers['x-message-id'] ?? null,
    };
  }

  private async sendMailgun(s: Delivery): Promise<Record<string, unknown>> {
    const { params, ctx } = s;
    const domain = required(params, 'domain').trim().toLowerCase();
    if (!DOMAIN.test(domain)) throw new NodeError('Mailgun domain is not a valid domain name');
    const apiKey = required(params, 'apiKey').trim();
    const from = sender(required(params, 'from'));
    const to = recipients(params.to);
    const template = (params.template ?? '').trim();
    if (template === '') requireContent(s);

    const form = new URLSearchParams();
    form.append('from', from.text);
    for (const address of to) form.append('to', address);
    if (s.subject !== '') form.append('subject', s.subject);
    if (s.body !== '') form.append('text', s.body);
    if (template !== '') {
      form.append('template', template);
      form.append('h:X-Mailgun-Variables', JSON.stringify(variables(params.variables, ctx.context)));
    }

    const eu = (params.region ?? '').toLowerCase().includes('eu');
    const base = trimSlash(eu ? this.options.mailgunEuBaseUrl : this.options.mailgunBaseUrl);
    const response = await call(s, 'Mailgun', {
      method: 'POST',
      url: `${base}/v3/${domain}/messages`,
      headers: {
        Authorization: `Basic ${Buffer.from(`api:${apiKey}`, 'utf8').toString('base64')}`,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: form.toString(),
    });
    const id = jsonField(response.body.toString('utf8'), 'id');
    return {
      sent: true,
      service: 'Mailgun',
      status: response.status,
      message_id: typeof id === 'string' ? id : null,
    };
  }

  private async sendSes(s: Delivery): Promise<Record<string, unknown>> {
    const { params, ctx } = s;
    const accessKeyId = required(params, 'awsAccessKey').trim();
    const secretAccessKey = required(params, 'awsSecretKey').trim();
    const region = ((params.awsRegion ?? '').trim() || (params.region ?? '').trim()).toLowerCase();
    if (region === '') throw new NodeError('awsRegion is required');
    if (!AWS_REGION.test(region)) throw new NodeError('awsRegion is not a valid AWS region');
    const version = sesVersion(params.sesVersion);
    const fromRaw = (params.fromEmail ?? '').trim() || (params.from ?? '').trim();
    if (fromRaw === '') throw new NodeError('fromEmail is required');
    const from = sender(fromRaw);
    const to = recipients((params.to ?? '').trim() !== '' ? params.to : params.toEmail);
    const template = (params.template ?? '').trim();
    if (template === '') requireContent(s);
    const templateData = JSON.stringify(template === '' ? {} : variables(params.templateVariables, ctx.context));

    const endpoint = trimSlash(this.options.sesEndpoint(region));
    let request: Pick<OutboundRequest, 'method' | 'url' | 'headers' | 'body'>;
    if (version === 'v2') {
      const content =
        template !== ''
          ? { Template: { TemplateName: template, TemplateData: templateData } }
          : {
              Simple: {
                Subject: { Data: s.subject, Charset: 'UTF-8' },
                Body: { Text: { Data: s.body, Charset: 'UTF-8' } },
              },
            };
      request = {
        method: 'POST',
        url: `${endpoint}/v2/email/outbound-emails`,
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ FromEmailAddress: from.text, Destination: { ToAddresses: to }, Content: content }),
      };
    } else {
      const form = new URLSearchParams();
      form.append('Action', template !== '' ? 'SendTemplatedEmail' : 'SendEmail');
      form.append('Version', '2010-12-01');
      form.append('Source', from.text);
      to.forEach((address, i) => form.append(`Destination.ToAddresses.member.${i + 1}`, address));
      if (template !== '') {
        form.append('Template', template);
        form.append('TemplateData', templateData);
      } else {
        form.append('Message.Subject.Data', s.subject);
        form.append('Message.Subject.Charset', 'UTF-8');
        form.append('Message.Body.Text.Data', s.body);
        form.append('Message.Body.Text.Charset', 'UTF-8');
      }
      request = {
        method: 'POST',
        url: `${endpoint}/`,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body: form.toString(),
      };
    }
    request.headers = signAwsRequest(
      { method: request.method, url: request.url, headers: request.headers ?? {}, body: request.body ?? '' },
      { accessKeyId, secretAccessKey, region, service: 'ses' },
      ctx.now(),
    );

    const response = await call(s, 'Amazon SES', request);
    const text = response.body.toString('utf8');
    const messageId =
      version === 'v2' ? jsonField(text, 'MessageId') : /<MessageId>([^<]*)<\/MessageId>/.exec(text)?.[1];
    return {
      sent: true,
      service: 'Amazon SES',
      version,
      status: response.status,
      message_id: typeof messageId === 'string' ? messageId : null,
    };
  }
}

/** The email node in the node-type catalogue (`GET /api/node-types`, docs/nodes.md). */
export const EMAIL_NODE: NodeTypeInfo = {
  kind: 'email',
  category: 'action',
  title: 'Send email',
  description:
    'Sends a plain-text email through SMTP (STARTTLS or implicit TLS, never plaintext), SendGrid, Mailgun or Amazon SES, chosen by `data.emailProvider` or the `service` param. Every connection passes the egress policy; node-level `timeout` (ms, default 30000) bounds it.',
  nodeTypes: ['action', 'actionEmail', 'actionEmailSendgrid', 'actionEmailMailgun', 'actionEmailAmazonSes'],
  actionTypes: ['email'],
  paramsField: 'params',
  params: EmailNodeParams,
  outputs: {
    sent: 'Always true (a refused or failed send fails the node).',
    service: 'The provider that sent it: `SMTP`, `SendGrid`, `Mailgun` or `Amazon SES`.',
    recipient_count: 'SMTP only: the number of recipients.',
    status: "API providers only: the HTTP status of the provider's answer.",
    message_id: 'API providers only: the message id the provider returned, or null.',
    version: 'Amazon SES only: the API version used, `v1` or `v2`.',
  },
  planGate: null,
};

interface Delivery {
  node: GraphNode;
  ctx: NodeContext;
  params: EmailNodeParams;
  timeoutMs: number;
  subject: string;
  body: string;
}

type Context = Readonly<Record<string, unknown>>;
type RequiredField =
  'smtpHost' | 'smtpUser' | 'smtpPassword' | 'from' | 'apiKey' | 'domain' | 'awsAccessKey' | 'awsSecretKey';

const DEFAULT_TIMEOUT_MS = 30_000;
const PROVIDERS: ReadonlySet<string> = new Set<Provider>(['smtp', 'sendgrid', 'mailgun', 'amazon_ses']);
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?';
const DOMAIN = new RegExp(`^${LABEL}(?:\\.${LABEL})+$`);
/** `local@domain.tld`: an atom-ish local part and a dotted host name. */
const EMAIL = new RegExp(`^[A-Za-z0-9.!#$%&'*+/=?^_\`{|}~-]+@${LABEL}(?:\\.${LABEL})+$`);
/** Interpolated into the SES host name, so only the AWS shape is accepted. */
const AWS_REGION = /^[a-z]{2}(?:-[a-z0-9]+)+-\d{1,2}$/;

/** The provider: `data.emailProvider`, else `params.service`. Secret sync resolves saved graphs with it too. */
export function emailProvider(data: Record<string, unknown>, params: { service?: unknown }): Provider {
  const named = [data.emailProvider, params.service].map((v) => (typeof v === 'string' ? v.trim() : ''));
  const raw = named.find((v) => v !== '') ?? '';
  const normalized = raw.toLowerCase().replace(/[\s-]+/g, '_');
  if (!PROVIDERS.has(normalized)) throw new NodeError('Unsupported email service');
  return normalized as Provider;
}

/** Comma list of addresses, each `local@domain.tld`, no case-insensitive duplicates. */
function recipients(raw: string | undefined): string[] {
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
function sender(raw: string): { email: string; name?: string; text: string } {
  const text = raw.trim();
  if (EMAIL.test(text)) return { email: text, text };
  const match = /^([^<>\r\n]*)<([^<>\s]+)>$/.exec(text);
  if (match && EMAIL.test(match[2])) {
    const name = match[1].trim().replace(/^"(.*)"$/, '$1');
    return name === '' ? { email: match[2], text: match[2] } : { email: match[2], name, text };
  }
  throw new NodeError('Invalid sender (from) email address');
}

function requireContent(s: Delivery): void {
  if (s.subject.trim() === '') throw new NodeError('subject is required');
  if (s.body.trim() === '') throw new NodeError('body is required');
}

/** A required text param; the error names the field, never a value. */
function required(params: EmailNodeParams, field: RequiredField): string {
  const value = params[field];
  if (typeof value !== 'string' || value.trim() === '') throw new NodeError(`${field} is required`);
  return value;
}

function smtpPort(raw: EmailNodeParams['smtpPort']): number {
  if (raw === undefined || raw === null || raw === '') throw new NodeError('smtpPort is required');
  const n = typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) {
    throw new NodeError('smtpPort must be a port number (1-65535)');
  }
  return n;
}

/**
 * SMTP TLS (docs/contract.md §5.6): `smtpTlsMode` `starttls` or `implicit_tls|implicit|wrapper`, plaintext
 * refused; otherwise the legacy `smtpTls` flag (false refused) with implicit TLS on port 465 and
 * mandatory STARTTLS elsewhere.
 */
export function smtpTlsOptions(
  params: { smtpTlsMode?: unknown; smtpTls?: unknown },
  port: number,
): { secure: boolean; requireTLS: boolean } {
  const mode = typeof params.smtpTlsMode === 'string' ? params.smtpTlsMode.trim().toLowerCase() : '';
  if (mode !== '') {
    if (mode === 'starttls') return { secure: false, requireTLS: true };
    if (mode === 'implicit_tls' || mode === 'implicit' || mode === 'wrapper')
      return { secure: true, requireTLS: false };
    if (mode === 'none' || mode === 'plaintext') {
      throw new NodeError('Plaintext SMTP is not allowed: use STARTTLS or implicit TLS');
    }
    throw new NodeError('Unsupported smtpTlsMode (use starttls or implicit_tls)');
  }
  if (flagValue(params.smtpTls) === false) {
    throw new NodeError('Plaintext SMTP is not allowed: use STARTTLS or implicit TLS');
  }
  return port === 465 ? { secure: true, requireTLS: false } : { secure: false, requireTLS: true };
}

/**
 * The SMTP connection as the egress client vets it (same policy as HTTP; a block is recorded in the
 * block log and fails the node with `{"error":"egress_blocked",…}` naming host and reason). Bounded by
 * the node timeout and the run signal, as nodemailer's own lookup was.
 */
async function vetSmtp(s: Delivery, host: string, port: number): Promise<VettedConnection> {
  const guard = connectionGuardOf(s.ctx.http);
  if (!guard) throw new NodeError('SMTP is unavailable: the outbound client cannot apply the egress policy to it');
  if (s.ctx.signal.aborted) throw new NodeError('Email sending aborted');
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NodeError('SMTP host lookup timed out')), s.timeoutMs);
    onAbort = () => reject(new NodeError('Email sending aborted'));
    s.ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
  const vetting = guard.vetConnection({ protocol: 'smtp', host, port, origin: outboundOrigin(s.ctx, s.node) });
  vetting.catch(() => undefined);
  try {
    return await Promise.race([vetting, stopped]);
  } catch (err) {
    if (err instanceof OutboundError) throw new NodeError(err.message);
    throw err;
  } finally {
    clearTimeout(timer);
    if (onAbort) s.ctx.signal.removeEventListener('abort', onAbort);
  }
}

/** nodemailer's error codes carry the kind of failure; the server reply (never our params) adds detail. */
function smtpError(err: unknown, signal: AbortSignal): NodeError {
  if (err instanceof NodeError) return err;
  const e = (err ?? {}) as { code?: unknown; responseCode?: unknown; response?: unknown };
  if (signal.aborted || e.code === 'EABORT') return new NodeError('Email sending aborted');
  const reasons: Record<string, string> = {
    ETIMEDOUT: 'connection timed out',
    ECONNECTION: 'connection failed',
    ESOCKET: 'connection failed',
    EDNS: 'host lookup failed',
    ETLS: 'TLS negotiation failed',
    EAUTH: 'authentication failed',
    ENOAUTH: 'authentication failed',
    EENVELOPE: 'recipient or sender rejected',
    EMESSAGE: 'message rejected',
    EPROTOCOL: 'unexpected server response',
  };
  const reason = (typeof e.code === 'string' && reasons[e.code]) || 'sending failed';
  const reply = typeof e.response === 'string' ? e.response.replace(/\s+/g, ' ').trim().slice(0, 200) : '';
  const code = typeof e.responseCode === 'number' ? ` (${e.responseCode})` : '';
  return new NodeError(`SMTP ${reason}${code}${reply !== '' ? `: ${reply}` : ''}`);
}

function call(
  s: Delivery,
  service: string,
  req: Pick<OutboundRequest, 'method' | 'url' | 'headers' | 'body'>,
): Promise<OutboundResponse> {
  return callProvider(s.ctx, s.node, service, s.timeoutMs, req);
}

/** Template variables: `[{key,value}]` rows, an object, or a JSON object text; strings templated. */
function variables(raw: TemplateVariables | undefined, context: Context): Record<string, unknown> {
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

function sesVersion(raw: string | undefined): 'v1' | 'v2' {
  const v = (raw ?? '').trim().toLowerCase();
  if (v === '' || v === 'v2') return 'v2';
  if (v === 'v1') return 'v1';
  throw new NodeError('sesVersion must be v1 or v2');
}

// ---------------------------------------------------------------------------------------------
// AWS Signature Version 4 (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html)

export interface AwsSigningRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | Buffer;
}

export interface AwsSigningScope {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  service: string;
}

/**
 * Returns `headers` plus `X-Amz-Date` and `Authorization`. Signed headers are `host` (from the URL,
 * as `fetch` will send it) and every header given, lower-cased.
 */
export function signAwsRequest(req: AwsSigningRequest, scope: AwsSigningScope, now: Date): Record<string, string> {
  const amzDate = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const url = new URL(req.url);

  const canonicalHeaders = new Map<string, string>();
  for (const [name, value] of Object.entries(req.headers)) {
    canonicalHeaders.set(name.toLowerCase(), value.trim().replace(/\s+/g, ' '));
  }
  canonicalHeaders.set('host', url.host);
  canonicalHeaders.set('x-amz-date', amzDate);
  canonicalHeaders.delete('authorization');
  const names = [...canonicalHeaders.keys()].sort();
  const signedHeaders = names.join(';');

  const canonicalRequest = [
    req.method.toUpperCase(),
    canonicalPath(url.pathname),
    canonicalQuery(url.search),
    names.map((n) => `${n}:${canonicalHeaders.get(n)}\n`).join(''),
    signedHeaders,
    sha256Hex(req.body),
  ].join('\n');
  const credentialScope = `${day}/${scope.region}/${scope.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, credentialScope, sha256Hex(canonicalRequest)].join('\n');

  const kDate = hmac(`AWS4${scope.secretAccessKey}`, day);
  const kRegion = hmac(kDate, scope.region);
  const kService = hmac(kRegion, scope.service);
  const kSigning = hmac(kService, 'aws4_request');
  const signature = createHmac('sha256', kSigning).update(stringToSign, 'utf8').digest('hex');

  const headers = Object.fromEntries(Object.entries(req.headers).filter(([n]) => n.toLowerCase() !== 'authorization'));
  return {
    ...headers,
    'X-Amz-Date': amzDate,
    Authorization: `AWS4-HMAC-SHA256 Credential=${scope.accessKeyId}/${credentialScope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}

/** RFC 3986 unreserved characters stay, everything else is %XX (upper-case). */
function awsEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Non-S3 services: each segment of the (already encoded) path is encoded once more. */
function canonicalPath(pathname: string): string {
  if (pathname === '') return '/';
  return pathname
    .split('/')
    .map((segment) => awsEncode(segment))
    .join('/');
}

function canonicalQuery(search: string): string {
  const pairs = [...new URLSearchParams(search)].map(([k, v]) => [awsEncode(k), awsEncode(v)] as const);
  pairs.sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

// ---------------------------------------------------------------------------------------------

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function positiveNumber(value: unknown): number | undefined {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A field of a JSON object response, or undefined when the text is not one. */
function jsonField(text: string, field: string): unknown {
  const parsed = parseJson(text);
  return isPlainObject(parsed) ? parsed[field] : undefined;
}
