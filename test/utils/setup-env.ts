// Entity column types are chosen from DATABASE_URL at import time (src/database/columns.ts), so
// the dialect under test must be in the environment before any app module is imported.
// Each test file still gets its own database (see test/utils/app.ts).
if (process.env.TEST_DATABASE_URL) {
  process.env.DATABASE_URL = process.env.TEST_DATABASE_URL;
} else {
  delete process.env.DATABASE_URL;
}
process.env.TZ = 'UTC';
