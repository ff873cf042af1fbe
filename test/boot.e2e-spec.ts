import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { SQLITE_MIGRATIONS } from '../src/database/migrations/sqlite';

const ROOT = path.join(__dirname, '..');

/** `node src/main.ts` as `npm start` runs it (compiled on the fly), with only the given environment. */
function startMain(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', TS_NODE_TRANSPILE_ONLY: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function collect(child: ChildProcess): { output: () => string; exit: Promise<number | string | null> } {
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return {
    output: () => out,
    exit: new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? signal))),
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function poll<T>(fn: () => Promise<T | undefined>, deadlineMs: number): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const value = await fn().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error('deadline passed');
    await new Promise((r) => setImmediate(r));
  }
}

// Each case compiles and boots the app in a child process: slow on a loaded 2-core machine.
jest.setTimeout(90_000);

describe('booting the server as a process', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'runloom-boot-'));
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('an invalid environment stops the boot with one message naming each bad variable', async () => {
    const child = startMain({ DATA_DIR: dataDir, PORT: 'http', LOG_LEVEL: 'chatty', RATE_LIMIT_PER_SECOND: '-5' });
    const { output, exit } = collect(child);
    expect(await exit).toBe(1);
    const lines = output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Invalid configuration: /);
    for (const name of ['PORT', 'LOG_LEVEL', 'RATE_LIMIT_PER_SECOND']) expect(lines[0]).toContain(name);
  });

  it('production without secrets refuses to start', async () => {
    const { output, exit } = collect(startMain({ DATA_DIR: dataDir, NODE_ENV: 'production' }));
    expect(await exit).toBe(1);
    expect(output()).toMatch(
      /WEBHOOK_SECRET is required in production; API_SECRETS_ENCRYPTION_KEY is required in production/,
    );
  });

  it('a fresh data dir: creates SQLite in WAL mode, applies migrations, generates secrets with a warning, serves /healthz', async () => {
    const fresh = path.join(dataDir, 'fresh');
    const port = await freePort();
    const child = startMain({ DATA_DIR: fresh, PORT: String(port), HOST: '127.0.0.1' });
    const { output, exit } = collect(child);
    try {
      const body = await poll(async () => {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`);
        return res.ok ? ((await res.json()) as unknown) : undefined;
      }, 60_000);
      expect(body).toEqual({ status: 'ok' });
      // The log line travels through a pipe: it may arrive after the HTTP answer.
      await poll(async () => (output().includes('using generated values stored in') ? true : undefined), 10_000);
      const secrets = JSON.parse(fs.readFileSync(path.join(fresh, 'secrets.json'), 'utf8'));
      expect(output()).not.toContain(secrets.WEBHOOK_SECRET);
      const db = new Database(path.join(fresh, 'runloom.sqlite'), { readonly: true });
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      const migrations = db.prepare('SELECT name FROM migrations').all() as { name: string }[];
      expect(migrations.map((m) => m.name)).toEqual(SQLITE_MIGRATIONS.map((M) => new M().name));
      db.close();
    } finally {
      child.kill('SIGTERM');
    }
    // Nest closes the app on SIGTERM, then re-raises the signal.
    expect(await exit).toBe('SIGTERM');
  });
});
