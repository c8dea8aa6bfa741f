// What the window says must be true: the map's scale after a filter changes the disk's size,
// what "serving" promises, serve settings per image and after a reload, exact totals (the
// CLI is the oracle), live client figures, steady rates, the header, the axis, "On disk",
// the error banner, rejected values, many tabs and the confirm dialog's keyboard.
// Real clients only: nbdsh and nbdinfo from libnbd against the real browser UI host.
import { test, expect, type Page } from '@playwright/test';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DemoLayoutInfo } from '../../shared/ipc.ts';
import { formatBytes } from '../../renderer/src/format/bytes.ts';
import { waitForCompleteMap } from './flows.ts';
import { nbdTool, startHost, type Host } from './host.ts';
import { DETAIL, viewOf, waitForSettledMap } from './map-page.ts';
import {
  GiB, MiB, applyFilterParams, bulkReader, cliTotals, headerBytesPerPixel, makeQcow2, makeSparseRaw, openTyped, panelTotals, shot, steadyReader,
} from './state-page.ts';

test.describe.configure({ mode: 'serial' });

let dir: string;
let host: Host;
let page: Page;
let layout: DemoLayoutInfo;
/** The qcow2 image's export, served from the read-only test on. */
let qcowUri: string;
const clients: ChildProcess[] = [];

test.beforeAll(async ({ browser }) => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'blockscope-e2e-state-'));
  host = await startHost();
  page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  await page.goto(host.url);
  await expect(page.getByTestId('image-tab')).toHaveCount(1);
  layout = (await host.invoke('app.demoLayout', {}))!;
});

