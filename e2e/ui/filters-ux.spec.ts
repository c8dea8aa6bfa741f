// The filter sidebar and serve panel as people use them: errors beside the field that is
// wrong, in words; required values asked for, not refused; aliases once, overrides folded;
// a list that stays put while cards are switched; the export's capabilities; go to an offset.
import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './host.ts';
import { viewOf } from './map-page.ts';
import { MiB, openFilterParams, shot } from './state-page.ts';

import { sharedPageWithImage } from './shared-page.ts';

test.describe.configure({ mode: 'serial' });

const shared = sharedPageWithImage('filters-ux', 64 * MiB, [[0, 4096]]);

const card = (name: string) => shared.page.getByTestId(`filter-${name}`);

const openParams = (name: string) => openFilterParams(shared.page, name);

test('a value past the end of the disk is refused beside its field, in words', async () => {
  await openParams('offset');
  await card('offset').locator('#offset-offset').fill('100M');
  await card('offset').getByRole('button', { name: /^Apply/ }).click();
  const error = card('offset').locator('[data-testid="param-error"][data-key="offset"]');
  await expect(error).toHaveText('the window starts at 100 MiB, past the end of the 64 MiB disk');
  await expect(shared.page.getByTestId('error-banner')).toBeHidden();
  await expect(shared.page.getByTestId('chain-label')).not.toContainText('offset');
  // A value the parser refuses is said without the component and key in front.
  await card('offset').locator('#offset-offset').fill('lots');
  await card('offset').getByRole('button', { name: /^Apply/ }).click();
  await expect(error).toHaveText("'lots' is not a size (examples: 512, 64K, 1M, 2G)");
  await shot(shared.page, 'filters-ux-01-error-beside-field');
  await card('offset').getByRole('button', { name: 'Reset' }).click();
  await expect(card('offset').getByTestId('param-error')).toHaveCount(0);
});

test('switching on a filter with a required value opens its fields instead of a banner', async () => {
  await shared.page.getByTestId('toggle-partition').click();
  await expect(card('partition').locator('#partition-partition')).toBeVisible();
  await expect(card('partition').locator('[data-testid="param-error"][data-key="partition"]')).toContainText('required');
  await expect(shared.page.getByTestId('error-banner')).toBeHidden();
  await expect(shared.page.getByTestId('toggle-partition')).toHaveAttribute('aria-checked', 'false');
  await shot(shared.page, 'filters-ux-02-required-asked');
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
  await shot(shared.page, 'filters-ux-03-grouped-fields');
});

test('order controls only on enabled cards, and the list stays put while toggling', async () => {
  const names = () => shared.page.locator('[data-testid^="filter-"].filter .name').allTextContents();
  const before = await names();
  await shared.page.getByTestId('toggle-stats').click();
  await expect(shared.page.getByTestId('chain-label')).toContainText('stats');
  await shared.page.getByTestId('toggle-noextents').click();
  await expect(shared.page.getByTestId('chain-label')).toContainText('noextents');
  expect(await names()).toEqual(before);
  await expect(card('stats').getByTitle('Move outward')).toBeVisible();
  await expect(card('delay').getByTitle('Move outward')).toHaveCount(0);
  await shot(shared.page, 'filters-ux-04-stable-order');
  await shared.page.getByTestId('toggle-noextents').click();
  await expect(shared.page.getByTestId('chain-label')).not.toContainText('noextents');
  expect(await names()).toEqual(before);
  await expect(card('noextents').getByTitle('Move outward')).toHaveCount(0);
  await shared.page.getByTestId('toggle-stats').click();
  await expect(shared.page.getByTestId('chain-label')).not.toContainText('stats');
});

test('while serving, the panel says what clients are told, as blockscope info does', async () => {
  await shared.page.locator('#serve-port').fill('0');
  await shared.page.getByTestId('serve-start').click();
  await expect(shared.page.getByTestId('serve-state')).toHaveText(/serving/);
  const uri = (await shared.page.getByTestId('serve-uri').textContent())!.trim();
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'blockscope.mjs'), 'info', '--json', uri], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const info = JSON.parse(r.stdout) as Record<string, unknown> & { block_size: { minimum: number; preferred: number; maximum: number } };
  const caps = shared.page.getByTestId('serve-capabilities');
  await expect(caps).toBeVisible();
  for (const name of ['is_read_only', 'can_flush', 'can_fua', 'can_trim', 'can_zero', 'can_fast_zero', 'can_multi_conn', 'can_cache', 'can_extents']) {
    await expect(caps.getByTestId(`cap-${name}`), name).toHaveText(`${name}${String(info[name])}`);
  }
  const b = info.block_size;
  await expect(caps.getByTestId('cap-block-sizes')).toHaveText(`block sizes: minimum ${b.minimum}, preferred ${b.preferred}, maximum ${b.maximum}`);
  await expect(caps.getByTestId('cap-is_read_only')).toHaveText('is_read_onlytrue');
  await caps.scrollIntoViewIfNeeded();
  await shot(shared.page, 'filters-ux-05-capabilities');
  await shared.page.getByTestId('serve-stop').click();
  await expect(shared.page.getByTestId('serve-state')).toHaveText('stopped');
  await expect(shared.page.getByTestId('serve-capabilities')).toHaveCount(0);
});

test('go to an offset: the map centres on it and the bytes panel shows its block', async () => {
  const field = shared.page.getByTestId('goto-offset');
  await field.fill('100M');
  await field.press('Enter');
  await expect(shared.page.getByTestId('goto-error')).toHaveText('100 MiB is past the end of the 64 MiB disk');
  await field.fill('0x2000000');
  await field.press('Enter');
  await expect(shared.page.getByTestId('goto-error')).toHaveCount(0);
  await expect.poll(() => viewOf(shared.page)).toEqual({ start: 31.5 * MiB, end: 32.5 * MiB });
  await expect(shared.page.getByTestId('hex-view')).toContainText('Bytes at 0x2000000');
  // With the pointer off the map, the readout describes the byte gone to.
  await shared.page.mouse.move(5, 5);
  await expect(shared.page.getByTestId('selected-offset')).toContainText('0x2000000 (33\u202f554\u202f432) · block 0x2000000');
  await expect(shared.page.getByTestId('hover-extent')).toContainText('hole,zero · [0x1000, 0x4000000)');
  await shot(shared.page, 'filters-ux-06-go-to-offset');
  // Units and decimals land on the same byte's block.
  await field.fill('1.5K');
  await field.press('Enter');
  await expect(shared.page.getByTestId('hex-view')).toContainText('Bytes at 0x600');
  await field.fill('40960');
  await field.press('Enter');
  await expect(shared.page.getByTestId('hex-view')).toContainText('Bytes at 0xa000');
  await expect.poll(() => viewOf(shared.page)).toEqual({ start: 0, end: MiB });
});
