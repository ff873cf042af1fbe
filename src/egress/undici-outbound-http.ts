/**
 * `OutboundHttp` over undici's request API (a fraction of `fetch`'s cost per call: no WHATWG
 * streams, Headers or Request objects). Redirects are followed here, hop by hop, so that
 * `checkUrl` (the egress policy hook) sees every URL before it is contacted; one deadline covers
 * the whole exchange, body included, and the body is read in chunks (decompressed, as `fetch`
 * would) so an oversized response is cut off instead of buffered.
 */
import { pipeline, Readable, Transform } from 'node:stream';
import {
  constants as zlibConstants,
  createBrotliDecompress,
  createGunzip,
  createInflate,
  createInflateRaw,
} from 'node:zlib';
import { Agent, Dispatcher } from 'undici';
import { OutboundError, OutboundHttp, OutboundRequest, OutboundResponse } from './outbound-http';

export interface UndiciOutboundHttpOptions {
  maxResponseBytes: number;
  /** Hops followed before failing with kind `redirects` (default 10). */
  maxRedirects?: number;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Headers that describe the request body or carry credentials, dropped when a hop changes them. */
const BODY_HEADERS = ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location'];
/**
 * All a request keeps when a redirect takes it to another origin: how to read the answer and what
 * the body is. Everything else the node set (Authorization, cookies, and any custom header, which is
 * where API keys travel: `X-Api-Key`, `X-Auth-Token`…) was meant for the first origin only.
 */
const CROSS_ORIGIN_HEADERS = [
  'accept',
  'accept-encoding',
  'accept-language',
  'user-agent',
  'cache-control',
  'pragma',
  ...BODY_HEADERS,
];

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host lookup failed',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'connection closed',
  UND_ERR_SOCKET: 'connection closed',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_HEADERS_TIMEOUT: 'no response headers',
  UND_ERR_BODY_TIMEOUT: 'response body stalled',
};

/** What one hop sends. */
export interface Hop {
  method: string;
  headers: Record<string, string>;
  body: string | Uint8Array | undefined;
  signal: AbortSignal;
}

export class UndiciOutboundHttp extends OutboundHttp {
  private readonly maxResponseBytes: number;
  private readonly maxRedirects: number;
  /** Keep-alive connections to anywhere (no guard): the bare client's pool. */
  private pool?: Agent;

  constructor(options: UndiciOutboundHttpOptions) {
    super();
    this.maxResponseBytes = options.maxResponseBytes;
    this.maxRedirects = options.maxRedirects ?? 10;
  }

  /** Called before the first request and before every redirect hop; throw an `OutboundError` to stop. */
  protected async checkUrl(_url: URL, _req: OutboundRequest): Promise<void> {}

  /** Sends one hop (redirects are never followed by the transport); subclasses swap it, e.g. for a guarded pool. */
  protected send(url: URL, hop: Hop, _req: OutboundRequest): Promise<Dispatcher.ResponseData> {
    this.pool ??= new Agent();
    return request(this.pool, url, hop);
  }

  /** Closes the pool's connections. */
  async close(): Promise<void> {
    await this.pool?.close();
  }

