/**
 * The operator CLI: `npm run cli -- <command>` (or `node dist/cli/main.js <command>` after a build).
 * It talks to a running server over its public API, so every rule (plans, quotas, access, secret
 * handling) applies exactly as for the web client. `--url` or RUNLOOM_URL (default
 * http://localhost:3000); `--token` or RUNLOOM_TOKEN (an API key or a session) where a caller is needed.
 * The one exception is `user role`, which grants the application admin role on the server's database.
 */
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { cliEnvironment } from '../config/cli-env';

const USAGE = `usage: runloom <command> [options]

  user create  --email E --password P [--first-name F] [--last-name L]
                                    sign a user up (prints the user id)
  apikey create --email E --password P [--name N]
                                    log in and create a personal API key (printed once)
  workflows export [--workspace W] [--out FILE]
                                    every workflow the caller sees, as JSON (stdout or FILE)
  workflows import --file FILE [--workspace W]
                                    create the workflows of an export (names must be free)
  run <workflow-id> [--context JSON] [--workspace W]
                                    start a run and follow it live until it ends (exit 1 unless it succeeds)
  issues list [--status S]          support threads of every user, most recently active first (admin token)
  issues show <issue-id>            one thread, oldest message first (admin token)
  issues reply <issue-id> <text>    answer as the application's support (admin token)
  user role --email E --role admin|user
                                    make an account an application admin, or a regular user again; works
                                    on the server's database directly (its DATABASE_URL / DATA_DIR)

  common: --url URL (RUNLOOM_URL), --token TOKEN (RUNLOOM_TOKEN)`;

class CliError extends Error {}

interface Options {
  url: string;
  token?: string;
  values: Record<string, string | undefined>;
  positionals: string[];
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      email: { type: 'string' },
      password: { type: 'string' },
      'first-name': { type: 'string' },
      'last-name': { type: 'string' },
      name: { type: 'string' },
      workspace: { type: 'string' },
      out: { type: 'string' },
      file: { type: 'string' },
      context: { type: 'string' },
      status: { type: 'string' },
      role: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help || positionals.length === 0) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const env = cliEnvironment();
  const options: Options = {
    url: (values.url ?? env.url ?? 'http://localhost:3000').replace(/\/$/, ''),
    token: values.token ?? env.token,
    values: values as Record<string, string | undefined>,
    positionals,
  };
  const [group, action] = positionals;
  const command = group === 'run' ? 'run' : `${group} ${action ?? ''}`.trim();
  switch (command) {
    case 'user create':
      return userCreate(options);
    case 'apikey create':
      return apiKeyCreate(options);
    case 'workflows export':
      return workflowsExport(options);
    case 'workflows import':
      return workflowsImport(options);
    case 'run':
      return runAndFollow(options);
    case 'issues list':
      return issuesList(options);
    case 'issues show':
      return issuesShow(options);
    case 'issues reply':
      return issuesReply(options);
    case 'user role':
      return userRole(options);
    default:
      throw new CliError(`unknown command "${command}"\n\n${USAGE}`);
  }
}

// ---------------------------------------------------------------------------------------------

function need(options: Options, name: string): string {
  const value = options.values[name];
  if (!value) throw new CliError(`--${name} is required`);
  return value;
}

async function api<T = Record<string, unknown>>(
  options: Options,
  method: string,
  path: string,
  body?: unknown,
  auth: string | undefined = options.token,
): Promise<T> {
  const res = await fetch(`${options.url}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(auth ? { authorization: `Bearer ${auth}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: reported as text below.
  }
  if (!res.ok) {
    const message = (parsed as { message?: string })?.message ?? text.slice(0, 200);
    throw new CliError(`${method} ${path} → ${res.status}: ${message}`);
  }
  return parsed as T;
}

function requireToken(options: Options): string {
  if (!options.token) throw new CliError('--token (or RUNLOOM_TOKEN) is required: create one with `apikey create`');
  return options.token;
}

const withWorkspace = (path: string, workspace?: string) =>
  workspace ? `${path}${path.includes('?') ? '&' : '?'}workspace=${encodeURIComponent(workspace)}` : path;

// ---------------------------------------------------------------------------------------------

