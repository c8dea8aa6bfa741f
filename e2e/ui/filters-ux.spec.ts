// The filter sidebar and serve panel as people use them: errors beside the field that is
// wrong, in words; required values asked for, not refused; aliases once, overrides folded;
// a list that stays put while cards are switched; the export's capabilities; go to an offset.
import { test, expect, type Page } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { waitForCompleteMap } from './flows.ts';
import { ROOT, startHost, type Host } from './host.ts';
import { viewOf } from './map-page.ts';
import { MiB, makeSparseRaw, openFilterParams, openTyped, shot } from './state-page.ts';

test.describe.configure({ mode: 'serial' });

let dir: string;
let host: Host;
let page: Page;

test.beforeAll(async ({ browser }) => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'blockscope-e2e-filters-ux-'));
  host = await startHost();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  await page.goto(host.url);
  await expect(page.getByTestId('image-tab')).toHaveCount(1);
  await openTyped(page, makeSparseRaw(path.join(dir, 'small.img'), 64 * MiB, [[0, 4096]]));
  await waitForCompleteMap(page);
});

test.afterAll(async () => {
  await page?.close();
  await host?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const card = (name: string) => page.getByTestId(`filter-${name}`);

const openParams = (name: string) => openFilterParams(page, name);

test('a value past the end of the disk is refused beside its field, in words', async () => {
  await openParams('offset');
  await card('offset').locator('#offset-offset').fill('100M');
  await card('offset').getByRole('button', { name: /^Apply/ }).click();
  const error = card('offset').locator('[data-testid="param-error"][data-key="offset"]');
  await expect(error).toHaveText('the window starts at 100 MiB, past the end of the 64 MiB disk');
  await expect(page.getByTestId('error-banner')).toBeHidden();
  await expect(page.getByTestId('chain-label')).not.toContainText('offset');
  // A value the parser refuses is said without the component and key in front.
  await card('offset').locator('#offset-offset').fill('lots');
  await card('offset').getByRole('button', { name: /^Apply/ }).click();
  await expect(error).toHaveText("'lots' is not a size (examples: 512, 64K, 1M, 2G)");
  await shot(page, 'filters-ux-01-error-beside-field');
  await card('offset').getByRole('button', { name: 'Reset' }).click();
  await expect(card('offset').getByTestId('param-error')).toHaveCount(0);
});

test('switching on a filter with a required value opens its fields instead of a banner', async () => {
  await page.getByTestId('toggle-partition').click();
  await expect(card('partition').locator('#partition-partition')).toBeVisible();
  await expect(card('partition').locator('[data-testid="param-error"][data-key="partition"]')).toContainText('required');
  await expect(page.getByTestId('error-banner')).toBeHidden();
  await expect(page.getByTestId('toggle-partition')).toHaveAttribute('aria-checked', 'false');
  await shot(page, 'filters-ux-02-required-asked');
});

test('aliases show once, a default that does nothing says so, overrides fold under more', async () => {
  await openParams('delay');
  await expect(card('delay').locator('#delay-rdelay')).toHaveCount(0);
  await expect(card('delay').locator('label[for="delay-delay-read"]')).toContainText('also rdelay');
  await expect(card('delay').locator('#delay-delay-write')).toHaveCount(0);
  await card('delay').getByTestId('more-delay').click();
  await expect(card('delay').locator('#delay-delay-write')).toBeVisible();
  await openParams('error');
  await expect(card('error').getByTestId('noop-error-rate')).toContainText('0 = never');
  const labels = await card('error').locator('.param label').allTextContents();
  expect(labels.map((l) => l.split(' ')[0])).toEqual(['error', 'error-rate', 'error-file', 'error-seed']);
  await shot(page, 'filters-ux-03-grouped-fields');
});

test('order controls only on enabled cards, and the list stays put while toggling', async () => {
  const names = () => page.locator('[data-testid^="filter-"].filter .name').allTextContents();
  const before = await names();
  await page.getByTestId('toggle-stats').click();
  await expect(page.getByTestId('chain-label')).toContainText('stats');
  await page.getByTestId('toggle-noextents').click();
  await expect(page.getByTestId('chain-label')).toContainText('noextents');
  expect(await names()).toEqual(before);
  await expect(card('stats').getByTitle('Move outward')).toBeVisible();
  await expect(card('delay').getByTitle('Move outward')).toHaveCount(0);
  await shot(page, 'filters-ux-04-stable-order');
  await page.getByTestId('toggle-noextents').click();
  await expect(page.getByTestId('chain-label')).not.toContainText('noextents');
  expect(await names()).toEqual(before);
  await expect(card('noextents').getByTitle('Move outward')).toHaveCount(0);
  await page.getByTestId('toggle-stats').click();
  await expect(page.getByTestId('chain-label')).not.toContainText('stats');
});

test('while serving, the panel says what clients are told, as blockscope info does', async () => {
  await page.locator('#serve-port').fill('0');
  await page.getByTestId('serve-start').click();
  await expect(page.getByTestId('serve-state')).toHaveText(/serving/);
  const uri = (await page.getByTestId('serve-uri').textContent())!.trim();
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'blockscope.mjs'), 'info', '--json', uri], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const info = JSON.parse(r.stdout) as Record<string, unknown> & { block_size: { minimum: number; preferred: number; maximum: number } };
  const caps = page.getByTestId('serve-capabilities');
  await expect(caps).toBeVisible();
  for (const name of ['is_read_only', 'can_flush', 'can_fua', 'can_trim', 'can_zero', 'can_fast_zero', 'can_multi_conn', 'can_cache', 'can_extents']) {
    await expect(caps.getByTestId(`cap-${name}`), name).toHaveText(`${name}${String(info[name])}`);
  }
  const b = info.block_size;
  await expect(caps.getByTestId('cap-block-sizes')).toHaveText(`block sizes: minimum ${b.minimum}, preferred ${b.preferred}, maximum ${b.maximum}`);
  await expect(caps.getByTestId('cap-is_read_only')).toHaveText('is_read_onlytrue');
  await caps.scrollIntoViewIfNeeded();
  await shot(page, 'filters-ux-05-capabilities');
  await page.getByTestId('serve-stop').click();
  await expect(page.getByTestId('serve-state')).toHaveText('stopped');
  await expect(page.getByTestId('serve-capabilities')).toHaveCount(0);
});

