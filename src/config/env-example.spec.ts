import * as fs from 'node:fs';
import * as path from 'node:path';
import { Environment } from './environment';

describe('.env.example', () => {
  it('documents exactly the variables the config reads', () => {
    const example = fs.readFileSync(path.join(__dirname, '..', '..', '.env.example'), 'utf8');
    const documented = example.match(/^[A-Z][A-Z0-9_]*(?==)/gm) ?? [];
    expect([...documented].sort()).toEqual(Object.keys(new Environment()).sort());
  });
});
