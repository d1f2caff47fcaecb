import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Imports point one way (docs/DESIGN.md, Layers): cli → locked → client.ts → election → session → transport → core,
// with errors.ts beside core; api.ts, index.ts and esm.mts export the library; src/testing is test support that the
// library never imports (the CLI's demo and the tests do). Each entry names what a layer must not import, as relative
// import paths are written from its files (one folder below src/, or in src/): every layer above it.
const LAYERS = 'cli → locked → client.ts → election → session → transport → core (docs/DESIGN.md, Layers)';
const ENTRY_POINTS = ['api\\.js', 'index\\.js', 'esm\\.mjs'];
const forbid = (files, layer, regex) => ({
  files,
  rules: {
    'no-restricted-imports': [
      'error',
      { patterns: [{ regex, message: `${layer} must not import this: imports point down the layers ${LAYERS}.` }] },
    ],
  },
});
const layer = (files, name, up, folders, modules) =>
  forbid(files, name, `^${up}(${folders.join('|')})/` + (modules.length ? `|^${up}(${modules.join('|')})$` : ''));
const importDirection = [
  forbid(['src/errors.ts'], 'errors.ts', '^\\.'),
  layer(
    ['src/core/**'],
    'core',
    '\\.\\./',
    ['transport', 'session', 'election', 'locked', 'cli', 'testing'],
    ['client\\.js', ...ENTRY_POINTS],
  ),
  layer(
    ['src/transport/**'],
    'transport',
    '\\.\\./',
    ['session', 'election', 'locked', 'cli', 'testing'],
    ['client\\.js', ...ENTRY_POINTS],
  ),
  layer(
    ['src/session/**'],
    'session',
    '\\.\\./',
    ['election', 'locked', 'cli', 'testing'],
    ['client\\.js', ...ENTRY_POINTS],
  ),
  layer(['src/election/**'], 'election', '\\.\\./', ['locked', 'cli', 'testing'], ['client\\.js', ...ENTRY_POINTS]),
  layer(['src/client.ts'], 'client.ts', '\\./', ['locked', 'cli', 'testing'], ENTRY_POINTS),
  layer(['src/locked/**'], 'locked', '\\.\\./', ['cli', 'testing'], ENTRY_POINTS),
  layer(['src/api.ts'], 'api.ts', '\\./', ['cli', 'testing'], ['index\\.js', 'esm\\.mjs']),
  layer(['src/index.ts', 'src/esm.mts'], 'the entry points', '\\./', ['cli', 'testing'], []),
  forbid(['src/testing/**'], 'src/testing (test support, below the library)', '^\\.\\./'),
];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      'bench/results/**',
      'eslint.config.mjs',
      // Consumer projects with their own tsconfigs and deliberate errors, compiled by test/types/run.mjs.
      'test/types/**/*.{ts,mts,cts}',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { project: './tsconfig.check.json', tsconfigRootDir: import.meta.dirname },
    },
  },
  {
    // The package entry points use CommonJS `export =`; they are checked with the build's config.
    files: ['src/index.ts', 'src/esm.mts'],
    languageOptions: {
      parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
  },
  {
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  ...importDirection,
  {
    // Plain JavaScript (test fixtures run as child processes): no type information.
    files: ['**/*.cjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        __dirname: 'readonly',
        console: 'readonly',
        setInterval: 'readonly',
        setTimeout: 'readonly',
        clearInterval: 'readonly',
        clearTimeout: 'readonly',
        Buffer: 'readonly',
      },
    },
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Plain ESM scripts (package checks, the type-test runner): no type information.
    files: ['**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: 'module',
      globals: { process: 'readonly', console: 'readonly' },
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
