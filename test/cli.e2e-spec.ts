import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import request from 'supertest';
import { createTestApp, TEST_SECRETS, TestApp } from './utils/app';
import { TargetServer } from './utils/target-server';
import { signupAndLogin } from './factories/user.factory';
import { graph, trigger } from './factories/workflow.factory';

const ROOT = path.join(__dirname, '..');
jest.setTimeout(120_000);

/** The operator CLI in a real child process against a running app (issue 11 item 5). */
function cli(url: string, args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/cli/main.ts', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', TS_NODE_TRANSPILE_ONLY: 'true', RUNLOOM_URL: url, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('operator CLI (npm run cli)', () => {
  let t: TestApp;
  let target: TargetServer;
  let dir: string;
  beforeAll(async () => {
    target = await new TargetServer().start();
    t = await createTestApp();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runloom-cli-'));
  });
  afterAll(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await target.stop();
    await t.close();
  });

  it('creates a user and an API key, imports and exports workflows, runs one and follows it live', async () => {
    const email = `operator.${Date.now()}@example.com`;
    const password = 'operator password 123';
    const user = await cli(t.url, ['user', 'create', '--email', email, '--password', password]);
    expect(user.code).toBe(0);
    expect(user.stdout).toMatch(/^created user [0-9a-f-]{36} \(operator\.\d+@example\.com\)\n$/);

    const key = await cli(t.url, ['apikey', 'create', '--email', email, '--password', password, '--name', 'ops']);
    expect(key.code).toBe(0);
    const token = key.stdout.trim();
    expect(token).toMatch(/^rl_/);
    expect(key.stderr).toContain('shown once');
    // The key works against the API.
    await request(t.url).get('/api/auth/me').set('Authorization', `Bearer ${token}`).expect(200);

    const call = {
      id: 'call',
      type: 'actionHttp',
      data: { label: 'Call', actionType: 'http', params: { url: `${target.url}/cli/{{In.n}}`, method: 'GET' } },
    };
    const file = path.join(dir, 'import.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        runloom_export: 1,
        workflows: [
          {
            name: 'CLI flow',
            description: 'imported',
            data: graph([trigger('t', { label: 'In' }), call], [['t', 'call']]),
          },
        ],
      }),
    );
    const imported = await cli(t.url, ['workflows', 'import', '--file', file], { RUNLOOM_TOKEN: token });
    expect(imported.code).toBe(0);
    const id = /imported "CLI flow" as ([0-9a-f-]{36})/.exec(imported.stdout)![1];

    const out = path.join(dir, 'export.json');
    const exported = await cli(t.url, ['workflows', 'export', '--out', out, '--token', token]);
    expect(exported.code).toBe(0);
    const doc = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(doc.workflows).toHaveLength(1);
    expect(doc.workflows[0]).toMatchObject({ name: 'CLI flow', description: 'imported' });
    expect(doc.workflows[0].data.nodes.map((n: { id: string }) => n.id)).toEqual(['t', 'call']);
    // Importing the same export again: the name is taken, reported per workflow, exit 1.
    const again = await cli(t.url, ['workflows', 'import', '--file', out], { RUNLOOM_TOKEN: token });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('409');

    const run = await cli(t.url, ['run', id, '--context', '{"n":7}'], { RUNLOOM_TOKEN: token });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^run [0-9a-f-]{36} queued\n/);
    expect(run.stdout).toContain('✓ call succeeded');
    expect(run.stdout.trim().split('\n').pop()).toBe('run succeeded');
    expect(target.count('/cli/7')).toBe(1);
  });

  it('explains what is missing, with exit code 2', async () => {
    const missing = await cli(t.url, ['workflows', 'export']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--token (or RUNLOOM_TOKEN) is required');
    const unknown = await cli(t.url, ['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    const badLogin = await cli(t.url, [
      'apikey',
      'create',
      '--email',
      'nobody@example.com',
      '--password',
      'wrong password 1',
    ]);
    expect(badLogin.code).toBe(2);
    expect(badLogin.stderr).toContain('login → 401');
  });
});

