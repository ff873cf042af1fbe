import { outboundOrigin } from '../outbound';
import { OutboundError, type OutboundRequest, type OutboundResponse } from '../../egress/outbound-http';
import { NodeError, type GraphNode, type NodeContext, type NodeExecutor, type NodeResult } from '../node-types';
import { renderDeep, renderTemplate } from '../templating';

/**
 * HTTP action (docs/contract.md §5.6 "http"), with the retry count fixed: `retries` extra attempts, so
 * `retries + 1` in total (the reference allowed `retries + 2`).
 *
 * `data.params`: `url` (required, templated), `method` (exact upper-case `GET|POST|PUT|PATCH|DELETE|HEAD`,
 * else GET), `headers` / `queryParams` `[{key,value}]` (values templated; invalid headers skipped; query
 * pairs percent-encoded and appended with `?`/`&`), `bodyType` `json|form|raw` (default raw; ignored for
 * GET/DELETE/HEAD), `body`, `formBody`, `authType` `basic` (`username`/`password`, literal) | `bearer`
 * (`token`, templated) | none, `followRedirects` (default true). Node-level `data.timeout` (ms, default
 * 30000) and `data.retries` (transport failures only, 250 ms × attempt between tries).
 *
 * Any HTTP status is a success: `{ status, headers, body }`, body parsed when the response is JSON.
 * Failures carry the transport message only, never the params (deviation 22 in docs/deviations.md).
 */
export class HttpNode implements NodeExecutor {
  async execute(node: GraphNode, ctx: NodeContext): Promise<NodeResult> {
    const data = node.data ?? {};
    const request = buildRequest(asRecord(data.params), ctx.context);
    request.timeoutMs = positiveNumber(data.timeout) ?? DEFAULT_TIMEOUT_MS;
    request.signal = ctx.signal;
    request.origin = outboundOrigin(ctx, node);

    const response = await sendWithRetries(ctx, request, retryCount(data.retries));
    return { outputs: toOutputs(response) };
  }
}

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

function buildRequest(params: Record<string, unknown>, context: Context): OutboundRequest {
  const rawUrl = typeof params.url === 'string' ? params.url : '';
  const url = rawUrl.trim() === '' ? '' : renderTemplate(rawUrl, context).trim();
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
    followRedirects: params.followRedirects !== false && params.followRedirects !== 'false',
  };
  if (!BODYLESS.has(method)) addBody(request, headers, params, context);
  addAuth(headers, params, context);
  return request;
}

function addBody(
  request: OutboundRequest,
  headers: Record<string, string>,
  params: Record<string, unknown>,
  context: Context,
): void {
  const bodyType = typeof params.bodyType === 'string' ? params.bodyType.toLowerCase() : 'raw';
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
 * (src/secrets/secret-sync.ts) decides which credential params to collect with this same function.
 */
export function httpAuthType(params: Record<string, unknown>): HttpAuthType {
  const authType = typeof params.authType === 'string' ? params.authType.toLowerCase() : 'none';
  return authType === 'basic' || authType === 'bearer' ? authType : 'none';
}

function addAuth(headers: Record<string, string>, params: Record<string, unknown>, context: Context): void {
  const authType = httpAuthType(params);
  let authorization: string | undefined;
  if (authType === 'basic') {
    const username = stringParam(params.username);
    const password = stringParam(params.password);
    if (username !== '' || password !== '') {
      authorization = `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
    }
  } else if (authType === 'bearer') {
    const token = renderTemplate(stringParam(params.token), context).trim();
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

/** `[{key, value}]` rows with the value templated; rows without a string key are ignored. */
function pairs(raw: unknown, context: Context): Pair[] {
  if (!Array.isArray(raw)) return [];
  const out: Pair[] = [];
  for (const row of raw) {
    const { key, value } = asRecord(row);
    if (typeof key !== 'string') continue;
    out.push({ key, value: renderTemplate(scalarText(value), context) });
  }
  return out;
}

function renderBody(body: unknown, context: Context): string {
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

function scalarText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return '';
}

function stringParam(value: unknown): string {
  return typeof value === 'string' ? value : '';
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

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
