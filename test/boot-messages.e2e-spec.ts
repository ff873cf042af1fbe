import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { waitFor } from './utils/wait';

const ROOT = path.join(__dirname, '..');
const MAIN = path.join(ROOT, 'src', 'main.ts');

/** `src/main.ts` in a child process (compiled on the fly) with only the given environment, in `cwd`. */
function startMain(env: Record<string, string>, cwd = ROOT): ChildProcess {
  return spawn(
    process.execPath,
    ['-r', path.join(ROOT, 'node_modules', 'ts-node', 'register', 'transpile-only.js'), MAIN],
    {
      cwd,
      env: {
        PATH: process.env.PATH ?? '',
        TS_NODE_TRANSPILE_ONLY: 'true',
        TS_NODE_PROJECT: path.join(ROOT, 'tsconfig.json'),
        // Worker threads preload ts-node by name, resolved from the working directory.
        NODE_PATH: path.join(ROOT, 'node_modules'),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
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

async function listening(): Promise<net.Server> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => resolve(server));
  });
}

async function freePort(): Promise<number> {
  const server = await listening();
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// Each case compiles and boots the app in a child process: slow on a loaded 2-core machine.
jest.setTimeout(90_000);

describe('boot messages a person can act on', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'runloom-boot-msg-'));
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('PORT=abc says it is not a number', async () => {
    const { output, exit } = collect(startMain({ DATA_DIR: dataDir, PORT: 'abc' }));
    expect(await exit).toBe(1);
    expect(output().trim()).toBe('Invalid configuration: PORT is not a number');
  });

  it('a busy port prints one line naming the port and exits non-zero, without a stack', async () => {
    const busy = await listening();
    const { port } = busy.address() as net.AddressInfo;
    try {
      const { output, exit } = collect(
        startMain({ DATA_DIR: path.join(dataDir, 'busy'), PORT: String(port), HOST: '127.0.0.1' }),
      );
      expect(await exit).toBe(1);
      const lines = output().trim().split('\n');
      expect(lines).toEqual([
        `Port ${port} on 127.0.0.1 is already in use: stop the process using it, or set PORT to a free port.`,
      ]);
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  });

  it('reads .env from the working directory; the real environment wins; a guard or plan limits turned off are logged', async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'runloom-dotenv-'));
    const [filePort, realPort] = [await freePort(), await freePort()];
    fs.writeFileSync(
      path.join(cwd, '.env'),
      [
        '# a comment',
        `PORT=${filePort}`,
        'HOST=127.0.0.1',
        'DATA_DIR="./from-dotenv"',
        'EGRESS_ALLOW_PRIVATE_NETWORKS=true',
        'PLAN_LIMITS=off',
        '',
      ].join('\n'),
    );
    const child = startMain({ PORT: String(realPort) }, cwd);
    const { output, exit } = collect(child);
    try {
      const body = await waitFor(
        async () => {
          if (child.exitCode !== null) throw new Error(`exited:\n${output()}`);
          const res = await fetch(`http://127.0.0.1:${realPort}/healthz`);
          return res.ok ? ((await res.json()) as unknown) : undefined;
        },
        'the server on the real PORT',
        60_000,
      );
      expect(body).toEqual({ status: 'ok' });
      // DATA_DIR came from the file, relative to the working directory.
      expect(fs.existsSync(path.join(cwd, 'from-dotenv', 'runloom.sqlite'))).toBe(true);
      await waitFor(() => output().includes('the SSRF guard is off'), 'the egress warning', 10_000);
      expect(output()).toContain(`Read 4 variable(s) from ${path.join(cwd, '.env')}`);
      expect(output()).toMatch(/EGRESS_ALLOW_PRIVATE_NETWORKS=true: the SSRF guard is off/);
      expect(output()).toContain('Plan limits off (PLAN_LIMITS=off)');
      await expect(fetch(`http://127.0.0.1:${filePort}/healthz`)).rejects.toThrow();
    } finally {
      child.kill('SIGTERM');
      await exit;
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });
});
