import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface DevSecrets {
  WEBHOOK_SECRET: string;
  API_SECRETS_ENCRYPTION_KEY: string;
}

/**
 * Outside production a fresh clone must boot without configuration, yet webhook URLs and the
 * secret store must survive restarts: generate the secrets once and keep them beside the data.
 */
export function loadOrCreateDevSecrets(dataDir: string): { file: string; values: DevSecrets } {
  const file = path.join(dataDir, 'secrets.json');
  try {
    const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<DevSecrets>;
    if (stored.WEBHOOK_SECRET && stored.API_SECRETS_ENCRYPTION_KEY) {
      return { file, values: stored as DevSecrets };
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`Cannot read generated secrets at ${file}: ${(error as Error).message}`, { cause: error });
    }
  }
  const values: DevSecrets = {
    WEBHOOK_SECRET: randomBytes(32).toString('base64url'),
    API_SECRETS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  };
  fs.mkdirSync(dataDir, { recursive: true });
  // 'wx' so two processes starting together cannot overwrite each other's secrets.
  try {
    fs.writeFileSync(file, JSON.stringify(values, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateDevSecrets(dataDir);
    throw error;
  }
  return { file, values };
}
