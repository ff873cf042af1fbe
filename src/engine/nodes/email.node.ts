/**
 * Email node: the params, the node info and the provider dispatch. Each provider sends from its own
 * file under `./email/`.
 */
import { IsOptional, IsString, ValidateBy } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { parseParams } from '../node-params';
import {
  NodeError,
  type GraphNode,
  type NodeContext,
  type NodeExecutor,
  type NodeResult,
  type NodeTypeInfo,
} from '../node-types';
import { renderTemplate } from '../templating';
import { sendMailgun } from './email/mailgun';
import { sendSendgrid } from './email/sendgrid';
import { sendSes } from './email/ses';
import { isPlainObject, type Delivery, type TemplateVariables } from './email/shared';
import { sendSmtp } from './email/smtp';
import { credentialNote, FieldSchema, IsFlag, IsNumberOrText, OptionalParam } from './param-rules';

export { signAwsRequest, type AwsSigningRequest, type AwsSigningScope } from './email/ses';

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
    const { options } = this;
    switch (provider) {
      case 'smtp':
        return { outputs: await sendSmtp(send, options.allowInsecureTls === true) };
      case 'sendgrid':
        return { outputs: await sendSendgrid(send, options.sendgridBaseUrl) };
      case 'mailgun':
        return {
          outputs: await sendMailgun(send, { baseUrl: options.mailgunBaseUrl, euBaseUrl: options.mailgunEuBaseUrl }),
        };
      case 'amazon_ses':
        return { outputs: await sendSes(send, options.sesEndpoint) };
    }
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

const DEFAULT_TIMEOUT_MS = 30_000;
const PROVIDERS: ReadonlySet<string> = new Set<Provider>(['smtp', 'sendgrid', 'mailgun', 'amazon_ses']);

/** The provider: `data.emailProvider`, else `params.service`. Secret sync resolves saved graphs with it too. */
export function emailProvider(data: Record<string, unknown>, params: { service?: unknown }): Provider {
  const named = [data.emailProvider, params.service].map((v) => (typeof v === 'string' ? v.trim() : ''));
  const raw = named.find((v) => v !== '') ?? '';
  const normalized = raw.toLowerCase().replace(/[\s-]+/g, '_');
  if (!PROVIDERS.has(normalized)) throw new NodeError('Unsupported email service');
  return normalized as Provider;
}

function positiveNumber(value: unknown): number | undefined {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined;
}
