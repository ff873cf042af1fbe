import { INestApplication } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import fastifyCookie from '@fastify/cookie';
import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { AppConfig } from '../../config/app-config';
import { codeForStatus, errorEnvelope } from '../errors/envelope';
import { AppError } from '../errors/app-error';
import { registerJsonBodies } from './json-body';
import { REQUEST_ID } from './logging';
import { runInRequestContext } from './request-context';
import { abortRequestSpan, endRequestSpan, traceRequest } from '../tracing/tracing';

export function buildOpenApiDocument(app: INestApplication) {
  const config = new DocumentBuilder()
    .setTitle('Runloom API')
    .setDescription(
      'Workflow automation backend, wire-compatible with the DSentr web client. Errors use the envelope ' +
        '`{"success":false,"status":"error","message","code"}`; successes `{"success":true,…}`. Cookie-authenticated ' +
        'unsafe requests need the `x-csrf-token` header equal to the `csrf_token` cookie.',
    )
    .setVersion('0.1.0')
    .addCookieAuth('dsentr_session', { type: 'apiKey', in: 'cookie', name: 'dsentr_session' }, 'session')
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', description: 'A session id or a personal API key (`rl_…`).' },
      'bearer',
    )
    .addApiKey({ type: 'apiKey', in: 'header', name: 'x-csrf-token' }, 'csrf')
    .build();
  return SwaggerModule.createDocument(app, config);
}

/** A request's id: the client's `x-request-id` when sane, else a new one (logged, echoed, kept on runs). */
function requestId(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

// HSTS and `upgrade-insecure-requests` only over HTTPS (or a trusted proxy saying so): over plain
// HTTP by host name they make the browser fetch Swagger UI's and /monitor's assets over HTTPS.
const httpsHeaders = helmet();
const httpHeaders = helmet({
  strictTransportSecurity: false,
  contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
});

/** Security headers and the request id on a reply, then `done`. */
function secureReply(request: FastifyRequest, reply: FastifyReply, done: (err?: unknown) => void): void {
  void reply.header('x-request-id', request.id);
  (request.protocol === 'https' ? httpsHeaders : httpHeaders)(request.raw, reply.raw as ServerResponse, done);
}

/**
 * The HTTP server: Fastify, which costs a fifth to a third less CPU per request than Express did
 * here (docs/performance.md). Routing as the reference's framework: paths match whatever their
 * case and with or without a trailing slash; webhook tokens and ids may be long. Timeouts are
 * Node's own defaults, which the API had before (Fastify's are none and 72 s).
 */
export function createHttpAdapter(config: AppConfig): FastifyAdapter {
  return new FastifyAdapter({
    trustProxy: config.http.trustProxy,
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: true, maxParamLength: 1_000 },
    genReqId: requestId,
    // A request still arriving after 5 minutes is cut: a slow sender cannot hold a connection.
    requestTimeout: 300_000,
    keepAliveTimeout: 5_000,
    // While draining (HttpDrain), requests on open connections are still answered, with
    // `connection: close`, rather than refused with 503.
    return503OnClosing: false,
    // A URL the router cannot read (a broken percent-escape, a parameter past maxParamLength) is
    // answered before any hook runs: in the envelope, with the same headers as any other reply.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
      const code = codeForStatus(status);
      secureReply(request, reply, () => void reply.code(status).send(errorEnvelope(new AppError(code).message, code)));
    },
    clientErrorHandler: answerClientError,
  });
}

/**
 * A request Node's parser refuses (headers past 16 KB, malformed framing, a request too slow to
 * arrive): answered in the envelope, and with `Connection: close`, so that a keep-alive client
 * does not send its next request on a connection the server is closing.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const code = codeForStatus(status);
  // A HEAD request's answer has no body (the client would read one as the next response).
  const head = (error as { rawPacket?: Buffer }).rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD ';
  const body = head
    ? ''
    : JSON.stringify(errorEnvelope(CLIENT_ERROR_MESSAGES[status] ?? new AppError(code).message, code));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

const CLIENT_ERROR_MESSAGES: Record<number, string> = {
  431: 'Request headers are too large',
  408: 'The request took too long to arrive',
  400: 'Malformed HTTP request',
};

/**
 * Server-level setup shared by main.ts and the e2e tests, before the application starts: body
 * parsing, security headers, cookies, CORS, request ids, timing and the OpenAPI pages.
 */
export async function configureApp(app: NestFastifyApplication): Promise<void> {
  const config = app.get(AppConfig);
  app.useLogger(app.get(Logger));
  const fastify = app.getHttpAdapter().getInstance();
  registerJsonBodies(fastify, config);
  await app.register(fastifyCookie);
  app.enableShutdownHooks();
  SwaggerModule.setup('api/docs', app, buildOpenApiDocument(app), { jsonDocumentUrl: 'api/docs-json' });
  // A process without the api role maps no route: nothing below applies to it.
  if (!config.roles.has('api')) return;
  fastify.addHook('onRequest', (request, reply, done) => secureReply(request, reply, done as (err?: unknown) => void));
  // After the body is read: the handler and everything it starts see the request's id.
  fastify.addHook('preHandler', (request, _reply, done) => runInRequestContext(request.id, done));
  // Inside the request's context: routes that start runs get a server span (a child of `traceparent`).
  fastify.addHook('preHandler', (request, _reply, done) => traceRequest(request, done));
  fastify.addHook('onResponse', (request, reply, done) => {
    endRequestSpan(request, reply);
    done();
  });
  fastify.addHook('onRequestAbort', (request, done) => {
    abortRequestSpan(request);
    done();
  });
  app.enableCors({
    origin: config.http.corsOrigins.length ? config.http.corsOrigins : false,
    credentials: true,
    methods: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'],
    allowedHeaders: ['authorization', 'content-type', 'x-csrf-token', 'x-request-id', 'last-event-id'],
    exposedHeaders: ['x-request-id', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'Retry-After'],
  });
}