async function login(options: Options): Promise<string> {
  const res = await fetch(`${options.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: need(options, 'email'), password: need(options, 'password') }),
  });
  if (!res.ok) throw new CliError(`login → ${res.status}: ${((await res.json()) as { message?: string }).message}`);
  const session = res.headers
    .getSetCookie()
    .find((c) => c.startsWith('dsentr_session='))
    ?.split(';')[0]
    .slice('dsentr_session='.length);
  if (!session) throw new CliError('login answered without a session cookie');
  return session;
}

async function userCreate(options: Options): Promise<number> {
  await api(options, 'POST', '/api/auth/signup', {
    email: need(options, 'email'),
    password: need(options, 'password'),
    first_name: options.values['first-name'] ?? 'Operator',
    last_name: options.values['last-name'] ?? 'Created',
    accepted_terms_version: '2025-01',
  });
  const session = await login(options);
  const me = await api<{ user: { id: string; email: string } }>(options, 'GET', '/api/auth/me', undefined, session);
  await api(options, 'POST', '/api/auth/logout', undefined, session);
  console.log(`created user ${me.user.id} (${me.user.email})`);
  return 0;
}

async function apiKeyCreate(options: Options): Promise<number> {
  const session = await login(options);
  const created = await api<{ api_key: { id: string; name: string }; token: string }>(
    options,
    'POST',
    '/api/auth/api-keys',
    { name: options.values.name ?? 'runloom cli' },
    session,
  );
  await api(options, 'POST', '/api/auth/logout', undefined, session);
  // The key on stdout alone, so `export RUNLOOM_TOKEN=$(runloom apikey create …)` works; the rest on stderr.
  console.error(`API key ${created.api_key.id} ("${created.api_key.name}"); it is shown once:`);
  console.log(created.token);
  return 0;
}

interface ExportedWorkflow {
  name: string;
  description: string | null;
  data: unknown;
}

async function workflowsExport(options: Options): Promise<number> {
  requireToken(options);
  const workspace = options.values.workspace;
  const list = await api<{ workflows: { id: string }[] }>(options, 'GET', withWorkspace('/api/workflows', workspace));
  const exported: ExportedWorkflow[] = [];
  for (const { id } of list.workflows) {
    const { workflow } = await api<{ workflow: ExportedWorkflow }>(
      options,
      'GET',
      withWorkspace(`/api/workflows/${id}`, workspace),
    );
    exported.push({ name: workflow.name, description: workflow.description ?? null, data: workflow.data });
  }
  const text = `${JSON.stringify({ runloom_export: 1, workflows: exported }, null, 2)}\n`;
  if (options.values.out) {
    fs.writeFileSync(options.values.out, text);
    console.error(`exported ${exported.length} workflow(s) to ${options.values.out}`);
  } else {
    process.stdout.write(text);
  }
  return 0;
}

async function workflowsImport(options: Options): Promise<number> {
  requireToken(options);
  const file = need(options, 'file');
  let parsed: { workflows?: ExportedWorkflow[] };
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { workflows?: ExportedWorkflow[] };
  } catch (error) {
    throw new CliError(`${file}: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed.workflows)) throw new CliError(`${file}: no "workflows" array (is it an export?)`);
  let failed = 0;
  for (const wf of parsed.workflows) {
    try {
      const created = await api<{ workflow: { id: string } }>(options, 'POST', '/api/workflows', {
        name: wf.name,
        description: wf.description ?? undefined,
        data: wf.data,
        ...(options.values.workspace ? { workspace_id: options.values.workspace } : {}),
      });
      console.log(`imported "${wf.name}" as ${created.workflow.id}`);
    } catch (error) {
      failed += 1;
      console.error(`"${wf.name}": ${(error as Error).message}`);
    }
  }
  return failed ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------

interface IssueSummaryView {
  id: string;
  status: string;
  user_email: string;
  updated_at: string;
  unread_user_messages: number;
  last_message_sender: string | null;
  last_message_body: string | null;
}

interface IssueDetailView {
  issue: { id: string; status: string; user_email: string; user_name: string; created_at: string };
  workspace_name: string | null;
  messages: { sender_type: string; created_at: string; body: string }[];
}

/** What users wrote, printable: control characters (terminal escapes among them) become U+FFFD. */
// eslint-disable-next-line no-control-regex
const printable = (text: string | null) => (text ?? '').replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '\ufffd');

