// Lint: typescript-eslint's type-aware rules on everything we write (src, dev, test, bench, scripts).
// Plain JavaScript (build scripts, the status page's browser script) is outside the TypeScript
// project, so it gets the rules that need no types.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['dist/**', 'node_modules/**', 'bench/results/**', 'coverage/**', 'test-artifacts/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // An async function without await is how a sync implementation meets a Promise-returning
      // interface (and turns a throw into a rejection); the rules that matter for promises
      // (no-floating-promises, no-misused-promises) stay on.
      '@typescript-eslint/require-await': 'off',
      // A leading underscore marks a parameter or binding that must exist but is not read
      // (express's four-argument error handler, rest-destructuring a field away).
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          caughtErrors: 'none',
        },
      ],
    },
  },
  {
    files: ['**/*.{js,mjs,cjs}'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  // The globals each kind of plain script may use (TypeScript files get theirs from tsconfig).
  {
    files: ['scripts/**/*.{js,mjs,cjs}', 'eslint.config.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { globals: { module: 'writable', require: 'readonly' } },
  },
  {
    files: ['src/status/static/**/*.js'],
    languageOptions: {
      globals: {
        document: 'readonly',
        fetch: 'readonly',
        setTimeout: 'readonly',
        setInterval: 'readonly',
        console: 'readonly',
      },
    },
  },
);
