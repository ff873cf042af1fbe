import { applyDecorators, Get, Logger, MessageEvent } from '@nestjs/common';
import { ApiProduces } from '@nestjs/swagger';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Observable } from 'rxjs';

/**
 * One or more events encoded once, written as they are to every client that gets them (a run
 * stream encodes a state change once for all the clients that were at the same version).
 */
export class SseFrame {
  private chunk: Buffer | null = null;

  constructor(readonly body: Buffer) {}

  /** The frame as one chunk of a chunked HTTP/1.1 body. */
  chunked(): Buffer {
    this.chunk ??= Buffer.concat([Buffer.from(`${this.body.length.toString(16)}\r\n`), this.body, CRLF]);
    return this.chunk;
  }
}

/** What a stream emits: an event, or a frame already encoded. */
export type SseOutput = MessageEvent | SseFrame;

const CRLF = Buffer.from('\r\n');

/**
 * Events a client may leave unread before it is dropped (an EventSource then reconnects with its
 * Last-Event-ID and gets what it missed); the same bound Nest's @Sse uses.
 */
const MAX_UNREAD_BYTES = 4 * 1024 * 1024;

const HEADERS = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'private, no-cache, no-store, must-revalidate, max-age=0, no-transform',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
};

const encoded = new WeakMap<MessageEvent, SseFrame>();
const logger = new Logger('SseWriter');

/**
 * A GET route answered as `text/event-stream` by {@link writeEvents}. Nest's @Sse gives each
 * connection a Transform stream, an AbortController, a timer and a promise per event; with
 * thousands of clients on one run that was most of the memory and the fan-out time
 * (bench/sse.ts), so these routes write shared, pre-encoded frames instead.
 */
export function SseRoute(path: string): MethodDecorator {
  return applyDecorators(Get(path), ApiProduces('text/event-stream'));
}

/** One event as W3C event-stream text; the same event object is encoded once for all clients. */
export function encodeEvent(message: MessageEvent): SseFrame {
  let frame = encoded.get(message);
  if (!frame) {
    frame = new SseFrame(Buffer.from(eventText(message)));
    encoded.set(message, frame);
  }
  return frame;
}

/** Several events as one frame, written to a client in one go. */
export function encodeEvents(messages: MessageEvent[]): SseFrame {
  return new SseFrame(Buffer.from(messages.map(eventText).join('')));
}

/**
 * Streams `events` to the response until the client leaves (or the stream completes), then
 * unsubscribes, which releases everything the stream holds. Called once access is settled: an
 * error thrown before this is still answered as JSON by the exception filter.
 *
 * Once the headers are out, frames go straight to the socket (framed as HTTP chunks when the
 * response is chunked): one write per frame, without the response's per-write cork, buffer
 * list and next-tick uncork, which was most of the cost of a fan-out to thousands of clients.
 */
export function writeEvents(req: IncomingMessage, res: ServerResponse, events: Observable<SseOutput>): void {
  const socket = req.socket;
  socket.setTimeout(0);
  socket.setNoDelay(true);
  socket.setKeepAlive(true);
  res.writeHead(200, HEADERS);
  res.flushHeaders();
  const chunked = (res as unknown as { chunkedEncoding: boolean }).chunkedEncoding;
  // A response queued behind a pipelined one has no socket of its own yet: let it buffer.
  const write =
    res.socket === socket
      ? (frame: SseFrame) => socket.write(chunked ? frame.chunked() : frame.body)
      : (frame: SseFrame) => res.write(frame.body);
  const subscription = events.subscribe({
    next: (event) => {
      if (socket.writableLength > MAX_UNREAD_BYTES) {
        logger.warn(`Dropping an event-stream client that is not reading (${socket.writableLength} bytes unread)`);
        socket.destroy();
        return;
      }
      const frame = event instanceof SseFrame ? event : encodeEvent(event);
      if (!socket.destroyed) write(frame);
    },
    error: (error: unknown) => {
      // Headers are out, so no status can say it: log it and end; the client reconnects.
      logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
      res.end();
    },
    complete: () => res.end(),
  });
  res.once('close', () => subscription.unsubscribe());
  if (res.destroyed) subscription.unsubscribe();
}

function eventText(message: MessageEvent): string {
  let text = '';
  if (message.comment !== undefined) text += lines(String(message.comment), ': ');
  if (message.type !== undefined) text += `event: ${oneLine(message.type)}\n`;
  if (message.id !== undefined) text += `id: ${oneLine(message.id)}\n`;
  if (message.retry !== undefined) text += `retry: ${oneLine(String(message.retry))}\n`;
  if (message.data !== undefined) {
    text += lines(typeof message.data === 'string' ? message.data : JSON.stringify(message.data), 'data: ');
  }
  return `${text}\n`;
}

/** A field that must stay on one line (a newline would start a field of the client's choosing). */
function oneLine(value: string): string {
  return value.replace(/[\r\n]/g, '');
}

function lines(value: string, prefix: string): string {
  return value
    .split(/\r\n|\r|\n/)
    .map((line) => `${prefix}${line}\n`)
    .join('');
}
