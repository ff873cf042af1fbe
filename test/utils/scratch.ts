import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** The server keys every test process shares (apps, child processes, medium modules). */
export const TEST_SECRETS = {
  WEBHOOK_SECRET: 'test-webhook-secret-0123456789abcdef0123456789',
  API_SECRETS_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
};

/** A fresh database for one test file: in-memory SQLite, or a new PostgreSQL database when TEST_DATABASE_URL is set. */
export async function scratchDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) return { url: 'sqlite::memory:', drop: async () => undefined };
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  const name = `runloom_ci_${randomBytes(6).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}
