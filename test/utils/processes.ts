import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TEST_SECRETS } from './app';
import { watchProcessOutput } from './leak-scan';
import { waitFor } from './wait';

const ROOT = path.join(__dirname, '..', '..');

export interface AppProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | string | null>;
  kill(signal?: NodeJS.Signals): Promise<number | string | null>;
}

/**
 * Starts `src/main.ts` in a real child process (compiled on the fly) with the given roles against
 * `databaseUrl`, sharing the test app's secrets, and resolves once it is up.
 */
export async function startProcess(
  env: Record<string, string>,
  readyLine: RegExp,
  nodeArgs: string[] = [],
): Promise<AppProcess> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'runloom-proc-'));
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', ...nodeArgs, 'src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      TS_NODE_TRANSPILE_ONLY: 'true',
      NODE_ENV: 'test',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      PASSWORD_SCRYPT_LOG_N: '10',
      EGRESS_ALLOW_PRIVATE_NETWORKS: 'true',
      ...TEST_SECRETS,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string | null>((resolve) =>
    child.on('exit', (code, signal) => {
      fs.rmSync(dataDir, { recursive: true, force: true });
      resolve(code ?? signal);
    }),
  );
  watchProcessOutput(`process ${child.pid} (${env.RUNLOOM_ROLES ?? 'all roles'})`, () => out);
  let gone = false;
  void exited.then(() => (gone = true));
  await waitFor(
    () => {
      if (gone) throw new Error(`process exited during start:\n${out.slice(-2000)}`);
      return readyLine.test(out);
    },
    'the process to start',
    60_000,
  );
  return {
    child,
    output: () => out,
    exited,
    kill: (signal: NodeJS.Signals = 'SIGTERM') => {
      if (!gone) child.kill(signal);
      return exited;
    },
  };
}

/** Node arguments for a child whose heap a test reads with `heapAfterGc`. */
export const HEAP_PROBE_ARGS = ['--expose-gc', '-r', path.join(__dirname, 'heap-probe.ts')];

/** The child's heap in use after a full collection, in MB (it must run with HEAP_PROBE_ARGS). */
export async function heapAfterGc(p: AppProcess): Promise<number> {
  const before = p.output().length;
  p.child.kill('SIGWINCH');
  const line = await waitFor(() => {
    if (p.child.exitCode !== null || p.child.signalCode !== null)
      throw new Error(`the process exited (${p.child.exitCode ?? p.child.signalCode}):\n${p.output().slice(-300)}`);
    return /heap-after-gc \d+ (\d+)/.exec(p.output().slice(before)) ?? undefined;
  }, 'the heap probe');
  return Number(line[1]) / 1024 / 1024;
}

export function startWorker(databaseUrl: string, env: Record<string, string> = {}): Promise<AppProcess> {
  return startProcess(
    { RUNLOOM_ROLES: 'worker', DATABASE_URL: databaseUrl, WORKER_POLL_INTERVAL_MS: '20', ...env },
    /Runloom started without HTTP/,
  );
}
