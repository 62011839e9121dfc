import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Nest's dependency injection reads constructor types from decorator metadata, which Oxc emits on request.
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } },
  resolve: {
    // Tests run the workspace packages from their TypeScript sources (the `source` export condition that
    // tsconfig.json uses too), so `npm test` needs no build first.
    alias: [
      {
        find: /^@entra-integration\/entra-emulator$/,
        replacement: fileURLToPath(new URL('./packages/entra-emulator/src/index.ts', import.meta.url)),
      },
    ],
  },
  test: {
    include: ['src/**/*.spec.ts', 'test/**/*.spec.ts', 'packages/*/src/**/*.spec.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
