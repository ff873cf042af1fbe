import * as fs from 'node:fs';
import { NODES_DOC, withCurrentReference } from './node-docs';

describe('docs/nodes.md', () => {
  it('has the current node reference (run `npm run docs:nodes` when this fails)', () => {
    const doc = fs.readFileSync(NODES_DOC, 'utf8');
    expect(withCurrentReference(doc)).toBe(doc);
  });
});