test.afterAll(async () => {
  for (const c of clients) c.kill();
  await page?.close();
  await host?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const canvasWidth = (selector: string) => page.locator(selector).evaluate((c) => (c as unknown as { width: number }).width);
const onDisk = () => page.locator('.kv', { hasText: 'On disk' }).locator('.v');

test('the header gives the bytes per pixel of the map from its first frame', async () => {
  // Every text the header shows while a new image opens, from before its map exists.
  await page.evaluate(() => {
    const w = globalThis as unknown as { __ranges: string[]; document: { body: unknown; querySelector(s: string): { textContent: string } | null } };
    w.__ranges = [];
    const Observer = (globalThis as unknown as { MutationObserver: new (cb: () => void) => { observe(t: unknown, o: object): void } }).MutationObserver;
    new Observer(() => {
      const text = w.document.querySelector('[data-testid="view-range"]')?.textContent;
      if (text && w.__ranges.at(-1) !== text) w.__ranges.push(text);
    }).observe(w.document.body, { subtree: true, childList: true, characterData: true });
  });
  await openTyped(page, makeSparseRaw(path.join(dir, 'header.img'), GiB, [[0, MiB]]));
  await waitForCompleteMap(page);
  const expected = formatBytes(Math.round(GiB / (await canvasWidth(DETAIL))));
  expect(await headerBytesPerPixel(page)).toBe(expected);
  const shown = await page.evaluate(() => (globalThis as unknown as { __ranges: string[] }).__ranges);
  const perPixel = shown.filter((t) => t.includes('0x40000000')).map((t) => /· ([^·]+)\/px/.exec(t)?.[1]?.trim());
  expect(perPixel.filter((v) => v !== undefined && v !== expected), shown.join(' | ')).toEqual([]);
});

test('a later success clears the error banner of what failed', async () => {
  // Opening a file that does not exist fails with a banner; the next open that works clears it.
  await page.getByTestId('open-input').fill(path.join(dir, 'no-such.img'));
  await page.getByTestId('open-input').press('Enter');
  await expect(page.getByTestId('error-banner')).toContainText('no-such.img');
  await openTyped(page, makeSparseRaw(path.join(dir, 'banner.img'), 64 * MiB, [[0, MiB]]));
  await expect(page.getByTestId('error-banner')).toBeHidden();
  await page.getByTestId('image-tab').first().click();
  await waitForCompleteMap(page);
});

test('a value the engine rejects stays in its field, with the reason beside it', async () => {
  await applyFilterParams(page, 'partition', { partition: '9' });
  const card = page.getByTestId('filter-partition');
  await expect(card.getByTestId('param-error')).toContainText('9');
  await expect(card.locator('#partition-partition')).toHaveValue('9');
  await expect(page.getByTestId('chain-label')).not.toContainText('partition');
  await shot(page, 'state-01-rejected-value');
});

test('the map follows the disk when a filter changes its size, and back', async () => {
  const p1 = layout.partitions[0]!;
  // A zoom and "whole disk" leave a stored view behind, as any use of the map does.
  await page.getByTestId('zoom-in').click();
  await page.getByRole('button', { name: 'Whole disk' }).click();
  await expect.poll(() => viewOf(page)).toEqual({ start: 0, end: layout.size });
  await applyFilterParams(page, 'partition', { partition: '1' });
  await expect(page.getByTestId('chain-label')).toContainText('partition');
  await expect.poll(() => viewOf(page)).toEqual({ start: 0, end: p1.length });
  await waitForSettledMap(page);
  const overview = page.getByTestId('map-overview');
  await expect(overview).toHaveAttribute('data-view-end', String(p1.length));
  await expect(overview).toHaveAttribute('data-bins-end', String(p1.length));
  // The pointer 90% across the map is 90% into the partition, not into the old disk.
  const box = (await page.locator(DETAIL).boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.9, box.y + box.height * 0.6);
  const offset = Number(/\((\d[\d\u202f]*)\)/.exec((await page.getByTestId('hover-readout').textContent()) ?? '')![1]!.replace(/\D/g, ''));
  expect(Math.abs(offset - p1.length * 0.9)).toBeLessThan(p1.length / 50);
  await shot(page, 'state-02-map-follows-partition');
  await page.getByTestId('toggle-partition').click();
  await expect(page.getByTestId('chain-label')).not.toContainText('partition');
  await expect.poll(() => viewOf(page)).toEqual({ start: 0, end: layout.size });
  await expect(overview).toHaveAttribute('data-view-end', String(layout.size));
});

test('a read-only format asked to serve writable says it is read-only and offers cow', async () => {
  const image = makeQcow2(path.join(dir, 'ro.qcow2'), '64M');
  await openTyped(page, image);
  await page.locator('#serve-port').fill('0');
  await page.getByTestId('serve-writable').check();
  await page.getByTestId('serve-start').click();
  await expect(page.getByTestId('serve-state')).toHaveText(/^serving/);
  qcowUri = (await page.getByTestId('serve-uri').textContent())!.trim();
  await expect(page.getByTestId('serve-state')).toHaveText('serving · read-only (qcow2 is read-only; add the cow filter for writes)');
  expect(JSON.parse(nbdTool('nbdinfo', ['--json', qcowUri])).exports[0].is_read_only).toBe(true);
  await shot(page, 'state-03-read-only-format');
  await page.getByTestId('serve-add-cow').click();
  await expect(page.getByTestId('chain-label')).toContainText('cow');
  await expect(page.getByTestId('serve-state')).toHaveText('serving · writable');
  nbdTool('nbdsh', ['-u', qcowUri, '-c', 'h.pwrite(b"x" * 65536, 0)']);
});

test('serve settings belong to their image, and a reload shows what the server runs', async () => {
  const port = new URL(qcowUri).port;
  await openTyped(page, makeSparseRaw(path.join(dir, 'second.img'), 64 * MiB));
  await expect(page.getByTestId('serve-writable')).not.toBeChecked();
  await expect(page.locator('#serve-export')).toHaveValue('');
  await expect(page.locator('#serve-port')).toHaveValue(port);
  // Joining the running server: the default export is taken, so it gets its own name.
  await page.getByTestId('serve-start').click();
  await expect(page.getByTestId('serve-state')).toHaveText('serving · read-only');
  await expect(page.getByTestId('serve-uri')).toHaveText(`nbd://127.0.0.1:${port}/second.img`);

  await page.reload();
  await page.getByTestId('image-tab').filter({ hasText: 'ro.qcow2' }).click();
  await expect(page.locator('#serve-port')).toHaveValue(port);
  await expect(page.getByTestId('serve-writable')).toBeChecked();
  await expect(page.getByTestId('serve-state')).toHaveText('serving · writable');
  await shot(page, 'state-04-settings-after-reload');
});

test('the clients table counts a client’s traffic live, as the per-client stats do', async () => {
  await page.getByTestId('image-tab').filter({ hasText: 'ro.qcow2' }).click();
  clients.push(bulkReader(qcowUri, 48, 8));
  await expect(page.getByTestId('clients').locator('tbody tr td').nth(2)).toHaveText('48 MiB', { timeout: 8_000 });
  await expect(page.getByTestId('client-stats').locator('tbody tr td').nth(3)).toHaveText('48 MiB');
  const requests = await page.getByTestId('clients').locator('tbody tr td').nth(1).textContent();
  await expect(page.getByTestId('client-requests').first()).toHaveText(requests!);
  await shot(page, 'state-05-live-clients');
  clients.pop()!.kill();
});

test('a steady 10 requests a second reads as 10 ops/s, not 8 and 12 in turn', async () => {
  test.setTimeout(60_000);
  clients.push(steadyReader(qcowUri, 10, 14));
  const latest = page.getByTestId('chart-ops-latest');
  await expect(latest).toContainText('read', { timeout: 5_000 });
  await page.waitForTimeout(3_000);
  const rates: number[] = [];
  for (let k = 0; k < 10; k++) {
    rates.push(Number(/read ([\d.]+)/.exec((await latest.textContent()) ?? '')?.[1] ?? NaN));
    await page.waitForTimeout(300);
  }
  await shot(page, 'state-06-steady-rate');
  clients.pop()!.kill();
  for (const r of rates) expect(r, `ops/s readings ${rates.join(', ')}`).toBeGreaterThanOrEqual(9.2);
  for (const r of rates) expect(r, `ops/s readings ${rates.join(', ')}`).toBeLessThanOrEqual(10.8);
});

test('"On disk" grows when a client writes into the image', async () => {
  await page.getByTestId('image-tab').filter({ hasText: 'second.img' }).click();
  await expect(onDisk()).toHaveText('0 B');
  await page.getByTestId('serve-stop').click();
  await page.getByTestId('serve-writable').check();
  await page.getByTestId('serve-start').click();
  await expect(page.getByTestId('serve-state')).toHaveText('serving · writable');
  const uri = (await page.getByTestId('serve-uri').textContent())!.trim();
  nbdTool('nbdsh', ['-u', uri, '-c', 'h.pwrite(b"y" * 4194304, 8388608)\nh.flush()']);
  await expect(onDisk()).toHaveText('4 MiB');
  await shot(page, 'state-07-on-disk-after-write');
});

test('the confirm dialog takes the focus, keeps Tab inside and cancels on Escape', async () => {
  await page.getByTestId('image-tab').filter({ hasText: 'ro.qcow2' }).click();
  await page.getByTestId('toggle-cow').click();
  const dialog = page.getByTestId('confirm-dialog');
  await expect(dialog).toBeVisible();
  const focusInside = () => dialog.evaluate((d) => d.contains((d as unknown as { ownerDocument: { activeElement: unknown } }).ownerDocument.activeElement as never));
  await expect.poll(focusInside).toBe(true);
  for (let k = 0; k < 5; k++) {
    await page.keyboard.press('Tab');
    expect(await focusInside()).toBe(true);
  }
  await page.keyboard.press('Shift+Tab');
  expect(await focusInside()).toBe(true);
  await shot(page, 'state-08-confirm-dialog-focus');
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('chain-label')).toContainText('cow');
});

test('ten tabs keep the window its own width and the serve panel in reach', async () => {
  for (let k = 1; k <= 10; k++) await openTyped(page, makeSparseRaw(path.join(dir, `a-disk-image-with-a-long-name-${k}.img`), MiB));
  const widths = await page.evaluate(() => {
    const d = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document;
    return { scroll: d.documentElement.scrollWidth, client: d.documentElement.clientWidth };
  });
  expect(widths.scroll).toBeLessThanOrEqual(widths.client);
  await expect(page.getByTestId('serve-start')).toBeInViewport();
  await expect(page.locator('[data-testid="image-tab"][aria-selected="true"]')).toBeInViewport();
  await shot(page, 'state-09-ten-tabs');
});

test('totals of a 64 GiB sparse image are exact and equal the CLI’s', async () => {
  test.setTimeout(120_000);
  // Data at 0 and once in each of the first 19 GiB: the scan reads 1 GiB slices, and from the
  // 17th on each begins by lengthening a hole that ends a block of the model's prefix sums.
  const writes: [number, number][] = [[0, MiB]];
  for (let g = 1; g < 20; g++) writes.push([g * GiB + g * 7 * MiB, 64 * 1024]);
  const image = makeSparseRaw(path.join(dir, 'sparse-64g.img'), 64 * GiB, writes);
  await openTyped(page, image);
  await waitForCompleteMap(page);
  const panel = await panelTotals(page);
  expect(panel).toEqual(cliTotals(image));
  expect(Object.values(panel).reduce((a, b) => a + b, 0)).toBe(64 * GiB);
  await shot(page, 'state-10-exact-totals');
});

test('the axis labels stay distinct at the deepest zoom', async () => {
  await page.locator(DETAIL).focus();
  await page.locator(DETAIL).evaluate((c) => (c as unknown as { blur(): void }).blur());
  for (let k = 0; k < 30; k++) await page.keyboard.press('+');
  await expect.poll(async () => (await viewOf(page)).end - (await viewOf(page)).start).toBe(8192);
  const labels = await page.locator('.axis span').allTextContents();
  expect(new Set(labels).size, labels.join(' | ')).toBe(labels.length);
  await shot(page, 'state-11-deep-zoom-axis');
});
