import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface DevSecrets {
  WEBHOOK_SECRET: string;
  API_SECRETS_ENCRYPTION_KEY: string;
}

export interface DevSecretsOptions {
  /** How long a reader keeps retrying a file it cannot parse (another process may still be writing it). */
  readRetryMs?: number;
}

const DEFAULT_READ_RETRY_MS = 2_000;
const RETRY_PAUSE_MS = 20;

/**
 * Outside production a fresh clone must boot without configuration, yet webhook URLs and the
 * secret store must survive restarts: generate the secrets once and keep them beside the data.
 *
 * Several processes (api, worker, scheduler) may start together on one DATA_DIR. The file is
 * therefore written whole to a temporary file and then linked into place: readers see either no
 * file or the complete one, and the first process to link wins (the others read its values).
 * A reader that still finds an unparseable file (for instance one left by an older, non-atomic
 * writer) retries for a short while before giving up with a clear error.
 */
export function loadOrCreateDevSecrets(
  dataDir: string,
  options: DevSecretsOptions = {},
): { file: string; values: DevSecrets } {
  const file = path.join(dataDir, 'secrets.json');
  const existing = readWithRetry(file, options.readRetryMs ?? DEFAULT_READ_RETRY_MS);
  if (existing) return { file, values: existing };

  const values: DevSecrets = {
    WEBHOOK_SECRET: randomBytes(32).toString('base64url'),
    API_SECRETS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  };
  fs.mkdirSync(dataDir, { recursive: true });
  const temp = path.join(dataDir, `.secrets.json.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    fs.writeFileSync(temp, JSON.stringify(values, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
    try {
      // link, unlike rename, never replaces a file: a process that lost the race keeps the winner's secrets.
      fs.linkSync(temp, file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return loadOrCreateDevSecrets(dataDir, options);
      // File systems without hard links: fall back to an exclusive create, still never overwriting.
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw error;
      fs.renameSync(temp, exclusivePlaceholder(file, temp));
      return loadOrCreateDevSecrets(dataDir, options);
    }
  } finally {
    fs.rmSync(temp, { force: true });
  }
  return { file, values };
}

/**
 * Without hard links: reserve the name with an exclusive create and move the complete file over it.
 * Readers meanwhile may see an empty file; they retry until the rename lands.
 */
function exclusivePlaceholder(file: string, temp: string): string {
  try {
    fs.writeFileSync(file, '', { mode: 0o600, flag: 'wx' });
    return file;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return temp; // someone else won; drop ours
    throw error;
  }
}

/** The stored secrets, null when there is no file; retries a file that is empty, partial or incomplete. */
function readWithRetry(file: string, retryMs: number): DevSecrets | null {
  const until = Date.now() + retryMs;
  for (;;) {
    let problem: Error;
    try {
      const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<DevSecrets> | null;
      if (stored?.WEBHOOK_SECRET && stored.API_SECRETS_ENCRYPTION_KEY) return stored as DevSecrets;
      problem = new Error('WEBHOOK_SECRET or API_SECRETS_ENCRYPTION_KEY missing');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      if (!(error instanceof SyntaxError)) {
        throw new Error(`Cannot read generated secrets at ${file}: ${(error as Error).message}`, { cause: error });
      }
      problem = error;
    }
    if (Date.now() >= until) {
      throw new Error(
        `Cannot read generated secrets at ${file}: ${problem.message}. ` +
          'Delete the file to generate new ones, or set WEBHOOK_SECRET and API_SECRETS_ENCRYPTION_KEY.',
        { cause: problem },
      );
    }
    pause(RETRY_PAUSE_MS);
  }
}

/** Configuration is loaded synchronously, before anything else runs: block briefly instead of awaiting. */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
