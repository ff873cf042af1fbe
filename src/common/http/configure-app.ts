import { INestApplication } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import cookieParser from 'cookie-parser';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { AppConfig } from '../../config/app-config';

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

/**
 * Express-level setup shared by main.ts and the e2e tests. The app must be created with
 * `bodyParser: false`: JsonBodyMiddleware parses bodies so that parse errors use the envelope.
 */
export function configureApp(app: NestExpressApplication): void {
  const config = app.get(AppConfig);
  app.useLogger(app.get(Logger));
  app.set('trust proxy', config.http.trustProxy);
  app.disable('x-powered-by');
  // HSTS and `upgrade-insecure-requests` only over HTTPS (or a trusted proxy saying so): over plain
  // HTTP by host name they make the browser fetch Swagger UI's and /monitor's assets over HTTPS.
  const httpsHeaders = helmet();
  const httpHeaders = helmet({
    strictTransportSecurity: false,
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
  });
  app.use((req: Request, res: Response, next: NextFunction) =>
    (req.secure ? httpsHeaders : httpHeaders)(req, res, next),
  );
  app.use(cookieParser());
  app.enableCors({
    origin: config.http.corsOrigins.length ? config.http.corsOrigins : false,
    credentials: true,
    methods: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'],
    allowedHeaders: ['authorization', 'content-type', 'x-csrf-token', 'x-request-id', 'last-event-id'],
    exposedHeaders: ['x-request-id', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'Retry-After'],
  });
  app.enableShutdownHooks();
  SwaggerModule.setup('api/docs', app, buildOpenApiDocument(app), { jsonDocumentUrl: 'api/docs-json' });
}
