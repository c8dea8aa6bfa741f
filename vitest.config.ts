import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['shared/**/*.test.ts', 'main/**/*.test.ts', 'preload/**/*.test.ts', 'renderer/**/*.test.ts', 'e2e/interop/**/*.test.ts', 'e2e/fuzz/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The suites run TLS through the worker threads, which this 2-core machine would not choose
    // by itself (tls-offload.ts); the main-thread path has its own test there and the UI specs.
    env: { BLOCKSCOPE_TLS_WORKERS: '1' },
  },
});
