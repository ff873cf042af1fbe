import { Type } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { DataSource } from 'typeorm';
import { AppModule } from '../../src/app.module';
import { configureApp, createHttpAdapter } from '../../src/common/http/configure-app';
import { type AppConfig, loadConfig } from '../../src/config/app-config';
import { LeakReport, LeakScan, recordLeakReport } from './leak-scan';
import { scratchDatabase, TEST_SECRETS } from './scratch';

// Kept importable from here: most tests take them with createTestApp.
export { scratchDatabase, TEST_SECRETS };

export interface TestApp {
  app: NestFastifyApplication;
  url: string;
  /** Every route the server maps (method and path template), the Swagger UI's included. */
  routes: { method: string; url: string }[];
  /** The database this app uses (for extra processes in multi-process tests). */
  databaseUrl: string;
  /** Every log line written while the app ran (JSON strings). */
  logs: string[];
  /** What the secret leak scan finds so far (test/utils/leak-scan.ts). */
  scanForLeaks(): Promise<LeakReport>;
  /** Closes the app after the leak scan, which fails the close on a hit (`scan: false` skips it). */
  close(options?: { scan?: boolean }): Promise<void>;
}

/**
 * Boots the real AppModule on 127.0.0.1 with a private data dir and database. Rate limits are off
 * and the password KDF is cheap unless a test asks otherwise through `env`.
 */
export async function createTestApp(
  env: Record<string, string> = {},
  extra: { controllers?: Type<unknown>[]; overrides?: { provide: Type<unknown>; useValue: unknown }[] } = {},
): Promise<TestApp> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'runloom-test-'));
  const db = await scratchDatabase();
  // A configuration refused at boot must not leave the scratch database (and a connection) behind.
  let config: AppConfig;
  try {
    config = loadConfig({
      NODE_ENV: 'test',
      DATA_DIR: dataDir,
      DATABASE_URL: db.url,
      LOG_LEVEL: 'info',
      RATE_LIMIT_PER_SECOND: '0',
      AUTH_RATE_LIMIT_PER_MINUTE: '0',
      PASSWORD_SCRYPT_LOG_N: '10',
      // Workflows in tests call servers on 127.0.0.1 on purpose; the egress tests turn the guard back on.
      EGRESS_ALLOW_PRIVATE_NETWORKS: 'true',
      ...TEST_SECRETS,
      ...env,
    });
  } catch (error) {
    await db.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const logs: string[] = [];
  const logDestination = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const builder = Test.createTestingModule({
    imports: [AppModule.register(config, { logDestination })],
    controllers: extra.controllers ?? [],
  });
  for (const { provide, useValue } of extra.overrides ?? []) builder.overrideProvider(provide).useValue(useValue);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(createHttpAdapter(config), {
    bodyParser: false,
    bufferLogs: true,
  });
  // The routes the application maps, as the server registers them.
  const routes: { method: string; url: string }[] = [];
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) routes.push({ method, url: route.url });
    });
  await configureApp(app);
  // Every test app is scanned for leaked secrets when it closes (test/utils/leak-scan.ts).
  const leaks = new LeakScan(Object.values(TEST_SECRETS));
  leaks.attach(app.getHttpServer());
  await app.listen(0, '127.0.0.1');
  const scanForLeaks = () => leaks.scan(app.get(DataSource), config.secrets.encryptionKey, logs);
  const address = app.getHttpServer().address() as { port: number };
  return {
    app,
    routes,
    url: `http://127.0.0.1:${address.port}`,
    databaseUrl: db.url,
    logs,
    scanForLeaks,
    close: async (options = {}) => {
      // Scanned before closing (the database must still be open); the app closes even if the scan fails.
      const report = await (options.scan === false ? Promise.resolve(undefined) : scanForLeaks()).finally(() =>
        app.close(),
      );
      await db.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
      if (!report) return;
      recordLeakReport(report);
      if (report.hits.length) {
        throw new Error(`Secrets leaked in plaintext (${report.hits.length}):\n${report.hits.slice(0, 20).join('\n')}`);
      }
    },
  };
}
