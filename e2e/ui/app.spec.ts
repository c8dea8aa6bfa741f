// The app end to end: the real browser UI host with the real services and NBD server, the
// built renderer in Debian's Chromium, and libnbd's own tools as the independent client.
// The flows build on each other (serve, then write, then toggle), so they run in order on one
// page and one host; those the Electron spec runs too are in flows.ts.
import { test, expect, type Browser, type Page } from '@playwright/test';
import { closeSync, mkdirSync, openSync, readFileSync, readSync } from 'node:fs';
import path from 'node:path';
import type { DemoLayoutInfo } from '../../shared/ipc.ts';
import { discardCowWrites, expectDemoKindColours, expectNbdinfoMap, expectNoextentsMapsAllData, expectWriteOnMap, serveWritableThroughCow, stopServing, waitForCompleteMap, withConnectedClient } from './flows.ts';
import { nbdTool, ROOT, startHost, type Host } from './host.ts';
import { COLOURS, colourAt, middleOfWidest, pointAt, viewOf, waitForSettledMap } from './map-page.ts';

test.describe.configure({ mode: 'serial' });

const SHOTS = path.join(ROOT, 'test-results', 'screenshots');
let host: Host;
let page: Page;
let layout: DemoLayoutInfo;
let uri: string;

async function shot(name: string, p: Page = page): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await p.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

async function openApp(browser: Browser, colorScheme: 'dark' | 'light' = 'dark'): Promise<Page> {
  const p = await browser.newPage({ colorScheme });
  p.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  await p.goto(host.url);
  return p;
}

test.beforeAll(async ({ browser }) => {
  host = await startHost();
  page = await openApp(browser);
});

test.afterAll(async () => {
  await page?.close();
  await host?.stop();
});

test('opens the demo image and shows what it is', async () => {
  if ((await page.getByTestId('image-tab').count()) === 0) await page.getByTestId('open-demo').first().click();
  await expect(page.getByTestId('image-tab')).toHaveCount(1);
  await waitForCompleteMap(page);
  const found = await host.invoke('app.demoLayout', {});
  expect(found).not.toBeNull();
  layout = found!;
  await expect(page.getByTestId('info-panel')).toContainText('GPT');
  await expect(page.getByTestId('partitions').locator('tbody tr')).toHaveCount(layout.partitions.length);
  for (const p of layout.partitions.filter((p) => p.label)) await expect(page.getByTestId('partitions')).toContainText(p.label!);
  await shot('01-demo-image');
});

test('paints data, zero and hole in their own colours at the demo layout offsets', async () => {
  await expectDemoKindColours(page, layout);
});

test('hover shows the exact range and kind under the pointer', async () => {
  const [start, length] = [...layout.dataRanges].sort((a, b) => b[1] - a[1])[0]!;
  const at = await pointAt(page, start + length / 2);
  await page.mouse.move(at.x, at.y);
  await expect(page.getByTestId('hover-bin')).toContainText(/^data · \[0x[0-9a-f]+, 0x[0-9a-f]+\)/);
  // The extent readout names the whole extent holding the byte, in exact hex.
  await expect(page.getByTestId('hover-extent')).toContainText(`data · [0x${start.toString(16)}, 0x${(start + length).toString(16)})`);
  await shot('02-hover-readout');
});

test('zooming narrows the visible range and keeps colours exact', async () => {
  const before = await viewOf(page);
  const target = middleOfWidest(layout.zeroRanges);
  const at = await pointAt(page, target);
  await page.mouse.move(at.x, at.y);
  for (let k = 0; k < 4; k++) await page.mouse.wheel(0, -300);
  await expect.poll(async () => (await viewOf(page)).end - (await viewOf(page)).start).toBeLessThan((before.end - before.start) / 4);
  const after = await viewOf(page);
  expect(after.start).toBeLessThanOrEqual(target);
  expect(after.end).toBeGreaterThan(target);
  await expect(page.getByTestId('view-range')).not.toHaveText(/0x0–0x4000000/);
  await waitForSettledMap(page);
  expect(await colourAt(page, target)).toEqual(COLOURS.kinds.zero);
  await shot('03-zoomed');
  await page.keyboard.press('0');
  await expect.poll(() => viewOf(page)).toEqual({ start: 0, end: layout.size });
  await page.keyboard.press('+');
  await expect.poll(() => viewOf(page)).toEqual({ start: layout.size / 4, end: (layout.size * 3) / 4 });
  await page.keyboard.press('0');
  await expect.poll(() => viewOf(page)).toEqual({ start: 0, end: layout.size });
});

