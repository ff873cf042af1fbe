import 'reflect-metadata';
// First: `.env` must be in the environment before any module below reads it while loading.
import { dotEnv } from './config/dot-env';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule, servesApi } from './app.module';
import { configureApp, createHttpAdapter } from './common/http/configure-app';
import { AppConfig, ConfigValidationError, loadConfig } from './config/app-config';
import { listenProblem } from './config/startup';
import { startTracing } from './common/tracing/start-tracing';

async function bootstrap(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      // One message naming every bad variable, then stop: nothing half-configured runs.
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  // Before the application is built: its spans go to the exporters from the first request on.
  const tracing = startTracing(config.traceExporters);
  // Bodies are parsed by registerJsonBodies (configure-app.ts), with errors in the envelope. The
  // start-up logs are held until the start succeeds or fails for a reason of the code's (printed
  // then, cause included); a port in use prints its one line and nothing else.
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(config), createHttpAdapter(config), {
    bodyParser: false,
    bufferLogs: true,
    autoFlushLogs: false,
    abortOnError: false,
  }).catch(() => {
    // Nest logged the cause into the held logs.
    Logger.flush();
    process.exit(1);
  });
  const failed = (error: unknown): never => {
    app.flushLogs();
    throw error;
  };
  await configureApp(app).catch(failed);
  const logger = new Logger('Bootstrap');
  if (dotEnv) logger.log(`Read ${dotEnv.applied.length} variable(s) from ${dotEnv.file} (the environment wins)`);
  if (config.secrets.generatedAt) {
    logger.warn(
      `WEBHOOK_SECRET / API_SECRETS_ENCRYPTION_KEY not set: using generated values stored in ${config.secrets.generatedAt}. Set them explicitly in production.`,
    );
  }
  logger.log(
    config.plans.limits === 'off'
      ? 'Plan limits off (PLAN_LIMITS=off): every account has the workspace plan, with no run quota and no seat limit'
      : 'Plan limits: the hosted plan model (Solo: 3 workflows, 10 nodes, no schedules); a private install sets PLAN_LIMITS=off',
  );
  if (config.env === 'production' && servesApi(config) && /^http:\/\/localhost:/.test(config.http.apiPublicUrl)) {
    logger.warn(
      `Webhook URLs are given as ${config.http.apiPublicUrl}/…: set API_PUBLIC_URL (or PUBLIC_URL) to the address senders reach`,
    );
  }
  if (tracing) logger.log(`Traces exported with ${config.traceExporters.join(', ')} (OTEL_TRACES_EXPORTER)`);
  const roles = [...config.roles].join(',');
  if (servesApi(config)) {
    await app.listen(config.port, config.host).catch((error: unknown) => {
      const problem = listenProblem(error, config.host, config.port);
      if (!problem) failed(error);
      // One line, no stack: the cause is the machine, not the code.
      console.error(problem);
      process.exit(1);
    });
    app.flushLogs();
    logger.log(
      `Runloom listening on http://localhost:${config.port} (database: ${config.database.type}, roles: ${roles})`,
    );
  } else {
    // Worker/scheduler-only processes serve no HTTP; they run until SIGTERM.
    await app.init().catch(failed);
    app.flushLogs();
    logger.log(`Runloom started without HTTP (database: ${config.database.type}, roles: ${roles})`);
  }
}

void bootstrap();
