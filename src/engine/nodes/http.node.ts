import { Type } from 'class-transformer';
import { IsArray, IsDefined, IsOptional, IsString, ValidateBy, ValidateNested } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { outboundOrigin } from '../outbound';
import { OutboundError, type OutboundRequest, type OutboundResponse } from '../../egress/outbound-http';
import { nodeMessage, parseParams } from '../node-params';
import {
  NodeError,
  type GraphNode,
  type NodeContext,
  type NodeExecutor,
  type NodeResult,
  type NodeTypeInfo,
} from '../node-types';
import { renderDeep, renderTemplate } from '../templating';
import {
  credentialNote,
  FieldSchema,
  flagValue,
  IsFlag,
  IsScalar,
  listOf,
  OptionalParam,
  scalarText,
} from './param-rules';

/** One `{key, value}` row of `headers`, `queryParams` or `formBody`. */
export class HttpParamRow {
  @JSONSchema({ description: 'The header, query parameter or form field name. A row without one is skipped.' })
  @IsOptional()
  @IsString()
  key?: string;

  @FieldSchema({
    type: ['string', 'number', 'boolean'],
    description: 'The value, templated (`{{Label.path}}`); a number or boolean is sent as its text.',
  })
  @IsOptional()
  @IsScalar()
  value?: string | number | boolean;
}

/**
 * `data.params` of an HTTP node. Node-level `data.timeout` (ms, default 30000) and `data.retries`
 * sit beside it, outside the params.
 */
export class HttpNodeParams {
  @JSONSchema({ description: 'The URL to call, templated. Required: the node fails when it renders empty.' })
  @IsDefined({ context: nodeMessage('URL is required') })
  @IsString()
  url!: string;

  @JSONSchema({
    description:
      'GET, POST, PUT, PATCH, DELETE or HEAD, exactly in upper case; anything else (lower case too) is sent as GET. Default GET.',
    examples: ['GET', 'POST'],
  })
  @IsOptional()
  @IsString()
  method?: string;

  @JSONSchema({
    description:
      'Request headers as `[{key, value}]` rows, values templated. A name or value that is not a valid header is skipped.',
  })
  @OptionalParam()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => HttpParamRow)
  headers?: HttpParamRow[];

  @JSONSchema({
    description:
      'Query parameters as `[{key, value}]` rows, values templated; percent-encoded and appended to the URL with `?` or `&`.',
  })
  @OptionalParam()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => HttpParamRow)
  queryParams?: HttpParamRow[];

  @JSONSchema({
    description:
      '`json`, `form` or `raw` (any case; default raw). Ignored for GET, DELETE and HEAD, which send no body.',
    examples: ['json', 'form', 'raw'],
  })
  @IsOptional()
  @IsString()
  bodyType?: string;

  @FieldSchema({
    type: ['string', 'object', 'array'],
    description:
      'The body for `json` and `raw`, templated; an object or array is templated value by value and sent as JSON text. With `json` it goes as application/json when it parses (else as raw text). Empty: no body.',
  })
  @OptionalParam()
  @IsBodyValue()
  body?: string | Record<string, unknown> | unknown[];

  @JSONSchema({
    description: 'The fields of a `form` body as `[{key, value}]` rows, values templated; sent url-encoded.',
  })
  @OptionalParam()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => HttpParamRow)
  formBody?: HttpParamRow[];

  @JSONSchema({
    description:
      '`basic` (username and password) or `bearer` (token), any case; anything else sends no Authorization header. The header it builds replaces an `Authorization` row of `headers`.',
    examples: ['none', 'basic', 'bearer'],
  })
  @IsOptional()
  @IsString()
  authType?: string;

  @JSONSchema({ description: 'Basic auth user name, used as written (not templated).' })
  @IsOptional()
  @IsString()
  username?: string;

  @JSONSchema({
    description: `Basic auth password, used as written (not templated). ${credentialNote('http:basic_auth:<name>')}`,
  })
  @IsOptional()
  @IsString()
  password?: string;

  @JSONSchema({
    description: `Bearer token, templated. ${credentialNote('http:bearer_token:<name>')}`,
  })
  @IsOptional()
  @IsString()
  token?: string;

  @FieldSchema({
    type: ['boolean', 'string'],
    description:
      'Follow 3xx redirects (each hop passes the egress policy again): a boolean or the text "true"/"false". Default true.',
  })
  @OptionalParam()
  @IsFlag()
  followRedirects?: boolean | string;
}