  async request(req: OutboundRequest): Promise<OutboundResponse> {
    if (req.signal?.aborted) throw new OutboundError('Request aborted', 'aborted');

    const controller = new AbortController();
    let stopped: 'timeout' | 'aborted' | undefined;
    const stop = (why: 'timeout' | 'aborted') => {
      stopped ??= why;
      controller.abort();
    };
    const onAbort = () => stop('aborted');
    req.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => stop('timeout'), req.timeoutMs);
    // Racing against the abort keeps a slow `checkUrl` (DNS) or a stuck body read from outliving the deadline.
    const interrupted = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => reject(new Error('stopped')), { once: true });
    });

    // Bodies of redirects left behind are still being drained (discard): they end with the request.
    const hops = { redirected: false };
    try {
      const exchange = this.exchange(req, controller.signal, hops);
      exchange.catch(() => undefined);
      return await Promise.race([exchange, interrupted]);
    } catch (err) {
      // Whatever of the exchange still runs (a hop, a body read) stops; a settled one had nothing left.
      controller.abort();
      if (stopped === 'timeout') throw new OutboundError(`Request timed out after ${req.timeoutMs} ms`, 'timeout');
      if (stopped === 'aborted') throw new OutboundError('Request aborted', 'aborted');
      if (err instanceof OutboundError) throw err;
      throw networkError(err);
    } finally {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
      if (hops.redirected) controller.abort();
    }
  }

  private async exchange(
    req: OutboundRequest,
    signal: AbortSignal,
    hops: { redirected: boolean },
  ): Promise<OutboundResponse> {
    let url = parseHttpUrl(req.url);
    let method: string = req.method;
    let body: string | Uint8Array | undefined = req.body === undefined ? undefined : toBody(req.body);
    let headers: Record<string, string> = withDefaultHeaders(req.headers ?? {}, body);

    for (let hop = 0; ; hop++) {
      await this.checkUrl(url, req);
      const res = await this.send(url, { method, headers, body, signal }, req);
      const responseHeaders = collectHeaders(res.headers);
      const location = responseHeaders.location;

      if (req.followRedirects === false || !REDIRECT_STATUSES.has(res.statusCode) || !location) {
        return {
          status: res.statusCode,
          headers: responseHeaders,
          body: await this.readBody(res, responseHeaders),
          url: url.href,
        };
      }

      discard(res);
      hops.redirected = true;
      if (hop >= this.maxRedirects) {
        throw new OutboundError(`Too many redirects (more than ${this.maxRedirects})`, 'redirects');
      }
      const next = parseHttpUrl(location, url);
      if (
        (res.statusCode === 303 && method !== 'HEAD') ||
        ((res.statusCode === 301 || res.statusCode === 302) && method === 'POST')
      ) {
        method = 'GET';
        body = undefined;
        headers = withoutHeaders(headers, BODY_HEADERS);
      }
      // Stricter than browsers, which drop only Authorization: custom headers carry credentials too.
      if (next.origin !== url.origin) headers = onlyHeaders(headers, CROSS_ORIGIN_HEADERS);
      url = next;
    }
  }

  private async readBody(res: Dispatcher.ResponseData, headers: Record<string, string>): Promise<Buffer> {
    const declared = Number(headers['content-length']);
    if (Number.isFinite(declared) && declared > this.maxResponseBytes) {
      res.body.destroy();
      throw this.tooLarge();
    }
    const body = decoded(res.body, headers['content-encoding']);
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        total += chunk.byteLength;
        // Counted after decompression: a small bomb is cut off as it inflates.
        if (total > this.maxResponseBytes) throw this.tooLarge();
        chunks.push(chunk);
      }
    } catch (err) {
      if (err instanceof OutboundError) throw err;
      // The decoder's error names the encoding, never the content.
      throw errorCode(err)?.startsWith('Z_')
        ? new OutboundError('Response body could not be decompressed', 'network')
        : err;
    } finally {
      body.destroy();
      if (body !== res.body) res.body.destroy();
    }
    return Buffer.concat(chunks, total);
  }

  private tooLarge(): OutboundError {
    return new OutboundError(`Response body exceeds ${this.maxResponseBytes} bytes`, 'too_large');
  }
}

function parseHttpUrl(raw: string, base?: URL): URL {
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch {
    throw new OutboundError('Invalid URL', 'network');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new OutboundError('Unsupported URL scheme', 'network');
  }
  return url;
}

function toBody(body: string | Buffer): string | Uint8Array {
  return typeof body === 'string' ? body : new Uint8Array(body);
}

function withoutHeaders(headers: Record<string, string>, names: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !names.includes(name.toLowerCase())));
}

function onlyHeaders(headers: Record<string, string>, names: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => names.includes(name.toLowerCase())));
}

/**
 * The body as sent, decompressed as `fetch` decompressed it: gzip, deflate (zlib-wrapped, or raw
 * as some servers send it) and br, in the order the header lists them undone; anything else as is.
 */
