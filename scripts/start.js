// `npm start`: builds only when dist/ is missing or older than a source file, then runs dist/main.js
// in this process. Plain JavaScript, so it runs before anything is compiled.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const BUILD_INPUTS = ['src', 'tsconfig.json', 'tsconfig.build.json', 'nest-cli.json', 'package.json'];

/** The newest modification time (ms) under `target` (a file or directory), 0 when it does not exist. */
function newestMtime(target) {
  let stat;
  try {
    stat = fs.statSync(target);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs; // a deleted or renamed file changes its directory
  for (const entry of fs.readdirSync(target)) {
    // Specs are not part of the build (tsconfig.build.json).
    if (!entry.endsWith('.spec.ts')) newest = Math.max(newest, newestMtime(path.join(target, entry)));
  }
  return newest;
}

/** Whether `dist/main.js` is missing or older than any build input (the build rewrites all of dist/). */
function distIsStale(root = ROOT) {
  const built = newestMtime(path.join(root, 'dist', 'main.js'));
  if (built === 0) return true;
  return BUILD_INPUTS.some((input) => newestMtime(path.join(root, input)) > built);
}

function main() {
  if (distIsStale()) {
    console.log('dist/ is missing or older than src/: building (npm run build)');
    const nest = path.join(ROOT, 'node_modules', '.bin', process.platform === 'win32' ? 'nest.cmd' : 'nest');
    const build = spawnSync(nest, ['build'], { cwd: ROOT, stdio: 'inherit' });
    if (build.error || build.status !== 0) {
      console.error(
        build.error && build.error.code === 'ENOENT'
          ? 'Cannot build: the Nest CLI is missing (run npm install). A deployed build starts with npm run start:prod.'
          : 'The build failed; see above.',
      );
      process.exit(1);
    }
  }
  require(path.join(ROOT, 'dist', 'main.js'));
}

if (require.main === module) main();

module.exports = { distIsStale };
