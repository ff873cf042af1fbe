/**
 * The heavy reliability and security suite (issue 10, SECURITY.md): `npm run test:reliability`,
 * run by .ci/run on SQLite and again on PostgreSQL (TEST_DATABASE_URL). Not part of `npm test`.
 */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  rootDir: '.',
  testMatch: ['<rootDir>/test/reliability/**/*.rel-spec.ts'],
  setupFiles: ['<rootDir>/test/utils/setup-env.ts'],
  testTimeout: 600000,
};
