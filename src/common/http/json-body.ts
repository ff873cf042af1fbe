import type { FastifyInstance, FastifyRequest } from 'fastify';
import { StringDecoder } from 'node:string_decoder';
import type { Readable, Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { AppConfig } from '../../config/app-config';
import { AppError, ErrorCode } from '../errors/app-error';
import { byteSize, RawBodyRequest } from './http';
import { withRouteConfig } from './route-config';
import { exceedsJsonDepth, hasLoneSurrogate, MAX_JSON_DEPTH } from './json-depth';

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function isJsonContentType(header: string | undefined): boolean {
  if (!header) return false;
  const type = header.split(';')[0].trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/**
 * Why a body-taking route received no body. The validation pipe turns it into 415 (no JSON
 * content type) or 400 (JSON declared, nothing sent), as the reference's framework did.
 */
export class MissingBody {
  constructor(readonly reason: 'no_content_type' | 'empty') {}
}

/**
 * Marks a route whose body is kept as bytes (`rawBody`), under WEBHOOK_BODY_LIMIT: the public
 * webhook trigger, whose senders sign what they sent.
 */
export const RawBody = () => withRouteConfig({ rawBody: true });

function takesRawBody(request: FastifyRequest): boolean {
  return (request.routeOptions.config as { rawBody?: unknown } | undefined)?.rawBody === true;
}

/** A body the parser refused (413, 415, 400): the refusal, answered before the handler runs. */
class BodyRefused {
  constructor(readonly error: unknown) {}
}

function hasBody(headers: FastifyRequest['headers']): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function missing(contentType: string | undefined): MissingBody {
  return new MissingBody(isJsonContentType(contentType) ? 'empty' : 'no_content_type');
}

/**
 * Request bodies, parsed by the HTTP server before any guard runs, with every refusal in the
 * envelope: a foreign content type with a body is 415, an oversized body 413, malformed JSON 400.
 * JSON is parsed strictly (an object or an array at the top), no deeper than MAX_JSON_DEPTH and
 * without lone surrogates. A {@link RawBody} route keeps its bytes as `rawBody` instead; a route
 * that takes no body gets a {@link MissingBody}.
 */
export function registerJsonBodies(fastify: FastifyInstance, config: AppConfig): void {
  const limit = byteSize(config.http.bodyLimit);
  const webhookLimit = byteSize(config.http.webhookBodyLimit);
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', (request, payload, done) => {
    parseBody(request, payload, takesRawBody(request) ? webhookLimit : limit).then(
      (body) => done(null, body),
      (error: unknown) => {
        // Refused as a body, not as a parser error: the server would close the connection while the
        // client may still be sending, and the client would see a reset instead of the answer. The
        // rest of the body is read and dropped; the refusal is answered once the route is known.
        payload.resume();
        done(null, new BodyRefused(error));
      },
    );
  });
  fastify.addHook('preValidation', (request, _reply, done) => {
    if (request.body instanceof BodyRefused) return done(request.body.error as Error);
    // Bodyless requests never reach a parser.
    if (request.body === undefined && UNSAFE.has(request.method)) {
      request.body = missing(request.headers['content-type']);
    }
    done();
  });
}

async function parseBody(request: FastifyRequest, payload: Readable, limit: number): Promise<unknown> {
  const contentType = request.headers['content-type'];
  if (!isJsonContentType(contentType)) {
    if (contentType && hasBody(request.headers)) throw new AppError(ErrorCode.UnsupportedMediaType);
    payload.resume();
    return missing(contentType);
  }
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? '')?.[1].toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new AppError(ErrorCode.UnsupportedMediaType, 'Unsupported request body encoding');
  }
  const bytes = await readAll(request, payload, limit);
  if (takesRawBody(request)) {
    if (bytes.length) (request as RawBodyRequest).rawBody = bytes;
    return missing(contentType);
  }
  if (!bytes.length) return missing(contentType);
  // A byte order mark is no part of the document.
  const text = new StringDecoder('utf8').end(bytes).replace(/^\uFEFF/, '');
  // Strict, as the reference's parser: a document is an object or an array.
  const first = /^[ \t\n\r]*(.)/.exec(text)?.[1];
  if (first !== '{' && first !== '[') throw new AppError(ErrorCode.InvalidJson);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new AppError(ErrorCode.InvalidJson);
  }
  if (exceedsJsonDepth(body)) {
    throw new AppError(ErrorCode.InvalidJson, `Request body is nested deeper than ${MAX_JSON_DEPTH - 1} levels`);
  }
  if (hasLoneSurrogate(body)) {
    throw new AppError(
      ErrorCode.InvalidJson,
      'Request body holds text that is not valid Unicode (a lone surrogate escape)',
    );
  }
  return body;
}

/** The body's bytes, inflated when sent compressed, refused (413) past `limit`. */
function readAll(request: FastifyRequest, payload: Readable, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    payload.resume();
    return Promise.reject(new AppError(ErrorCode.PayloadTooLarge));
  }
  const encoding = (request.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
  let inflate: Transform | null = null;
  if (encoding === 'gzip' || encoding === 'x-gzip') inflate = createGunzip();
  else if (encoding === 'deflate') inflate = createInflate();
  else if (encoding === 'br') inflate = createBrotliDecompress();
  else if (encoding !== 'identity') {
    payload.resume();
    return Promise.reject(new AppError(ErrorCode.UnsupportedMediaType, 'Unsupported request body encoding'));
  }
  const stream: Readable = inflate ? payload.pipe(inflate) : payload;
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const fail = (error: AppError) => {
      stream.removeAllListeners('data');
      if (inflate) {
        payload.unpipe(inflate);
        inflate.destroy();
      }
      payload.resume();
      reject(error);
    };
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return fail(new AppError(ErrorCode.PayloadTooLarge));
      chunks.push(chunk);
    });
    stream.once('end', () => resolve(Buffer.concat(chunks, size)));
    stream.once('error', () => fail(new AppError(ErrorCode.InvalidRequest, 'Request body could not be read')));
    if (stream !== payload)
      payload.once('error', () => fail(new AppError(ErrorCode.InvalidRequest, 'Request body could not be read')));
  });
}
