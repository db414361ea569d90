// Lint (runs inside `npm test`): keeps the layers apart. lib/ and wasm/ are the framework-free core
// (they run in a worker, the CLI and the tests), so they never import Next.js, React, tRPC or the
// server/app layers (excalidraw's packages/eslintrc.base.json does the same with
// no-restricted-imports). Type-only imports are allowed where a contract is shared.
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

const coreBoundary = {
  paths: [
    { name: 'next', message: 'lib/ is framework-free: no Next.js.' },
    { name: 'react', message: 'lib/ is framework-free: no React.' },
    { name: 'react-dom', message: 'lib/ is framework-free: no React.' },
    { name: 'server-only', message: 'lib/ runs outside the server too.' },
  ],
  patterns: [
    { group: ['next/*', 'react/*', '@trpc/*', '@tanstack/*'], message: 'lib/ is framework-free: no Next.js, React or tRPC.' },
    { group: ['**/server/**', '@/server/**', '**/app/**', '@/app/**'], message: 'lib/ must not import server/ or app/: pass what it needs as arguments.' },
  ],
};

export default tseslint.config(
  { ignores: ['node_modules/**', '.next/**', 'wasm/build/**', 'data/**', 'tmp/**', 'bench/out/**', 'next-env.d.ts', 'wasm/assembly/**'] },
  {
    files: ['**/*.{ts,tsx,mts}'],
    languageOptions: { parser: tseslint.parser },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      'no-debugger': 'error',
      'no-dupe-keys': 'error',
      'no-unreachable': 'error',
    },
  },
  {
    files: ['app/**/*.tsx', 'app/**/*.ts'],
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'warn' },
  },
  {
    files: ['lib/**/*.ts', 'wasm/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { ...coreBoundary, patterns: coreBoundary.patterns.map((p) => ({ ...p, allowTypeImports: false })) }] },
  },
  {
    // UI components run in the browser: only types from server/ (the AppRouter), never its code
    files: ['app/_components/**/*.{ts,tsx}', 'app/_trpc/client.tsx'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ group: ['**/server/**', '@/server/**'], allowTypeImports: true, message: 'Client components import server/ types only (AppRouter), never server code.' }] }],
    },
  },
);
