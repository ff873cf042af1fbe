import { Injectable, NestMiddleware } from '@nestjs/common';
import express, { NextFunction, Request, Response } from 'express';
import { AppConfig } from '../../config/app-config';
import { AppError, ErrorCode } from '../errors/app-error';

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
@Injectable()
export class JsonBodyMiddleware implements NestMiddleware {
  private readonly parse: express.RequestHandler;

  constructor(config: AppConfig) {
    this.parse = express.json({
      limit: config.http.bodyLimit,
      type: (req) => isJsonContentType(req.headers['content-type']),
    });
  }

  async use(req: Request, res: Response, next: NextFunction): Promise<void> {
    if (!UNSAFE.has(req.method)) return next();
    const contentType = req.headers['content-type'];
    if (contentType && !isJsonContentType(contentType) && hasBody(req)) {
      throw new AppError(ErrorCode.UnsupportedMediaType);
    }
    await new Promise<void>((resolve, reject) =>
      this.parse(req, res, (err?: unknown) => (err ? reject(mapParserError(err)) : resolve())),
    );
    if (req.body === undefined || !hasBody(req)) {
      req.body = new MissingBody(isJsonContentType(contentType) ? 'empty' : 'no_content_type');
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
