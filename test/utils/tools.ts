import * as fs from 'node:fs';

type Suite = (title: string, fn: () => void) => void;

/** `CI=true` (as `.ci/run` and most CI services set it), the same switch as scripts/migrations.ts. */
export const inCi = (): boolean => process.env.CI === 'true';

/**
 * `describe` for tests that need a program outside node_modules (`name` at `file`). Without it they
 * are skipped on a developer's machine, with the reason in the title; under CI they fail instead, so
 * a CI machine that lacks the program cannot pass by running less.
 */
export function requireTool(name: string, file: string, install: string): Suite {
  if (fs.existsSync(file)) return describe;
  const missing = `${name} not found at ${file} (${install})`;
  if (!inCi()) return (title, fn) => describe.skip(`${title} [skipped: ${missing}]`, fn);
  return (title) =>
    describe(title, () => {
      it(`needs ${name}`, () => {
        throw new Error(`${missing}: required when CI=true`);
      });
    });
}
