import * as fs from 'node:fs';
import { buildOpenApiDocument } from '../src/common/http/configure-app';
import { openApiJson, OPENAPI_FILE } from '../scripts/openapi-file';
import { createTestApp, TestApp } from './utils/app';

/** The drift check CI runs: openapi.json must be what the code documents (`npm run openapi` rewrites it). */
describe('openapi.json', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ RUNLOOM_ROLES: 'api' });
  });
  afterAll(() => t.close());

  it('is what the code documents: run `npm run openapi` and commit the result when this fails', () => {
    const fromCode = openApiJson(buildOpenApiDocument(t.app));
    const checkedIn = fs.readFileSync(OPENAPI_FILE, 'utf8');
    if (fromCode !== checkedIn) {
      // Name the first differing path instead of dumping 180 KB.
      const code = JSON.parse(fromCode) as { paths: Record<string, unknown> };
      const file = JSON.parse(checkedIn) as { paths: Record<string, unknown> };
      const paths = new Set([...Object.keys(code.paths), ...Object.keys(file.paths)]);
      const differing = [...paths].filter((p) => JSON.stringify(code.paths[p]) !== JSON.stringify(file.paths[p]));
      expect({ differingPaths: differing, rest: differing.length ? 'see paths' : 'components or info differ' }).toEqual(
        {
          differingPaths: [],
          rest: 'see paths',
        },
      );
    }
    expect(fromCode).toBe(checkedIn);
  });

  it('documents every route with its error responses in the envelope', () => {
    const doc = JSON.parse(fs.readFileSync(OPENAPI_FILE, 'utf8')) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    const operations = Object.values(doc.paths).flatMap((ops) => Object.values(ops));
    expect(operations.length).toBeGreaterThan(60);
    for (const op of operations) expect(Object.keys(op.responses).length).toBeGreaterThan(0);
  });
});