const oneLine = (text: string | null, max: number) => {
  const flat = printable(text).replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

function issueId(options: Options, usage: string): string {
  const id = options.positionals[2];
  if (!id) throw new CliError(`usage: runloom ${usage}`);
  return encodeURIComponent(id);
}

function printThread(detail: IssueDetailView): void {
  const { issue } = detail;
  console.log(
    `issue ${issue.id} [${issue.status}] from ${printable(issue.user_name)} <${printable(issue.user_email)}>`,
  );
  if (detail.workspace_name) console.log(`workspace: ${printable(detail.workspace_name)}`);
  for (const message of detail.messages) {
    console.log(`\n--- ${message.sender_type} ${message.created_at}\n${printable(message.body)}`);
  }
}

/** One line per thread: id, status, last activity, who, unread count, the last message. */
async function issuesList(options: Options): Promise<number> {
  requireToken(options);
  const status = options.values.status;
  const query = status ? `?status=${encodeURIComponent(status)}` : '';
  const { issues } = await api<{ issues: IssueSummaryView[] }>(options, 'GET', `/api/admin/issues${query}`);
  if (!issues.length) console.error('no issues');
  for (const issue of issues) {
    const unread = issue.unread_user_messages ? `${issue.unread_user_messages} unread` : 'read';
    const last = `${issue.last_message_sender ?? 'user'}: ${oneLine(issue.last_message_body, 60)}`;
    console.log([issue.id, issue.status, issue.updated_at, printable(issue.user_email), unread, last].join('\t'));
  }
  return 0;
}

async function issuesShow(options: Options): Promise<number> {
  requireToken(options);
  const id = issueId(options, 'issues show <issue-id>');
  printThread(await api<IssueDetailView>(options, 'GET', `/api/admin/issues/${id}`));
  return 0;
}

async function issuesReply(options: Options): Promise<number> {
  requireToken(options);
  const id = issueId(options, 'issues reply <issue-id> <text>');
  const message = options.positionals.slice(3).join(' ');
  if (!message.trim()) throw new CliError('usage: runloom issues reply <issue-id> <text>');
  const detail = await api<IssueDetailView>(options, 'POST', `/api/admin/issues/${id}/reply`, { message });
  console.log(`replied to issue ${detail.issue.id}; it now waits for the user (${detail.issue.status})`);
  return 0;
}

/** Makes an account an application admin (or a regular user again); see ./user-role.ts. */
async function userRole(options: Options): Promise<number> {
  const email = need(options, 'email');
  const role = need(options, 'role');
  if (role !== 'admin' && role !== 'user') throw new CliError('--role must be admin or user');
  // Loaded on demand: TypeORM and the entities take seconds to load, and only this command needs them.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { setUserRole } = require('./user-role') as typeof import('./user-role');
  const result = await setUserRole(email, role);
  if ('problem' in result) throw new CliError(result.problem);
  if (!result.changed) throw new CliError(`no account with the e-mail ${email}`);
  console.log(`${email.trim().toLowerCase()} is now ${role === 'admin' ? 'an application admin' : 'a regular user'}`);
  return 0;
}

interface NodeRunView {
  node_id: string;
  status: string;
  error?: string | null;
}

const TERMINAL = new Set(['succeeded', 'failed', 'canceled', 'expired']);

async function runAndFollow(options: Options): Promise<number> {
  const token = requireToken(options);
  const workflowId = options.positionals[1];
  if (!workflowId) throw new CliError('usage: runloom run <workflow-id> [--context JSON]');
  let context: unknown;
  if (options.values.context) {
    try {
      context = JSON.parse(options.values.context);
    } catch {
      throw new CliError('--context must be JSON');
    }
  }
  const { run } = await api<{ run: { id: string } }>(
    options,
    'POST',
    withWorkspace(`/api/workflows/${workflowId}/run`, options.values.workspace),
    context === undefined ? {} : { context },
  );
  console.log(`run ${run.id} queued`);

  const res = await fetch(`${options.url}/api/workflows/${workflowId}/runs/${run.id}/events`, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
  });
  if (!res.ok || !res.body) throw new CliError(`run events → ${res.status}`);
  const shown = new Map<string, string>();
  let status = 'queued';
  const decoder = new TextDecoder();
  let buffer = '';
  const reader = res.body.getReader();
  try {
    while (!TERMINAL.has(status)) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const type = /^event: (.*)$/m.exec(frame)?.[1];
        const data = frame
          .split('\n')
          .filter((l) => l.startsWith('data: '))
          .map((l) => l.slice(6))
          .join('\n');
        if (!type || !data) continue;
        if (type === 'node_runs') {
          for (const node of JSON.parse(data) as NodeRunView[]) {
            if (shown.get(node.node_id) === node.status) continue;
            shown.set(node.node_id, node.status);
            const mark = node.status === 'succeeded' ? '✓' : node.status === 'failed' ? '✗' : '…';
            console.log(`  ${mark} ${node.node_id} ${node.status}${node.error ? `: ${node.error}` : ''}`);
          }
        } else if (type === 'run') {
          const next = (JSON.parse(data) as { status: string }).status;
          // The end is printed last: node frames that arrived with it still come first.
          if (next !== status && !TERMINAL.has(next)) console.log(`run ${next}`);
          status = next;
        }
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  if (TERMINAL.has(status)) console.log(`run ${status}`);
  return status === 'succeeded' ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof CliError || error instanceof TypeError ? error.message : error);
    process.exit(error instanceof CliError ? 2 : 1);
  },
);