test('clicking a block shows its bytes read through the chain', async () => {
  await waitForSettledMap(page);
  const at = await pointAt(page, middleOfWidest(layout.dataRanges));
  await page.mouse.click(at.x, at.y);
  const title = await page.getByTestId('hex-view').locator('h2').textContent();
  const offset = parseInt(/Bytes at 0x([0-9a-f]+)/.exec(title ?? '')![1]!, 16);
  // The oracle: the same 16 bytes read straight from the image file (the chain is just "file").
  const [image] = await host.invoke('images.list', {});
  const expected = Buffer.alloc(16);
  const fd = openSync(image!.path!, 'r');
  readSync(fd, expected, 0, 16, offset);
  closeSync(fd);
  const hex = [...expected].map((b) => b.toString(16).padStart(2, '0'));
  await expect(page.getByTestId('hex-view').locator('.hex .bytes').first()).toHaveText(`${hex.slice(0, 8).join(' ')}  ${hex.slice(8).join(' ')}`);
  await shot('04-hex-view');
});

test('serving lists a connected nbd client and the stats move', async () => {
  uri = await serveWritableThroughCow(page);
  await withConnectedClient(page, uri, async () => {
    nbdTool('nbdinfo', ['--map', uri]);
    await expect(page.getByTestId('chart-ops-latest')).not.toHaveText('idle');
    await expect.poll(async () => Number(await page.getByTestId('client-requests').first().textContent())).toBeGreaterThan(0);
    await shot('05-serving-with-client');
  });
});

test('a write through nbdsh shows on the map within a second', async () => {
  await expectWriteOnMap(page, layout, uri);
  await shot('06-after-write');
});

test('the JSON export equals nbdinfo --map --json of the same export', async () => {
  const download = page.waitForEvent('download');
  await page.getByTestId('export-map').selectOption('nbdinfo-json');
  expectNbdinfoMap(readFileSync(await (await download).path(), 'utf8'), uri);
});

test('the CSV and PNG exports hold the map', async () => {
  const csvDownload = page.waitForEvent('download');
  await page.getByTestId('export-map').selectOption('csv');
  const csv = readFileSync(await (await csvDownload).path(), 'utf8').trim().split('\n');
  const oracle = JSON.parse(nbdTool('nbdinfo', ['--map', '--json', uri])) as unknown[];
  // One header line, then one line per extent nbdinfo reports.
  expect(csv.length).toBe(oracle.length + 1);

  const pngDownload = page.waitForEvent('download');
  await page.getByTestId('export-map').selectOption('png');
  const png = readFileSync(await (await pngDownload).path());
  expect(png.subarray(1, 4).toString()).toBe('PNG');
  const width = await page.locator('[data-testid="map-detail"]').evaluate((c) => (c as unknown as { width: number }).width);
  expect(png.readUInt32BE(16)).toBe(width);
});

test('noextents turns the whole map into data', async () => {
  await expectNoextentsMapsAllData(page, layout, () => shot('07-noextents'));
});

test('switching cow off with unsaved writes asks first', async () => {
  await discardCowWrites(page, () => shot('08-confirm-discard'));
});

test('stop serving', async () => {
  await stopServing(page);
});

test('the light theme follows the system', async ({ browser }) => {
  const light = await openApp(browser, 'light');
  await expect(light.getByTestId('image-tab')).toHaveCount(1);
  await waitForSettledMap(light);
  const { PALETTES } = await import('../../renderer/src/map/palette.ts');
  expect(await colourAt(light, middleOfWidest(layout.dataRanges))).toEqual(PALETTES.light.kinds.data);
  await shot('09-light-theme', light);
  await light.close();
});
