// For specs whose serial tests share one UI host, one page and one small sparse raw image
// open with its map complete: the beforeAll and afterAll that set them up and take them down.
import { test, expect, type Page } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { waitForCompleteMap } from './flows.ts';
import { startHost, type Host } from './host.ts';
import { makeSparseRaw, openTyped } from './state-page.ts';

/** Filled in by the beforeAll that sharedPageWithImage registers. */
export interface SharedPage {
  page: Page;
}

/** A `size`-byte sparse raw image with data at `data` ([offset, length] pairs), opened in a fresh host's page. */
export function sharedPageWithImage(name: string, size: number, data: [number, number][]): SharedPage {
  const shared = {} as SharedPage;
  let dir = '';
  let host: Host | undefined;
  test.beforeAll(async ({ browser }) => {
    dir = mkdtempSync(path.join(os.tmpdir(), `blockscope-e2e-${name}-`));
    host = await startHost();
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    shared.page = page;
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
    await page.goto(host.url);
    await expect(page.getByTestId('image-tab')).toHaveCount(1);
    await openTyped(page, makeSparseRaw(path.join(dir, 'small.img'), size, data));
    await waitForCompleteMap(page);
  });
  test.afterAll(async () => {
    await shared.page?.close();
    await host?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return shared;
}