/** A body param: text, or a JSON object or array. */
function IsBodyValue(): PropertyDecorator {
  return ValidateBy({
    name: 'isBodyValue',
    validator: {
      validate: (value: unknown) => typeof value === 'string' || (value !== null && typeof value === 'object'),
      defaultMessage: () => '$property must be text, an object or an array',
    },
  });
}

/**
 * HTTP action (docs/contract.md §5.6 "http"), with the retry count fixed: `retries` extra attempts, so
 * `retries + 1` in total (the reference allowed `retries + 2`).
 *
 * `data.params`: `HttpNodeParams` (what each field means is documented there). Node-level
 * `data.timeout` (ms, default 30000) and `data.retries` (transport failures only, 250 ms × attempt
 * between tries).
 *
 * Any HTTP status is a success: `{ status, headers, body }`, body parsed when the response is JSON.
 * Failures carry the transport message only, never the params (deviation 22 in docs/deviations.md).
 */
export class HttpNode implements NodeExecutor {
  async execute(node: GraphNode, ctx: NodeContext): Promise<NodeResult> {
    const data = node.data ?? {};
    const request = buildRequest(parseParams(HttpNodeParams, data.params), ctx.context);
    request.timeoutMs = positiveNumber(data.timeout) ?? DEFAULT_TIMEOUT_MS;
    request.signal = ctx.signal;
    request.origin = outboundOrigin(ctx, node);

    const response = await sendWithRetries(ctx, request, retryCount(data.retries));
    return { outputs: toOutputs(response) };
  }
}

/** The HTTP node in the node-type catalogue (`GET /api/node-types`, docs/nodes.md). */
export const HTTP_NODE: NodeTypeInfo = {
  kind: 'http',
  category: 'action',
  title: 'HTTP request',
  description:
    'Calls a URL with any method, headers, query parameters, body and basic or bearer auth, through the egress policy. Any response status is a success; node-level `timeout` (ms, default 30000) and `retries` (extra attempts after a network failure or timeout) sit beside the params.',
  nodeTypes: ['action', 'actionHttp'],
  actionTypes: ['http'],
  paramsField: 'params',
  params: HttpNodeParams,
  outputs: {
    status: 'The response status code; 4xx and 5xx are successes too.',
    headers: 'The response headers by lower-case name.',
    body: 'The response body: parsed JSON when the Content-Type contains application/json and it parses, else the text.',
  },
  planGate: null,
};

