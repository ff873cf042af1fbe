/**
 * Adds an action node type in one command (docs/extending.md):
 *
 *   npm run g:node -- slack-reaction
 *
 * writes src/engine/nodes/slack-reaction.node.ts (the class, with a validated params class, and its
 * catalogue entry) and its unit spec, registers it in src/engine/node-registry.ts as
 * `actionType: "slackReaction"` and, when the checkout has docs/nodes.md, regenerates that reference.
 * `--root <dir>` generates into another checkout (the generator's own test uses a temp copy).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as prettier from 'prettier';

const IMPORT_MARKER = '// g:node imports';
const CATALOGUE_MARKER = '  // g:node catalogue';
const REGISTRATION_MARKER = '      // g:node registrations';

export interface GeneratedNode {
  files: string[];
  className: string;
  actionType: string;
}

export function names(kebab: string): { className: string; actionType: string; label: string; info: string } {
  const words = kebab.split('-');
  const pascal = words.map((w) => w[0].toUpperCase() + w.slice(1)).join('');
  return {
    className: `${pascal}Node`,
    actionType: pascal[0].toLowerCase() + pascal.slice(1),
    label: words.map((w) => w[0].toUpperCase() + w.slice(1)).join(' '),
    info: `${words.join('_').toUpperCase()}_NODE`,
  };
}

export function generateNode(root: string, kebab: string): GeneratedNode {
  if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(kebab)) {
    throw new Error(`"${kebab}": use kebab-case letters and digits, e.g. slack-reaction`);
  }
  const { className, actionType, label, info } = names(kebab);
  const nodesDir = path.join(root, 'src', 'engine', 'nodes');
  const registryFile = path.join(root, 'src', 'engine', 'node-registry.ts');
  const nodeFile = path.join(nodesDir, `${kebab}.node.ts`);
  const specFile = path.join(nodesDir, `${kebab}.node.spec.ts`);
  for (const file of [nodeFile, specFile]) {
    if (fs.existsSync(file)) throw new Error(`${path.relative(root, file)} already exists`);
  }
  const registry = fs.readFileSync(registryFile, 'utf8');
  if (registeredActionTypes(root).includes(actionType.toLowerCase())) {
    throw new Error(`action type "${actionType}" is already registered`);
  }
  if (![IMPORT_MARKER, CATALOGUE_MARKER, REGISTRATION_MARKER].every((marker) => registry.includes(marker))) {
    throw new Error('src/engine/node-registry.ts has lost its g:node markers');
  }

  fs.writeFileSync(nodeFile, nodeSource(className, actionType, label, info));
  fs.writeFileSync(specFile, specSource(kebab, className, actionType));
  fs.writeFileSync(
    registryFile,
    registry
      .replace(IMPORT_MARKER, `import { ${info}, ${className} } from './nodes/${kebab}.node';\n${IMPORT_MARKER}`)
      .replace(CATALOGUE_MARKER, `  ${info},\n${CATALOGUE_MARKER}`)
      .replace(REGISTRATION_MARKER, `      ${actionType}: new ${className}(),\n${REGISTRATION_MARKER}`),
  );
  return { files: [nodeFile, specFile, registryFile], className, actionType };
}

/** Runs a TypeScript file of the checkout (its own modules, not this process's). */
const runTs = (root: string, args: string[]) =>
  execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', ...args], { cwd: root, encoding: 'utf8' });

/** Every `actionType` the checkout's catalogue registers, lower-cased (aliases such as `slack` too). */
function registeredActionTypes(root: string): string[] {
  const registry = JSON.stringify(path.join(root, 'src', 'engine', 'node-registry'));
  const probe = `console.log(JSON.stringify(require(${registry}).NODE_TYPES.flatMap((i) => i.actionTypes)))`;
  return (JSON.parse(runTs(root, ['-e', probe])) as string[]).map((type) => type.toLowerCase());
}

/** Rewrites the node reference of docs/nodes.md with the new node in it (when the checkout has one). */
export function updateNodeDocs(root: string): string | null {
  const doc = path.join(root, 'docs', 'nodes.md');
  if (!fs.existsSync(doc)) return null;
  runTs(root, [path.join(root, 'scripts', 'node-docs.ts')]);
  return doc;
}

/**
 * Formats the written files with the repository's Prettier settings, so the generated code passes
 * `npm run lint` unchanged whatever the length of the node's name.
 */
export async function formatFiles(files: string[]): Promise<void> {
  for (const file of files) {
    const options = (await prettier.resolveConfig(file)) ?? {};
    const source = fs.readFileSync(file, 'utf8');
    const formatted = await prettier.format(source, { ...options, filepath: file });
    if (formatted !== source) fs.writeFileSync(file, formatted);
  }
}

