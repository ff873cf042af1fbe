/**
 * The OpenAPI document, checked in as openapi.json so clients and reviewers see API changes in diffs.
 *
 *   npm run openapi          writes openapi.json from the code
 *   npm run openapi:check    fails when openapi.json differs from what the code documents
 *
 * The e2e suite runs the same comparison (test/openapi.e2e-spec.ts), so CI fails on drift.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NestFactory } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from '../src/app.module';
import { buildOpenApiDocument, createHttpAdapter } from '../src/common/http/configure-app';
import { openApiJson, OPENAPI_FILE } from './openapi-file';
import { loadConfig } from '../src/config/app-config';

async function main(): Promise<number> {
  const mode = process.argv[2];
  if (mode !== 'write' && mode !== 'check') {
    console.error('usage: openapi.ts write | check');
    return 2;
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'runloom-openapi-'));
  // An API-only app on a throwaway database: routes are registered, nothing runs or listens.
  const config = loadConfig({
    DATA_DIR: dataDir,
    DATABASE_URL: 'sqlite::memory:',
    RUNLOOM_ROLES: 'api',
    LOG_LEVEL: 'warn',
    WEBHOOK_SECRET: 'openapi-generation-only-0123456789abcdef',
    API_SECRETS_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(config), createHttpAdapter(config), {
    bodyParser: false,
    logger: ['error'],
  });
  try {
    await app.init();
    const text = openApiJson(buildOpenApiDocument(app));
    if (mode === 'write') {
      fs.writeFileSync(OPENAPI_FILE, text);
      console.log(`wrote ${path.relative(process.cwd(), OPENAPI_FILE)}`);
      return 0;
    }
    const current = fs.existsSync(OPENAPI_FILE) ? fs.readFileSync(OPENAPI_FILE, 'utf8') : '';
    if (current === text) {
      console.log('openapi.json matches the code');
      return 0;
    }
    console.error('openapi.json differs from the code: run `npm run openapi` and commit the result');
    return 1;
  } finally {
    await app.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
