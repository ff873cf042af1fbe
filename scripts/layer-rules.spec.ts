import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..');

// ESLint loads eslint.config.mjs with import(), which Jest's module sandbox does not run: lint in a child process.
// Only no-restricted-imports, without type information, so a made-up file path needs no TypeScript project.
const LINT = `
import { ESLint } from 'eslint';
import { LAYERS, MAX_NESTING } from './eslint.config.mjs';
const eslint = new ESLint({
  cwd: process.cwd(),
  overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
  ruleFilter: ({ ruleId }) => ruleId === 'no-restricted-imports',
});
const cases = JSON.parse(process.argv[1]);
const messages = [];
for (const { filePath, code } of cases) {
  const [result] = await eslint.lintText(code, { filePath });
  messages.push(result.messages.map((m) => m.message.replace(/^.* by a pattern\\. /, '')));
}
console.log(JSON.stringify({ messages, layers: LAYERS, maxNesting: MAX_NESTING }));
`;

interface Outcome {
  messages: string[][];
  layers: string[][];
  maxNesting: number;
}

function lint(cases: { filePath: string; code: string }[]): Outcome {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', LINT, JSON.stringify(cases)], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return JSON.parse(out) as Outcome;
}

describe('the layer rules of eslint.config.mjs (docs/architecture.md#layers)', () => {
  const cases = [
    // Up the layers: refused, with the rule named.
    { filePath: 'src/engine/graph.ts', code: "import { x } from '../workflows/x';" },
    { filePath: 'src/engine/nodes/email/smtp.ts', code: "import type { X } from '../../../workflows/x';" },
    { filePath: 'src/config/app-config.ts', code: "export { x } from '../common/clock';" },
    // A peer in the same layer: refused.
    { filePath: 'src/plans/plans.service.ts', code: "import { Mailer } from '../mail/mailer';" },
    // src/common/auth is common's own, not src/auth; two levels up it is src/auth.
    { filePath: 'src/common/http/x.ts', code: "import { Public } from '../auth/decorators';" },
    { filePath: 'src/common/http/x.ts', code: "import { AuthGuard } from '../../auth/auth.guard';" },
    // Down the layers, within a directory, and anything from the top: allowed.
    { filePath: 'src/workflows/x.ts', code: "import { a } from '../engine/graph';\nimport { b } from './y';" },
    { filePath: 'src/auth/x.ts', code: "import { a } from '../workspaces/x';\nimport { b } from '../monitor/y';" },
    { filePath: 'src/app.module.ts', code: "import { a } from './auth/auth.module';" },
  ];
  let outcome: Outcome;
  beforeAll(() => {
    outcome = lint(cases);
  }, 60_000);

  it('refuses an import from a higher layer, naming both layers', () => {
    expect(outcome.messages.slice(0, 3)).toEqual([
      ['engine (L8) must not import workflows (L9): see docs/architecture.md#layers'],
      ['engine (L8) must not import workflows (L9): see docs/architecture.md#layers'],
      ['config (L1) must not import common (L2): see docs/architecture.md#layers'],
    ]);
  });

  it('refuses an import from a peer of the same layer', () => {
    expect(outcome.messages[3]).toEqual(['plans (L5) must not import mail (L5): see docs/architecture.md#layers']);
  });

  it('resolves the path: a subdirectory named like a top-level one is not that directory', () => {
    expect(outcome.messages[4]).toEqual([]);
    expect(outcome.messages[5]).toEqual(['common (L2) must not import auth (L12): see docs/architecture.md#layers']);
  });

  it('allows lower layers, the same directory, and anything from the top', () => {
    expect(outcome.messages.slice(6)).toEqual([[], [], []]);
  });

  it('has every directory of src/ in the table, none nested deeper than the rules look', () => {
    const dirs = fs
      .readdirSync(path.join(ROOT, 'src'), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    expect(dirs.filter((d) => !outcome.layers.flat().includes(d))).toEqual([]);
    const nesting = (dir: string): number =>
      Math.max(
        0,
        ...fs
          .readdirSync(dir, { withFileTypes: true })
          .filter((e) => e.isDirectory())
          .map((e) => 1 + nesting(path.join(dir, e.name))),
      );
    expect(dirs.filter((d) => nesting(path.join(ROOT, 'src', d)) > outcome.maxNesting)).toEqual([]);
  });

  it('is the table docs/architecture.md#layers shows', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs/architecture.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| L\d+ +\| ([^|]+)\|/gm)].map(([, cell]) =>
      [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]),
    );
    expect(rows).toEqual(outcome.layers);
  });
});
