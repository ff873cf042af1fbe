import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { OPENAPI_FILE } from '../scripts/openapi-file';
import { createTestApp, TestApp } from './utils/app';

const run = promisify(execFile);
const ROOT = path.join(__dirname, '..');

/**
 * A script a user would write against types generated from openapi.json: plain fetch, with every
 * request and response body typed from `paths`. The `@ts-expect-error` lines must fail to compile:
 * were the document to type these bodies loosely (`any`, empty or open objects), the directives
 * would be unused, which is itself an error.
 */
const SAMPLE = `
import type { components, paths } from './api';

type JsonBody<R> = R extends { content: { 'application/json': infer B } } ? B : never;
type SignupBody = JsonBody<paths['/api/auth/signup']['post']['requestBody']>;
type LoginBody = JsonBody<paths['/api/auth/login']['post']['requestBody']>;
type CreateWorkflowBody = JsonBody<paths['/api/workflows']['post']['requestBody']>;
type CreatedWorkflow = JsonBody<paths['/api/workflows']['post']['responses'][201]>;
type StartRunBody = JsonBody<NonNullable<paths['/api/workflows/{id}/run']['post']['requestBody']>>;
type StartedRun = JsonBody<paths['/api/workflows/{id}/run']['post']['responses'][202]>;
type RunDetail = JsonBody<paths['/api/workflows/{id}/runs/{runId}']['get']['responses'][200]>;
type WorkflowNode = components['schemas']['WorkflowNode'];

const base = process.env.RUNLOOM_URL ?? 'http://127.0.0.1:3000';

async function call(method: string, path: string, expected: number, body?: object, token?: string): Promise<Response> {
  const headers: Record<string, string> = {};
  if (body) headers['content-type'] = 'application/json';
  if (token) headers.authorization = 'Bearer ' + token;
  const res = await fetch(base + path, { method, headers, body: body && JSON.stringify(body) });
  if (res.status !== expected) throw new Error(method + ' ' + path + ': ' + res.status + ' ' + (await res.text()));
  return res;
}

async function main(): Promise<void> {
  const signup: SignupBody = {
    first_name: 'Ada',
    last_name: 'Lovelace',
    email: 'ada.' + Date.now() + '@example.com',
    password: 'correct horse battery staple',
    accepted_terms_version: '2025-01',
  };
  await call('POST', '/api/auth/signup', 201, signup);
  const login: LoginBody = { email: signup.email, password: signup.password };
  const loggedIn = await call('POST', '/api/auth/login', 200, login);
  // The session token is the login cookie; it works as a bearer token.
  const cookie = loggedIn.headers.getSetCookie().find((c) => c.startsWith('dsentr_session='));
  const token = cookie!.split(';')[0].slice('dsentr_session='.length);

  const start: WorkflowNode = {
    id: 'start',
    type: 'trigger',
    position: { x: 0, y: 0 },
    data: { label: 'Start', triggerType: 'Manual', inputs: [{ key: 'greeting', value: 'hello' }] },
  };
  const create: CreateWorkflowBody = { name: 'Typed client sample', data: { nodes: [start], edges: [] } };
  const created = (await (await call('POST', '/api/workflows', 201, create, token)).json()) as CreatedWorkflow;
  const workflowId: string = created.workflow.id;
  const firstLabel: string | undefined = created.workflow.data.nodes[0].data?.label;

  const startRun: StartRunBody = { context: { order: { id: 42 } }, idempotency_key: 'sample-1' };
  const started = (await (await call('POST', '/api/workflows/' + workflowId + '/run', 202, startRun, token)).json()) as StartedRun;

  let detail: RunDetail | undefined;
  const deadline = Date.now() + 10_000;
  while (!detail || detail.run.status === 'queued' || detail.run.status === 'running') {
    if (Date.now() > deadline) throw new Error('run did not finish: ' + detail?.run.status);
    if (detail) await new Promise((resolve) => setTimeout(resolve, 20));
    const res = await call('GET', '/api/workflows/' + workflowId + '/runs/' + started.run.id, 200, undefined, token);
    detail = (await res.json()) as RunDetail;
  }
  const nodeRuns: { node_id: string; status: string; outputs: unknown }[] = detail.node_runs.map((n) => ({
    node_id: n.node_id,
    status: n.status,
    outputs: n.outputs,
  }));
  console.log(JSON.stringify({ firstLabel, status: detail.run.status, trigger: detail.run.snapshot._trigger_context, nodeRuns }));

  // Mistakes the generated types must catch.
  // @ts-expect-error ids are strings
  const numericId: number = created.workflow.id;
  // @ts-expect-error a run has no such field
  const missing = detail.run.no_such_field;
  // @ts-expect-error a node needs an id
  const nodeWithoutId: WorkflowNode = { type: 'trigger' };
  // @ts-expect-error workspace_id is a string or null
  const badWorkspace: CreateWorkflowBody = { name: 'x', data: { nodes: [], edges: [] }, workspace_id: 42 };
  // @ts-expect-error run statuses are a closed set
  const badStatus: RunDetail['run']['status'] = 'exploded';
  // @ts-expect-error the graph is an object with nodes and edges
  const badGraph: CreateWorkflowBody = { name: 'x', data: [] };
  void [numericId, missing, nodeWithoutId, badWorkspace, badStatus, badGraph];
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
`;

