import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { distIsStale } = require('./start.js') as { distIsStale: (root: string) => boolean };

describe('npm start builds only when dist/ is stale', () => {
  let root: string;
  const at = (file: string, seconds: number) => {
    const full = path.join(root, file);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    if (!fs.existsSync(full)) fs.writeFileSync(full, '');
    fs.utimesSync(full, seconds, seconds);
  };
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'runloom-start-'));
    at('src/main.ts', 1000);
    at('package.json', 1000);
    fs.utimesSync(path.join(root, 'src'), 1000, 1000);
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('stale without dist/main.js', () => {
    expect(distIsStale(root)).toBe(true);
  });

  it('fresh when dist/main.js is newer than every input', () => {
    at('dist/main.js', 2000);
    expect(distIsStale(root)).toBe(false);
  });

  it('stale when a source file or a build setting changed after the build', () => {
    at('dist/main.js', 2000);
    at('src/runs/runs.service.ts', 3000);
    expect(distIsStale(root)).toBe(true);
    at('src/runs/runs.service.ts', 1000);
    fs.utimesSync(path.join(root, 'src', 'runs'), 1000, 1000);
    fs.utimesSync(path.join(root, 'src'), 1000, 1000);
    expect(distIsStale(root)).toBe(false);
    at('src/runs/runs.service.spec.ts', 3000);
    fs.utimesSync(path.join(root, 'src', 'runs'), 1000, 1000);
    expect(distIsStale(root)).toBe(false);
    at('tsconfig.json', 3000);
    expect(distIsStale(root)).toBe(true);
  });
});