function nodeSource(className: string, actionType: string, label: string, info: string): string {
  return `import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { parseParams } from '../node-params';
import {
  NodeError,
  type GraphNode,
  type NodeContext,
  type NodeExecutor,
  type NodeResult,
  type NodeTypeInfo,
} from '../node-types';
import { renderTemplate } from '../templating';

/**
 * \`data.params\` of a ${label} node, validated like a request DTO. The \`@JSONSchema\` descriptions
 * are what \`GET /api/node-types\` and docs/nodes.md say about each param.
 */
@JSONSchema({ examples: [{ text: 'Order {{Hook.order.id}}', transform: 'upper' }] })
export class ${className}Params {
  @JSONSchema({ description: 'The text to return, templated with \`{{Label.path}}\` against earlier outputs.' })
  @IsString()
  @MaxLength(10_000)
  text!: string;

  @JSONSchema({ description: 'Change the case of the result; \`none\` by default.' })
  @IsOptional()
  @IsIn(['none', 'upper', 'lower'])
  transform?: 'none' | 'upper' | 'lower';
}

/** The ${label} node in the node-type catalogue (\`GET /api/node-types\`, docs/nodes.md). */
export const ${info}: NodeTypeInfo = {
  kind: '${actionType}',
  category: 'action',
  title: '${label}',
  description: 'Renders its templated text and returns it (generated by npm run g:node: say what it does).',
  nodeTypes: ['action'],
  actionTypes: ['${actionType}'],
  paramsField: 'params',
  params: ${className}Params,
  outputs: { text: 'The rendered text, in the case asked for.' },
  planGate: null,
};

/**
 * ${label} action (\`actionType: "${actionType}"\`), generated by \`npm run g:node\`. It renders
 * its templated \`text\` and returns it; replace the body with the node's real work. To call an
 * outside service use \`ctx.http\` (the egress policy and SSRF guard apply) and pass \`ctx.signal\`
 * so a cancel stops it; throw \`NodeError\` with a message that never contains a param's value.
 */
export class ${className} implements NodeExecutor {
  async execute(node: GraphNode, ctx: NodeContext): Promise<NodeResult> {
    const params = parseParams(${className}Params, node.data.params);
    const rendered = renderTemplate(params.text, ctx.context);
    if (!rendered.trim()) throw new NodeError('${label}: text is empty after templating');
    const text =
      params.transform === 'upper' ? rendered.toUpperCase() : params.transform === 'lower' ? rendered.toLowerCase() : rendered;
    return { outputs: { text } };
  }
}
`;
}

function specSource(kebab: string, className: string, actionType: string): string {
  return `import type { OutboundHttp } from '../../egress/outbound-http';
import type { GraphNode, NodeContext } from '../node-types';
import { ${className} } from './${kebab}.node';

const ctx = (context: Record<string, unknown> = {}): NodeContext => ({
  context,
  run: { runId: 'run-1', workflowId: 'wf-1', ownerId: 'user-1', workspaceId: null },
  signal: new AbortController().signal,
  http: {} as unknown as OutboundHttp,
  now: () => new Date(),
});

const node = (params: unknown): GraphNode => ({
  id: 'n1',
  type: 'action',
  data: { label: 'Step', actionType: '${actionType}', params },
});

describe('${className}', () => {
  it('renders its templated text from earlier outputs', async () => {
    const result = await new ${className}().execute(node({ text: 'hi {{Hook.name}}', transform: 'upper' }), ctx({ Hook: { name: 'ada' } }));
    expect(result.outputs).toEqual({ text: 'HI ADA' });
  });

  it('refuses invalid params naming the field, never the value', async () => {
    await expect(new ${className}().execute(node({ text: 42 }), ctx())).rejects.toThrow('Invalid node parameters: text');
    await expect(new ${className}().execute(node({ text: 'x', transform: 'secret-value' }), ctx())).rejects.toThrow(
      /^Invalid node parameters: transform$/,
    );
    await expect(new ${className}().execute(node('nope'), ctx())).rejects.toThrow('params must be an object');
  });

  it('fails clearly when the text renders empty', async () => {
    await expect(new ${className}().execute(node({ text: '{{Missing.path}}' }), ctx())).rejects.toThrow('empty');
  });
});
`;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const rootAt = args.indexOf('--root');
  const root = rootAt >= 0 ? path.resolve(args[rootAt + 1]) : path.join(__dirname, '..');
  const kebab = args.find((_, i) => rootAt < 0 || (i !== rootAt && i !== rootAt + 1));
  if (!kebab) {
    console.error('usage: npm run g:node -- <kebab-name> [--root <dir>]');
    process.exit(2);
  }
  const main = async () => {
    const generated = generateNode(root, kebab);
    await formatFiles(generated.files);
    for (const file of generated.files) console.log(`wrote ${path.relative(root, file)}`);
    console.log(`registered ${generated.className} as actionType "${generated.actionType}"`);
    const doc = updateNodeDocs(root);
    if (doc) console.log(`updated the node reference in ${path.relative(root, doc)}`);
  };
  main().catch((error: unknown) => {
    console.error((error as Error).message);
    process.exit(1);
  });
}
