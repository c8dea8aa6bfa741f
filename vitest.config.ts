import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['shared/**/*.test.ts', 'main/**/*.test.ts', 'preload/**/*.test.ts', 'renderer/**/*.test.ts', 'e2e/interop/**/*.test.ts', 'e2e/fuzz/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // TLS as this 2-core machine chooses it by itself: on the main thread, with our record
    // layer after the handshake (tls-records.ts). The worker threads have their own tests
    // (tls-offload.test.ts), which switch them on.
    env: { BLOCKSCOPE_TLS_WORKERS: '0' },
  },
});
