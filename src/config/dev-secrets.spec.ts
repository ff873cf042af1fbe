import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { waitFor } from '../../test/utils/wait';
import { DevSecrets, loadOrCreateDevSecrets } from './dev-secrets';

const ROOT = path.join(__dirname, '..', '..');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'runloom-secrets-'));

/**
 * A real process that loads the secrets of `dataDir` when told `go` on stdin and prints them as JSON.
 * Every child is started first and released together, so they race for the file.
 */
function loader(dataDir: string, retryMs: number) {
  const script = `
    const { loadOrCreateDevSecrets } = require('./src/config/dev-secrets');
    process.stdout.write('ready\\n');
    process.stdin.once('data', () => {
      process.stdout.write('reading\\n');
      try {
        const { values } = loadOrCreateDevSecrets(${JSON.stringify(dataDir)}, { readRetryMs: ${retryMs} });
        process.stdout.write('result ' + JSON.stringify(values) + '\\n');
      } catch (error) {
        process.stdout.write('error ' + error.message + '\\n');
      }
      process.exit(0);
    });`;
  const child: ChildProcess = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', TS_NODE_TRANSPILE_ONLY: 'true' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  // 'close', not 'exit': only then has everything the child wrote reached us.
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return {
    child,
    output: () => out,
    go: () => child.stdin!.write('go\n'),
    result: async (): Promise<DevSecrets> => {
      await exited;
      const line = /^result (.*)$/m.exec(out);
      if (!line) throw new Error(`the loader failed:\n${out}`);
      return JSON.parse(line[1]) as DevSecrets;
    },
  };
}

describe('loadOrCreateDevSecrets', () => {
  jest.setTimeout(60_000);

  it('creates the secrets once and reads the same values back', () => {
    const dir = tmp();
    const first = loadOrCreateDevSecrets(dir);
    expect(first.file).toBe(path.join(dir, 'secrets.json'));
    expect(loadOrCreateDevSecrets(dir).values).toEqual(first.values);
    expect(fs.statSync(first.file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir)).toEqual(['secrets.json']);
  });

  it('processes starting together on one DATA_DIR all get the same secrets, none fails', async () => {
    const dir = tmp();
    const loaders = Array.from({ length: 6 }, () => loader(dir, 2_000));
    await waitFor(() => loaders.every((l) => /^ready$/m.test(l.output())), 'the loaders to start', 30_000);
    for (const l of loaders) l.go();
    const results = await Promise.all(loaders.map((l) => l.result()));
    for (const values of results) expect(values).toEqual(results[0]);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'secrets.json'), 'utf8'))).toEqual(results[0]);
    // No temporary file is left behind.
    expect(fs.readdirSync(dir)).toEqual(['secrets.json']);
  });

  it('a reader that finds a half-written file waits for the complete one', async () => {
    const dir = tmp();
    const file = path.join(dir, 'secrets.json');
    fs.writeFileSync(file, '{"WEBHOOK_SECRET": "abc');
    const reader = loader(dir, 30_000);
    await waitFor(() => /^ready$/m.test(reader.output()), 'the reader to start', 30_000);
    reader.go();
    await waitFor(() => /^reading$/m.test(reader.output()), 'the reader to read');
    const complete = { WEBHOOK_SECRET: 'written-later', API_SECRETS_ENCRYPTION_KEY: 'a2V5' };
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(complete));
    fs.renameSync(`${file}.tmp`, file);
    expect(await reader.result()).toEqual(complete);
  });

  it('a file that stays unreadable fails with a message naming it and the way out', () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'secrets.json'), '{"WEBHOOK_SECRET"');
    expect(() => loadOrCreateDevSecrets(dir, { readRetryMs: 0 })).toThrow(
      /Cannot read generated secrets at .*secrets\.json: .*Delete the file .* or set WEBHOOK_SECRET/,
    );
    fs.writeFileSync(path.join(dir, 'secrets.json'), '{"WEBHOOK_SECRET": "only-one"}');
    expect(() => loadOrCreateDevSecrets(dir, { readRetryMs: 0 })).toThrow(/API_SECRETS_ENCRYPTION_KEY missing/);
  });
});
