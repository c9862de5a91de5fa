import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['node_modules/**', '.tsbuild/**', 'coverage/**', '**/*.js', '!eslint.config.js'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.base],
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['vitest.config.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // A promise nobody awaits loses its error; use drop() from node/common/errors.ts to mean it.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/test/**', '../test/*'], message: 'nothing imports test/ (DESIGN.md dependency rule)' },
          ],
        },
      ],
    },
  },
  {
    // crdt/ is pure and relay/ must stay content-blind; TypeScript project references enforce the rest.
    files: ['crdt/**/*.ts'],
    ignores: ['crdt/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['node:*', 'libp2p', '@libp2p/*', 'level', 'classic-level', '../../node/*'], message: 'crdt/ is pure: no Node, network or storage' }] },
      ],
    },
  },
  {
    files: ['relay/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/crdt/**', '**/node/src/**'], message: 'relay/ is content-blind: only node/common' }] },
      ],
    },
  },
  {
    files: ['test/**/*.ts', '**/*.test.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
)