describe('operator CLI: support threads (issues list / show / reply) and the admin role (user role)', () => {
  let t: TestApp;
  let dir: string;
  /** Where the child process finds the server's database: the same PostgreSQL database, or a SQLite file. */
  let serverEnv: Record<string, string>;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runloom-cli-issues-'));
    const sqliteFile = `sqlite:${path.join(dir, 'server.sqlite')}`;
    t = await createTestApp(process.env.TEST_DATABASE_URL ? {} : { DATABASE_URL: sqliteFile });
    serverEnv = {
      NODE_ENV: 'test',
      DATA_DIR: dir,
      DATABASE_URL: process.env.TEST_DATABASE_URL ? t.databaseUrl : sqliteFile,
      ...TEST_SECRETS,
    };
  });
  afterAll(async () => {
    await t.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('an operator made admin lists the threads, reads one and answers; the user sees the answer as unread', async () => {
    const reporter = await signupAndLogin(t.url);
    const reported = await reporter.agent
      .post('/api/issues')
      .set('x-csrf-token', reporter.csrf)
      .send({ description: 'Runs stay queued\nsince this morning' })
      .expect(200);
    const issueId = reported.body.issue_id as string;

    const email = `support.${Date.now()}@example.com`;
    const password = 'support password 123';
    expect((await cli(t.url, ['user', 'create', '--email', email, '--password', password])).code).toBe(0);
    const token = (await cli(t.url, ['apikey', 'create', '--email', email, '--password', password])).stdout.trim();
    expect(token).toMatch(/^rl_/);

    // Not an admin yet: the API refuses, the CLI says why.
    const refused = await cli(t.url, ['issues', 'list'], { RUNLOOM_TOKEN: token });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('403: Access denied. Admins only.');

    const granted = await cli(t.url, ['user', 'role', '--email', email.toUpperCase(), '--role', 'admin'], serverEnv);
    expect(granted.stderr).toBe('');
    expect(granted.code).toBe(0);
    expect(granted.stdout).toBe(`${email} is now an application admin\n`);

    const list = await cli(t.url, ['issues', 'list'], { RUNLOOM_TOKEN: token });
    expect(list.code).toBe(0);
    const line = list.stdout.split('\n').find((l) => l.startsWith(issueId))!;
    expect(line.split('\t')).toEqual([
      issueId,
      'open',
      expect.stringMatching(/Z$/),
      reporter.user.email,
      '1 unread',
      'user: Runs stay queued since this morning',
    ]);
    const filtered = await cli(t.url, ['issues', 'list', '--status', 'waiting_user'], { RUNLOOM_TOKEN: token });
    expect(filtered.stdout).not.toContain(issueId);

    const shown = await cli(t.url, ['issues', 'show', issueId], { RUNLOOM_TOKEN: token });
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`issue ${issueId} [open] from Ada Lovelace <${reporter.user.email}>`);
    expect(shown.stdout).toContain('Runs stay queued\nsince this morning');

    const reply = await cli(t.url, ['issues', 'reply', issueId, 'Fixed:', 'the worker', 'was restarted'], {
      RUNLOOM_TOKEN: token,
    });
    expect(reply.stderr).toBe('');
    expect(reply.code).toBe(0);
    expect(reply.stdout).toBe(`replied to issue ${issueId}; it now waits for the user (waiting_user)\n`);

    const inbox = (await reporter.agent.get('/api/issues').expect(200)).body;
    expect(inbox.unread_admin_messages).toBe(1);
    expect(inbox.issues[0]).toMatchObject({
      id: issueId,
      status: 'waiting_user',
      last_message_sender: 'admin',
      last_message_body: 'Fixed: the worker was restarted',
    });

    // Taking the role away works at once.
    expect((await cli(t.url, ['user', 'role', '--email', email, '--role', 'user'], serverEnv)).code).toBe(0);
    expect((await cli(t.url, ['issues', 'list'], { RUNLOOM_TOKEN: token })).stderr).toContain('403');
  });

  it('explains what is missing, with exit code 2', async () => {
    const unknown = await cli(t.url, ['user', 'role', '--email', 'nobody@example.com', '--role', 'admin'], serverEnv);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no account with the e-mail nobody@example.com');
    const badRole = await cli(t.url, ['user', 'role', '--email', 'x@example.com', '--role', 'root'], serverEnv);
    expect(badRole.code).toBe(2);
    expect(badRole.stderr).toContain('--role must be admin or user');
    const noText = await cli(t.url, ['issues', 'reply', '00000000-0000-4000-8000-000000000000'], {
      RUNLOOM_TOKEN: 'rl_whatever',
    });
    expect(noText.code).toBe(2);
    expect(noText.stderr).toContain('usage: runloom issues reply <issue-id> <text>');
    const noToken = await cli(t.url, ['issues', 'list']);
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('--token (or RUNLOOM_TOKEN) is required');
  });
});
