// ESLint flat config (typescript-eslint, type-aware): the house rules STYLE.md asks for that a machine can
// check. Formatting is Prettier's job (.prettierrc.json), so no stylistic rules here.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // Only TypeScript is linted; the few .cjs/.mjs files are configuration and build glue.
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'proto/gen/**',
      '.demo/**',
      '.bench/**',
      'coverage/**',
      '**/*.cjs',
      '**/*.mjs',
      'vitest.config.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      // tsconfig.test.json covers the product sources, scripts and tests.
      parserOptions: { project: './tsconfig.test.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // A promise nobody awaits hides its failure (STYLE.md: every wait takes the shutdown signal).
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      // == only against null (null or undefined); anything else says exactly which equality it means.
      eqeqeq: ['error', 'smart'],
      'no-control-regex': 'off',
      // TypeScript checks these itself (noImplicitReturns, strict); the base rules misread TS constructs.
      'no-undef': 'off',
      'no-redeclare': 'off',
    },
  },
  {
    // The dashboard's browser code has its own project (DOM types, bundler resolution).
    files: ['central/web-ui/**/*.ts'],
    languageOptions: {
      parserOptions: { project: './central/web-ui/tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
  },
  {
    // Product sources: a file a newcomer can read, functions that fit on a screen (issue 9).
    files: [
      'central/src/**/*.ts',
      'central/web-ui/**/*.ts',
      'node-agent/src/**/*.ts',
      'common/src/**/*.ts',
      'proto/*.ts',
    ],
    rules: {
      'max-lines': ['error', { max: 400 }],
      'max-lines-per-function': ['error', { max: 80 }],
    },
  },
);
