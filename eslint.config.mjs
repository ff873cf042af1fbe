// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'data/**',
      'coverage/**',
      'src/database/migrations/**',
      // Browser script of /monitor (no build step); its behaviour is tested in headless Chromium.
      'src/monitor/static/**',
      'jest.config.js',
      'jest.reliability.config.js',
      'eslint.config.mjs',
      // Plain JavaScript run by `npm start` before anything is compiled.
      'scripts/start.js',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-unsafe-function-type': 'off',
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read configuration through AppConfig (src/config).' },
      ],
    },
  },
  {
    files: ['src/config/**', 'scripts/**', 'test/**', 'bench/**', 'ormconfig.ts'],
    rules: { 'no-restricted-properties': 'off' },
  },
  { files: ['**/*.spec.ts', 'test/**'], rules: { '@typescript-eslint/no-non-null-assertion': 'off' } },
);
