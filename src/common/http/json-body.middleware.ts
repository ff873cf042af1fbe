import { Injectable, NestMiddleware } from '@nestjs/common';
import express, { NextFunction, Request, Response } from 'express';
import { AppConfig } from '../../config/app-config';
import { AppError, ErrorCode } from '../errors/app-error';
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

function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * JSON body parsing with errors in the envelope: Nest's own parser is off so that a malformed
 * body, an oversized body or a foreign content type never reaches express's HTML error page.
 */
/** The public webhook trigger: its body is kept as bytes, because senders sign what they sent. */
const WEBHOOK_PATH = /^\/api\/workflows\/[^/]+\/trigger\/[^/?]+/;

export type RawBodyRequest = Request & { rawBody?: Buffer };

@Injectable()
export class JsonBodyMiddleware implements NestMiddleware {
  private readonly parse: express.RequestHandler;
  private readonly parseRaw: express.RequestHandler;

  constructor(config: AppConfig) {
    const type = (req: { headers: Record<string, string | string[] | undefined> }) =>
      isJsonContentType(req.headers['content-type'] as string | undefined);
    this.parse = express.json({ limit: config.http.bodyLimit, type });
    this.parseRaw = express.raw({ limit: config.http.webhookBodyLimit, type });
  }

  async use(req: Request, res: Response, next: NextFunction): Promise<void> {
    if (!UNSAFE.has(req.method)) return next();
    const contentType = req.headers['content-type'];
    if (contentType && !isJsonContentType(contentType) && hasBody(req)) {
      throw new AppError(ErrorCode.UnsupportedMediaType);
    }
    if (WEBHOOK_PATH.test(req.originalUrl)) {
      await new Promise<void>((resolve, reject) =>
        this.parseRaw(req, res, (err?: unknown) => (err ? reject(mapParserError(err)) : resolve())),
      );
      if (Buffer.isBuffer(req.body) && req.body.length) (req as RawBodyRequest).rawBody = req.body;
      req.body = new MissingBody(isJsonContentType(contentType) ? 'empty' : 'no_content_type');
      return next();
    }
    await new Promise<void>((resolve, reject) =>
      this.parse(req, res, (err?: unknown) => (err ? reject(mapParserError(err)) : resolve())),
    );
    if (req.body === undefined || !hasBody(req)) {
      req.body = new MissingBody(isJsonContentType(contentType) ? 'empty' : 'no_content_type');
    } else if (exceedsJsonDepth(req.body)) {
      throw new AppError(ErrorCode.InvalidJson, `Request body is nested deeper than ${MAX_JSON_DEPTH - 1} levels`);
    } else if (hasLoneSurrogate(req.body)) {
      throw new AppError(
        ErrorCode.InvalidJson,
        'Request body holds text that is not valid Unicode (a lone surrogate escape)',
      );
    }
    next();
  }
}

function mapParserError(err: unknown): AppError {
  const type = (err as { type?: string }).type;
  switch (type) {
    case 'entity.too.large':
      return new AppError(ErrorCode.PayloadTooLarge);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError(ErrorCode.UnsupportedMediaType, 'Unsupported request body encoding');
    case 'entity.parse.failed':
      return new AppError(ErrorCode.InvalidJson);
    default:
      return new AppError(ErrorCode.InvalidRequest, 'Request body could not be read');
  }
}
