import reactHooks from 'eslint-plugin-react-hooks'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {
    ignores: ['node_modules/**', '.tsbuild/**', 'coverage/**', 'dist/**', 'renderer/dist/**', 'test-results/**', '**/*.js', '!eslint.config.js'],
  },
  {
    files: ['**/*.ts', '**/*.tsx'],
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
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/test/**', '../test/*'], message: 'nothing imports test/ (dependency rule: docs/adr/0009)' },
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
    // The UI reaches the core only through the API contract and its client: no Node, no libp2p, no storage, no crdt.
    files: ['renderer/src/**/*.ts', 'renderer/src/**/*.tsx'],
    ignores: ['renderer/src/**/*.test.ts', 'renderer/src/**/*.test.tsx'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'libp2p', '@libp2p/*', 'level', 'electron', '**/crdt/**', '**/node/src/core/*', '**/node/src/store/*', '**/node/src/sync/*', '**/node/common/net/*', '**/node/common/storage/*', '**/node/common/crypto/*'],
              message: 'renderer/ talks to the core only through node/src/api (dependency rule: docs/ARCHITECTURE.md)',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['renderer/src/**/*.test.ts', 'renderer/src/**/*.test.tsx'],
    plugins: { 'react-hooks': reactHooks },
    rules: reactHooks.configs.recommended.rules,
  },
  {
    files: ['test/**/*.ts', '**/*.test.ts', '**/*.test.tsx'],
    rules: { 'no-restricted-imports': 'off' },
  },
)
