/**
 * Unit specs live beside the code; medium specs (test/medium) build one service on a real database;
 * e2e specs under test/ run against the real AppModule.
 */
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] };
const common = { testEnvironment: 'node', transform, moduleFileExtensions: ['ts', 'js', 'json'] };

module.exports = {
  // e2e apps with the worker role start engine threads: tens of seconds on a loaded 2-core machine.
  testTimeout: 60000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      rootDir: '.',
      testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/scripts/**/*.spec.ts', '<rootDir>/bench/**/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'e2e',
      rootDir: '.',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      setupFiles: ['<rootDir>/test/utils/setup-env.ts'],
    },
    {
      // A service with its real repositories on a real database, no HTTP (test/utils/medium.ts).
      ...common,
      displayName: 'medium',
      rootDir: '.',
      testMatch: ['<rootDir>/test/medium/**/*.medium-spec.ts'],
      setupFiles: ['<rootDir>/test/utils/setup-env.ts'],
    },
  ],
};
