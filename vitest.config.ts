import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run the TypeScript sources; the built dist is for `node --import` and `npm start`.
    alias: [
      { find: /^@tokenmeter\/instrumentation$/, replacement: src('./instrumentation/src/index.ts') },
      { find: /^@tokenmeter\/instrumentation\/(.*)$/, replacement: src('./instrumentation/src/$1') },
      { find: /^@tokenmeter\/ingest$/, replacement: src('./ingest/src/index.ts') },
    ],
  },
  test: {
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    // chdb binds one data directory per process: every test file gets its own process.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
