// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The layers of src/ (docs/architecture.md#layers), lowest first: a directory may import only from itself or a
 * lower layer, never from a peer in its own layer. The last layer is the top and may import anything, as may
 * the files directly in src/ (app and role modules, main.ts). The one table of the layers: the rules below and
 * scripts/layer-imports.sh read it, and scripts/layer-rules.spec.ts holds the docs' copy to it.
 */
export const LAYERS = [
  ['config'],
  ['common'],
  ['database'],
  ['metrics'],
  ['plans', 'mail'],
  ['secrets'],
  ['egress'],
  ['engine'],
  ['workflows'],
  ['runs'],
  ['webhooks', 'schedules', 'events', 'health', 'workflow-egress', 'notifications'],
  ['auth', 'account', 'workspaces', 'support', 'integrations', 'monitor', 'cli'],
];

/** How deep src/<dir>/… may nest (src/engine/nodes/email/x.ts is 2): the rules are written per depth, up to this. */
export const MAX_NESTING = 4;

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * One no-restricted-imports block per directory and nesting depth: at depth k, `../` repeated k+1 times
 * reaches src/, so `^(\.\./){k+1}workflows(/|$)` is src/workflows and nothing else (src/common/auth is not
 * src/auth). Spec files are held to the same order: a lower layer's test has no reason to need a higher one.
 */
function layerRules() {
  const top = LAYERS.length - 1;
  return LAYERS.slice(0, top).flatMap((dirs, layer) =>
    dirs.flatMap((dir) => {
      const forbidden = LAYERS.flatMap((above, l) =>
        l < layer ? [] : above.filter((other) => other !== dir).map((other) => ({ other, l })),
      );
      return Array.from({ length: MAX_NESTING + 1 }, (_, depth) => ({
        files: [`src/${dir}/${'*/'.repeat(depth)}*.ts`],
        rules: {
          'no-restricted-imports': [
            'error',
            {
              patterns: forbidden.map(({ other, l }) => ({
                regex: `^(\\.\\./){${depth + 1}}${escape(other)}(/|$)`,
                caseSensitive: true,
                message: `${dir} (L${layer + 1}) must not import ${other} (L${l + 1}): see docs/architecture.md#layers`,
              })),
            },
          ],
        },
      }));
    }),
  );
}

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
  ...layerRules(),
);
