/**
 * Migration tooling for both dialects.
 *
 *   npm run migration:generate -- <Name>   writes src/database/migrations/{sqlite,postgres}/<ts>-<Name>.ts
 *   npm run migration:check                fails when entities and checked-in migrations disagree
 *
 * Each dialect runs in its own child process because entity column types are fixed at import time
 * (see src/database/columns.ts). Each gets a throwaway database: a temp SQLite file, and a fresh
 * PostgreSQL database on MIGRATION_ADMIN_DATABASE_URL (default: the local server) dropped afterwards.
 * Outside CI a missing PostgreSQL server is reported and skipped; with CI=true it fails.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import type * as AppConfigModule from '../src/config/app-config';
import type * as DataSourceOptionsModule from '../src/database/data-source-options';

type Dialect = 'sqlite' | 'postgres';
const MIGRATIONS_DIR = path.join(__dirname, '..', 'src', 'database', 'migrations');
const ADMIN_URL =
  process.env.MIGRATION_ADMIN_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/postgres';

async function main(): Promise<number> {
  const [mode, ...rest] = process.argv.slice(2);
  if (mode === 'inner') return inner(rest[0] as 'generate' | 'check', rest[1]);
  if (mode !== 'generate' && mode !== 'check') {
    console.error('usage: migrations.ts generate <Name> | check');
    return 2;
  }
  const name = rest[0];
  if (mode === 'generate' && !/^[A-Z][A-Za-z0-9]*$/.test(name ?? '')) {
    console.error('migration name must be PascalCase, e.g. AddWorkflows');
    return 2;
  }
  let failed = false;
  for (const dialect of ['sqlite', 'postgres'] as Dialect[]) {
    const target = await createScratchDatabase(dialect);
    if (!target) {
      const msg = `postgres: no server at ${redactUrl(ADMIN_URL)}`;
      if (process.env.CI === 'true') {
        console.error(`${msg} (required in CI)`);
        failed = true;
      } else console.warn(`${msg}; skipped (set MIGRATION_ADMIN_DATABASE_URL)`);
      continue;
    }
    try {
      const child = spawnSync(
        process.execPath,
        ['-r', 'ts-node/register/transpile-only', __filename, 'inner', mode, name ?? ''],
        { stdio: 'inherit', env: { ...process.env, DATABASE_URL: target.url, TS_NODE_TRANSPILE_ONLY: 'true' } },
      );
      if (child.status !== 0) failed = true;
    } finally {
      await target.drop();
    }
  }
  if (mode === 'generate') writeIndexes();
  return failed ? 1 : 0;
}

async function createScratchDatabase(dialect: Dialect): Promise<{ url: string; drop: () => Promise<void> } | null> {
  if (dialect === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runloom-migrations-'));
    return {
      url: `sqlite:${path.join(dir, 'check.sqlite')}`,
      drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  }
  const admin = new Client({ connectionString: ADMIN_URL });
  try {
    await admin.connect();
  } catch {
    return null;
  }
  const db = `runloom_migrations_${randomBytes(6).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${db}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${db}`;
  return {
    url: url.toString(),
    drop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      await admin.end();
    },
  };
}

/** Runs inside the per-dialect child: apply checked-in migrations, then diff against the entities. */
async function inner(mode: 'generate' | 'check', name: string): Promise<number> {
  // Required here, not imported at the top, so the column helpers see this child's DATABASE_URL.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { loadConfig } = require('../src/config/app-config') as typeof AppConfigModule;
  const { dataSourceOptions } = require('../src/database/data-source-options') as typeof DataSourceOptionsModule;
  /* eslint-enable @typescript-eslint/no-require-imports */
  const config = loadConfig({ ...process.env, DATA_DIR: os.tmpdir(), LOG_LEVEL: 'error' });
  const dialect = config.database.type;
  const ds = new DataSource(dataSourceOptions(config.database, { migrationsRun: false, logging: false }));
  await ds.initialize();
  try {
    await ds.runMigrations({ transaction: 'each' });
    const sql = await ds.driver.createSchemaBuilder().log();
    const up = sql.upQueries;
    if (mode === 'check') {
      if (up.length === 0) {
        console.log(`${dialect}: entities and migrations agree`);
        return 0;
      }
      console.error(
        `${dialect}: entities and migrations disagree; run npm run migration:generate -- <Name>. Pending SQL:`,
      );
      for (const q of up) console.error(`  ${q.query}`);
      return 1;
    }
    if (up.length === 0) {
      console.log(`${dialect}: no changes`);
      return 0;
    }
    const timestamp = Date.now();
    const className = `${name}${timestamp}`;
    const quote = (s: string) => '`' + s.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${') + '`';
    const lines = (qs: { query: string; parameters?: unknown[] }[]) =>
      qs
        .map(
          (q) =>
            `    await queryRunner.query(${quote(q.query)}${q.parameters?.length ? `, ${JSON.stringify(q.parameters)}` : ''});`,
        )
        .join('\n');
    const file = path.join(MIGRATIONS_DIR, dialect, `${timestamp}-${name}.ts`);
    fs.writeFileSync(
      file,
      `import { MigrationInterface, QueryRunner } from 'typeorm';

export class ${className} implements MigrationInterface {
  name = '${className}';

  public async up(queryRunner: QueryRunner): Promise<void> {
${lines(up)}
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
${lines([...sql.downQueries].reverse())}
  }
}
`,
    );
    console.log(`${dialect}: wrote ${path.relative(process.cwd(), file)}`);
    return 0;
  } finally {
    await ds.destroy();
  }
}

/** Migrations are listed as explicit class arrays (globs break under jest and ts-node). */
function writeIndexes(): void {
  for (const dialect of ['sqlite', 'postgres'] as Dialect[]) {
    const dir = path.join(MIGRATIONS_DIR, dialect);
    const files = fs
      .readdirSync(dir)
      .filter((f) => /^\d+-[A-Za-z0-9]+\.ts$/.test(f))
      .sort();
    const imports = files.map((f) => {
      const source = fs.readFileSync(path.join(dir, f), 'utf8');
      const cls = /export class (\w+)/.exec(source)?.[1];
      if (!cls) throw new Error(`no migration class in ${f}`);
      return { cls, module: `./${f.replace(/\.ts$/, '')}` };
    });
    const constName = `${dialect.toUpperCase()}_MIGRATIONS`;
    fs.writeFileSync(
      path.join(dir, 'index.ts'),
      `// Generated by scripts/migrations.ts: the ${dialect} migrations in order.\n` +
        imports.map((i) => `import { ${i.cls} } from '${i.module}';\n`).join('') +
        `\nexport const ${constName} = [${imports.map((i) => i.cls).join(', ')}];\n`,
    );
  }
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
