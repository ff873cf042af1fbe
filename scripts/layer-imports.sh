#!/usr/bin/env bash
# Lists every import in src/ that runs against the layer order (LAYERS in eslint.config.mjs,
# docs/architecture.md#layers) and prints their count last. Unlike the lint rule it resolves each path,
# also reads import()/require(), and names directories missing from the table. Exit status 1 when any is found.
#   scripts/layer-imports.sh            all of src/
#   scripts/layer-imports.sh --no-spec  without *.spec.ts
set -euo pipefail
cd "$(dirname "$0")/.."
exec node --input-type=module - "$@" <<'JS'
import fs from 'node:fs';
import path from 'node:path';
import { LAYERS, MAX_NESTING } from './eslint.config.mjs';

const noSpec = process.argv.includes('--no-spec');
const top = LAYERS.length - 1;
const layerOf = new Map(LAYERS.flatMap((dirs, layer) => dirs.map((dir) => [dir, layer])));
// '' is a file directly in src/ (app.module.ts, main.ts): the top.
const layer = (dir) => (dir === '' ? top : layerOf.get(dir));
const dirOf = (rel) => (rel.includes('/') ? rel.split('/')[0] : '');
const skip = (rel) => rel.startsWith('database/migrations/') || rel.startsWith('monitor/static/');

function files(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? files(full) : e.name.endsWith('.ts') ? [full] : [];
  });
}

const found = [];
for (const dir of fs.readdirSync('src', { withFileTypes: true })) {
  if (dir.isDirectory() && !layerOf.has(dir.name)) found.push(`src/${dir.name}/ is not in LAYERS (eslint.config.mjs)`);
}
const specifier = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"](\.{1,2}\/[^'"]*)['"]/g;
for (const file of files('src')) {
  const rel = path.relative('src', file);
  if (skip(rel) || (noSpec && rel.endsWith('.spec.ts'))) continue;
  const from = dirOf(rel);
  if (rel.split('/').length - 2 > MAX_NESTING) found.push(`${file} nests deeper than MAX_NESTING: the lint rule skips it`);
  for (const [, spec] of fs.readFileSync(file, 'utf8').matchAll(specifier)) {
    const target = path.relative('src', path.resolve(path.dirname(file), spec));
    if (target.startsWith('..')) continue;
    const to = dirOf(target);
    if (to === from || layer(from) === top || layer(from) === undefined || layer(to) === undefined) continue;
    if (layer(to) >= layer(from)) {
      found.push(`${from} (L${layer(from) + 1}) -> ${to} (L${layer(to) + 1})  ${file}: '${spec}'`);
    }
  }
}
found.sort().forEach((line) => console.log(line));
console.log(`${found.length} layer violation(s)`);
process.exitCode = found.length ? 1 : 0;
JS
