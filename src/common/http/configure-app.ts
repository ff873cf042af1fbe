import { INestApplication } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import fastifyCookie from '@fastify/cookie';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { AppConfig } from '../../config/app-config';
import { byteSize } from './http';
import { registerJsonBodies } from './json-body';
import { REQUEST_ID } from './logging';
import { runInRequestContext } from './request-context';

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

/**
 * The HTTP server: Fastify, which costs about half of what Express did per request here
 * (docs/performance.md). Routing as the reference's framework: paths match whatever their case
 * and with or without a trailing slash; webhook tokens and ids may be long.
 */
export function createHttpAdapter(config: AppConfig): FastifyAdapter {
  return new FastifyAdapter({
    trustProxy: config.http.trustProxy,
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: true, maxParamLength: 1_000 },
    bodyLimit: Math.max(byteSize(config.http.bodyLimit), byteSize(config.http.webhookBodyLimit)),
    genReqId: requestId,
    // Nest's own error handler answers malformed URLs and bodies in the envelope.
    return503OnClosing: false,
  });
}

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
  // HSTS and `upgrade-insecure-requests` only over HTTPS (or a trusted proxy saying so): over plain
  // HTTP by host name they make the browser fetch Swagger UI's and /monitor's assets over HTTPS.
  const httpsHeaders = helmet();
  const httpHeaders = helmet({
    strictTransportSecurity: false,
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
  });
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    (request.protocol === 'https' ? httpsHeaders : httpHeaders)(
      request.raw,
      reply.raw as ServerResponse,
      done as (err?: unknown) => void,
    );
  });
  // After the body is read: the handler and everything it starts see the request's id.
  fastify.addHook('preHandler', (request, _reply, done) => runInRequestContext(request.id, done));
  app.enableCors({
    origin: config.http.corsOrigins.length ? config.http.corsOrigins : false,
    credentials: true,
    methods: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'],
    allowedHeaders: ['authorization', 'content-type', 'x-csrf-token', 'x-request-id', 'last-event-id'],
    exposedHeaders: ['x-request-id', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'Retry-After'],
  });
}
