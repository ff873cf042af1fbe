import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * The repository stands alone: comments, tests and docs cite docs/contract.md and
 * docs/deviations.md, never documents that live outside the checkout.
 */
const ROOT = join(__dirname, '..');
const TREES = ['src', 'test', 'docs', 'scripts'];
const FILES = ['README.md', 'SECURITY.md'];
const TEXT = /\.(ts|js|mjs|cjs|json|md|txt|ya?ml|sql)$/;

// Built from pieces so that this file does not match itself.
const FORBIDDEN: [string, RegExp][] = [
  ['a path into the shared folder', new RegExp('\\.\\./' + 'shared', 'i')],
  ['a reference section', new RegExp('reference' + ' §', 'i')],
  ['a spec section', new RegExp('SPEC' + ' §')],
  ['a design section', new RegExp('DESIGN' + ' §')],
];

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : walk(path);
    return TEXT.test(name) ? [path] : [];
  });
}

function sources(): { file: string; text: string }[] {
  const paths = [...TREES.flatMap((tree) => walk(join(ROOT, tree))), ...FILES.map((f) => join(ROOT, f))];
  return paths.map((path) => ({ file: relative(ROOT, path), text: readFileSync(path, 'utf8') }));
}

/** Section numbers (`§5.3`) that docs/contract.md has a heading for. */
function contractSections(): Set<string> {
  const text = readFileSync(join(ROOT, 'docs/contract.md'), 'utf8');
  return new Set([...text.matchAll(/^#{2,3} (\d+(?:\.\d+)?)\.? /gm)].map((m) => m[1]));
}

describe('the repository stands alone', () => {
  it('cites no document outside the repository', () => {
    const hits: string[] = [];
    for (const { file, text } of sources()) {
      text.split('\n').forEach((line, i) => {
        for (const [what, pattern] of FORBIDDEN) {
          if (pattern.test(line)) hits.push(`${file}:${i + 1} cites ${what}: ${line.trim()}`);
        }
      });
    }
    expect(hits).toEqual([]);
  });

  it('cites only sections of docs/contract.md that exist', () => {
    const known = contractSections();
    const missing: string[] = [];
    for (const { file, text } of sources()) {
      for (const match of text.matchAll(/docs\/contract\.md ((?:§[\d.]+[–, ]*)+)/g)) {
        for (const section of match[1].matchAll(/§(\d+(?:\.\d+)?)/g)) {
          if (!known.has(section[1])) missing.push(`${file}: §${section[1]}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('cites only deviations that docs/deviations.md lists', () => {
    const text = readFileSync(join(ROOT, 'docs/deviations.md'), 'utf8');
    const count = [...text.matchAll(/^(\d+)\. /gm)].length;
    const missing: string[] = [];
    for (const { file, text: source } of sources()) {
      for (const match of source.matchAll(/deviations? ([\d–, and]+) in docs\/deviations\.md/g)) {
        for (const n of match[1].match(/\d+/g) ?? []) {
          if (Number(n) < 1 || Number(n) > count) missing.push(`${file}: deviation ${n}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });
});