const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_RETRIES = 10;
const RETRY_STEP_MS = 250;
const METHODS = new Set<OutboundRequest['method']>(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']);
const BODYLESS = new Set<OutboundRequest['method']>(['GET', 'DELETE', 'HEAD']);
/** RFC 9110 token / field-value: what `fetch` would reject is skipped instead of failing the node. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** Deterministic failures (policy, cancel, size, redirect loop) are not worth another attempt. */
const RETRYABLE: ReadonlySet<OutboundError['kind']> = new Set(['network', 'timeout']);

type Context = Readonly<Record<string, unknown>>;
type Pair = { key: string; value: string };

function buildRequest(params: HttpNodeParams, context: Context): OutboundRequest {
  const url = params.url.trim() === '' ? '' : renderTemplate(params.url, context).trim();
  if (url === '') throw new NodeError('URL is required');

  const method = METHODS.has(params.method as OutboundRequest['method'])
    ? (params.method as OutboundRequest['method'])
    : 'GET';
  const headers: Record<string, string> = {};
  for (const { key, value } of pairs(params.headers, context)) {
    const name = key.trim();
    if (HEADER_NAME.test(name) && HEADER_VALUE.test(value)) setHeader(headers, name, value);
  }

  const request: OutboundRequest = {
    method,
    url: withQuery(url, pairs(params.queryParams, context)),
    headers,
    timeoutMs: DEFAULT_TIMEOUT_MS,
    followRedirects: flagValue(params.followRedirects) ?? true,
  };
  if (!BODYLESS.has(method)) addBody(request, headers, params, context);
  addAuth(headers, params, context);
  return request;
}

function addBody(
  request: OutboundRequest,
  headers: Record<string, string>,
  params: HttpNodeParams,
  context: Context,
): void {
  const bodyType = params.bodyType?.toLowerCase() || 'raw';
  if (bodyType === 'form') {
    const form = new URLSearchParams();
    for (const { key, value } of pairs(params.formBody, context)) form.append(key, value);
    request.body = form.toString();
    setDefaultHeader(headers, 'Content-Type', 'application/x-www-form-urlencoded');
    return;
  }

  const body = renderBody(params.body, context);
  if (body === '') return;
  request.body = body;
  if (bodyType === 'json' && isJson(body)) setDefaultHeader(headers, 'Content-Type', 'application/json');
}

export type HttpAuthType = 'basic' | 'bearer' | 'none';

/**
 * The auth scheme `addAuth` applies: `authType` lower-cased, anything else is none. Secret sync
 * (src/workflows/secret-sync.ts) decides which credential params to collect with this same function,
 * on the saved (unvalidated) params.
 */
export function httpAuthType(params: { authType?: unknown }): HttpAuthType {
  const authType = typeof params.authType === 'string' ? params.authType.toLowerCase() : 'none';
  return authType === 'basic' || authType === 'bearer' ? authType : 'none';
}

function addAuth(headers: Record<string, string>, params: HttpNodeParams, context: Context): void {
  const authType = httpAuthType(params);
  let authorization: string | undefined;
  if (authType === 'basic') {
    const username = params.username ?? '';
    const password = params.password ?? '';
    if (username !== '' || password !== '') {
      authorization = `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
    }
  } else if (authType === 'bearer') {
    const token = renderTemplate(params.token ?? '', context).trim();
    if (token !== '') authorization = `Bearer ${token}`;
  }
  if (authorization !== undefined && HEADER_VALUE.test(authorization)) {
    setHeader(headers, 'Authorization', authorization);
  }
}

async function sendWithRetries(ctx: NodeContext, request: OutboundRequest, retries: number): Promise<OutboundResponse> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ctx.http.request(request);
    } catch (err) {
      if (!(err instanceof OutboundError)) throw new NodeError('HTTP request failed');
      if (attempt > retries || !RETRYABLE.has(err.kind) || ctx.signal.aborted) throw new NodeError(err.message);
      if (!(await sleep(RETRY_STEP_MS * attempt, ctx.signal))) throw new NodeError('Request aborted');
    }
  }
}

/** Resolves true after `ms`, or false as soon as the signal aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function toOutputs(response: OutboundResponse): { status: number; headers: Record<string, string>; body: unknown } {
  const text = response.body.toString('utf8');
  let body: unknown = text;
  if ((response.headers['content-type'] ?? '').toLowerCase().includes('application/json')) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return { status: response.status, headers: { ...response.headers }, body };
}

function withQuery(url: string, query: Pair[]): string {
  const encoded = query
    .filter(({ key }) => key !== '')
    .map(({ key, value }) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`);
  if (encoded.length === 0) return url;
  const hash = url.indexOf('#');
  const [base, fragment] = hash === -1 ? [url, ''] : [url.slice(0, hash), url.slice(hash)];
  return `${base}${base.includes('?') ? '&' : '?'}${encoded.join('&')}${fragment}`;
}

/** `[{key, value}]` rows with the value templated; rows without a key are ignored. */
function pairs(rows: HttpParamRow[] | undefined, context: Context): Pair[] {
  const out: Pair[] = [];
  for (const { key, value } of listOf(rows)) {
    if (typeof key !== 'string') continue;
    out.push({ key, value: renderTemplate(scalarText(value), context) });
  }
  return out;
}

function renderBody(body: HttpNodeParams['body'], context: Context): string {
  if (typeof body === 'string') return renderTemplate(body, context);
  if (body !== null && typeof body === 'object') return JSON.stringify(renderDeep(body, context));
  return '';
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Replaces a header whatever the case it was given in. */
function setHeader(headers: Record<string, string>, name: string, value: string): void {
  for (const existing of Object.keys(headers)) {
    if (existing.toLowerCase() === name.toLowerCase()) delete headers[existing];
  }
  headers[name] = value;
}

function setDefaultHeader(headers: Record<string, string>, name: string, value: string): void {
  if (!Object.keys(headers).some((existing) => existing.toLowerCase() === name.toLowerCase())) headers[name] = value;
}

function positiveNumber(value: unknown): number | undefined {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined;
}

function retryCount(value: unknown): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) return 0;
  return Math.min(Math.floor(n), MAX_RETRIES);
}
