import * as fs from 'node:fs';
import { OPERATIONS_DOC, withCurrentReference } from './env-reference';

describe('docs/operations.md', () => {
  it('has the current environment reference (run `npm run docs:env` when this fails)', () => {
    const doc = fs.readFileSync(OPERATIONS_DOC, 'utf8');
    expect(withCurrentReference(doc)).toBe(doc);
  });
});
