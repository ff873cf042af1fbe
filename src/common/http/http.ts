import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
// Its type augmentation gives requests `cookies` and replies `setCookie` / `clearCookie`.
import type {} from '@fastify/cookie';

/** A request as controllers, guards and filters see it (the API runs on Fastify). */
export type HttpRequest = FastifyRequest;

/** A reply as controllers see it with `@Res()`. */
export type HttpReply = FastifyReply;

/**
 * A request as Nest middleware sees it: Node's own, with what the middleware engine copies onto
 * it from Fastify's request (the client address under TRUST_PROXY, the path as received).
 */
export type RawRequest = IncomingMessage & { ip?: string; originalUrl?: string; id?: unknown };
export type RawResponse = ServerResponse;

/** Request bodies are kept as bytes on the public webhook route: senders sign what they sent. */
export type RawBodyRequest = HttpRequest & { rawBody?: Buffer };

/** `512kb`, `2mb`, `100b` (BODY_LIMIT, WEBHOOK_BODY_LIMIT) in bytes. */
export function byteSize(limit: string): number {
  const match = /^(\d+)(b|kb|mb)$/i.exec(limit.trim());
  if (!match) throw new Error(`not a size: ${limit}`);
  const unit = match[2].toLowerCase();
  return Number(match[1]) * (unit === 'mb' ? 1024 * 1024 : unit === 'kb' ? 1024 : 1);
}