test('go to an offset: the map centres on it and the bytes panel shows its block', async () => {
  const field = page.getByTestId('goto-offset');
  await field.fill('100M');
  await field.press('Enter');
  await expect(page.getByTestId('goto-error')).toHaveText('100 MiB is past the end of the 64 MiB disk');
  await field.fill('0x2000000');
  await field.press('Enter');
  await expect(page.getByTestId('goto-error')).toHaveCount(0);
  await expect.poll(() => viewOf(page)).toEqual({ start: 31.5 * MiB, end: 32.5 * MiB });
  await expect(page.getByTestId('hex-view')).toContainText('Bytes at 0x2000000');
  // With the pointer off the map, the readout describes the byte gone to.
  await page.mouse.move(5, 5);
  await expect(page.getByTestId('selected-offset')).toContainText('0x2000000 (33\u202f554\u202f432) · block 0x2000000');
  await expect(page.getByTestId('hover-extent')).toContainText('hole,zero · [0x1000, 0x4000000)');
  await shot(page, 'filters-ux-06-go-to-offset');
  // Units and decimals land on the same byte's block.
  await field.fill('1.5K');
  await field.press('Enter');
  await expect(page.getByTestId('hex-view')).toContainText('Bytes at 0x600');
  await field.fill('40960');
  await field.press('Enter');
  await expect(page.getByTestId('hex-view')).toContainText('Bytes at 0xa000');
  await expect.poll(() => viewOf(page)).toEqual({ start: 0, end: MiB });
});
