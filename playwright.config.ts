// Playwright drives Debian's Chromium (no browser download is possible here) against the real
// browser UI host, which each spec starts itself. One worker: the specs share the machine's
// two cores with everything else, and each one runs an NBD server.
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  outputDir: 'test-results',
  workers: 1,
  fullyParallel: false,
  reporter: [['list']],
  timeout: 90_000,
  expect: { timeout: 10_000 },
  globalSetup: './e2e/ui/global-setup.ts',
  use: {
    browserName: 'chromium',
    headless: true,
    viewport: { width: 1440, height: 900 },
    colorScheme: 'dark',
    acceptDownloads: true,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
});