/** The lines (1-based) below each `@ts-expect-error`: where the errors are once the markers go. */
const MARKED_LINES = SAMPLE.split('\n').flatMap((line, i) => (line.includes('@ts-expect-error') ? [i + 2] : []));

/**
 * Type-checks each script against the generated types in one program (the types are read once), and
 * returns each script's diagnostics, one line each.
 */
function typeCheck(dir: string, scripts: Record<string, string>): Record<string, string[]> {
  for (const [name, text] of Object.entries(scripts)) fs.writeFileSync(path.join(dir, name), text);
  const program = ts.createProgram(
    Object.keys(scripts).map((name) => path.join(dir, name)),
    {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      lib: ['lib.es2023.d.ts'],
      types: ['node'],
      typeRoots: [path.join(ROOT, 'node_modules', '@types')],
    },
  );
  const byScript: Record<string, string[]> = Object.fromEntries(Object.keys(scripts).map((name) => [name, []]));
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const name = d.file ? path.basename(d.file.fileName) : '(options)';
    const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
    (byScript[name] ??= []).push(`${line}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
  }
  return byScript;
}

describe('a typed client generated from openapi.json', () => {
  let dir: string;
  let t: TestApp;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runloom-client-'));
    const cli = path.join(ROOT, 'node_modules', 'openapi-typescript', 'bin', 'cli.js');
    await run(process.execPath, [cli, OPENAPI_FILE, '--output', path.join(dir, 'api.d.ts')], { timeout: 60_000 });
    t = await createTestApp();
  }, 90_000);

  afterAll(async () => {
    await t?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('type-checks a script that signs up, creates a workflow, runs it and reads the run', () => {
    const unmarked = SAMPLE.replace(/^\s*\/\/ @ts-expect-error.*$/gm, '');
    const diagnostics = typeCheck(dir, { 'sample.ts': SAMPLE, 'unmarked.ts': unmarked });
    expect(diagnostics['sample.ts']).toEqual([]);
    // Without the markers, each marked mistake is an error (and nothing else is): the types are tight there.
    const errorLines = diagnostics['unmarked.ts'].map((d) => Number(d.split(':')[0]));
    expect(new Set(errorLines)).toEqual(new Set(MARKED_LINES));
    expect(MARKED_LINES).toHaveLength(6);
  }, 60_000);

  it('runs against the server with the shapes the types describe', async () => {
    const js = ts.transpileModule(SAMPLE, {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    fs.writeFileSync(path.join(dir, 'sample.mjs'), js);
    const { stdout } = await run(process.execPath, [path.join(dir, 'sample.mjs')], {
      env: { ...process.env, RUNLOOM_URL: t.url },
      timeout: 30_000,
    });
    expect(JSON.parse(stdout)).toEqual({
      firstLabel: 'Start',
      status: 'succeeded',
      trigger: { order: { id: 42 } },
      nodeRuns: [{ node_id: 'start', status: 'succeeded', outputs: { order: { id: 42 }, greeting: 'hello' } }],
    });
  }, 60_000);
});