function decoded(body: Readable, encoding: string | undefined): Readable {
  if (!encoding) return body;
  const codings = encoding
    .toLowerCase()
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c && c !== 'identity')
    .reverse();
  if (!codings.every((c) => c in DECODERS) || codings.length > 3) return body;
  let stream: Readable = body;
  for (const coding of codings) stream = DECODERS[coding](stream);
  return stream;
}

/** Lenient as `fetch` is about a stream cut short at the end. */
const FLUSH = { finishFlush: zlibConstants.Z_SYNC_FLUSH };

/** `source` through `decoder`, with backpressure; an error in either ends both (and the read). */
const through = (source: Readable, decoder: Transform): Readable =>
  pipeline(source, decoder, () => undefined) as unknown as Readable;

/** Deflate as servers send it: zlib-wrapped per the standard, or raw; the first byte tells (CM = 8). */
async function* inflate(body: Readable): AsyncGenerator<Buffer> {
  const chunks = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await chunks.next();
  if (first.done) return;
  const decoder = (first.value[0] & 0x0f) === 0x08 ? createInflate(FLUSH) : createInflateRaw(FLUSH);
  async function* all(): AsyncGenerator<Buffer> {
    yield first.value;
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
  }
  yield* through(Readable.from(all()), decoder) as AsyncIterable<Buffer>;
}

const DECODERS: Record<string, (body: Readable) => Readable> = {
  gzip: (body) => through(body, createGunzip(FLUSH)),
  'x-gzip': (body) => through(body, createGunzip(FLUSH)),
  br: (body) => through(body, createBrotliDecompress()),
  deflate: (body) => Readable.from(inflate(body)),
};

/** One hop through `dispatcher`. */
export function request(dispatcher: Dispatcher, url: URL, hop: Hop): Promise<Dispatcher.ResponseData> {
  return dispatcher.request({
    origin: url.origin,
    path: `${url.pathname}${url.search}`,
    method: hop.method as Dispatcher.HttpMethod,
    headers: hop.headers,
    body: hop.body,
    signal: hop.signal,
  });
}

/** A body not wanted (a redirect's): read off so the connection is kept, or dropped when large. */
function discard(res: Dispatcher.ResponseData): void {
  void res.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
}

/**
 * What `fetch` sent unless told otherwise, so targets see the requests they saw before: any
 * content type, compressed answers welcome (decompressed on the way in), and a text body typed as
 * text.
 */
function withDefaultHeaders(given: Record<string, string>, body: unknown): Record<string, string> {
  const headers: Record<string, string> = {};
  const names = new Set<string>();
  for (const [name, value] of Object.entries(given)) {
    headers[name] = value;
    names.add(name.toLowerCase());
  }
  if (!names.has('accept')) headers.accept = '*/*';
  if (!names.has('accept-encoding')) headers['accept-encoding'] = 'gzip, deflate, br';
  if (!names.has('user-agent')) headers['user-agent'] = 'Runloom';
  if (typeof body === 'string' && !names.has('content-type')) headers['content-type'] = 'text/plain;charset=UTF-8';
  return headers;
}

/** Lower-cased names; a repeated header (`set-cookie`) joined with ", " as the contract says. */
function collectHeaders(headers: Dispatcher.ResponseData['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** Only the error code reaches the message: undici texts can quote header values. */
function networkError(err: unknown): OutboundError {
  const code = errorCode(err);
  if (!code) return new OutboundError('Network error', 'network');
  const text = NETWORK_CODES[code];
  return new OutboundError(text ? `Network error: ${text} (${code})` : `Network error (${code})`, 'network');
}

function errorCode(err: unknown, depth = 0): string | undefined {
  if (depth > 4 || err === null || typeof err !== 'object') return undefined;
  const { code, cause, errors } = err as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(code)) return code;
  return errorCode(cause, depth + 1) ?? (Array.isArray(errors) ? errorCode(errors[0], depth + 1) : undefined);
}
