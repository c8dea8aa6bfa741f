// The user flows both hosts run, written once: the browser spec (e2e/ui/app.spec.ts) drives them
// in Chromium against `blockscope ui`, the Electron spec (e2e/electron/app.spec.ts) in the app's
// own window. Each takes the page and what earlier flows learned (the demo layout, the served
// URI); libnbd's tools are the independent client.
import { expect, type Page } from '@playwright/test';
import type { DemoLayoutInfo } from '../../shared/ipc.ts';
import { nbdTool, nbdToolInBackground } from './host.ts';
import { COLOURS, colourAt, middleOfWidest, sampleRow, waitForSettledMap } from './map-page.ts';

/** The active image's scan has finished and the map shows it. */
export async function waitForCompleteMap(page: Page): Promise<void> {
  await expect(page.getByTestId('scan-status')).toHaveText(/map complete/, { timeout: 30_000 });
  await waitForSettledMap(page);
}

/** Data, zero and hole each in their own colour, where the demo image holds them. */
export async function expectDemoKindColours(page: Page, layout: DemoLayoutInfo): Promise<void> {
  await waitForSettledMap(page);
  expect(await colourAt(page, middleOfWidest(layout.dataRanges))).toEqual(COLOURS.kinds.data);
  expect(await colourAt(page, middleOfWidest(layout.zeroRanges))).toEqual(COLOURS.kinds.zero);
  expect(await colourAt(page, middleOfWidest(layout.holeRanges))).toEqual(COLOURS.kinds.hole);
  // Three different colours, not one colour three times.
  expect(new Set([COLOURS.kinds.data, COLOURS.kinds.zero, COLOURS.kinds.hole].map(String)).size).toBe(3);
}

/**
 * Switches cow on (the writes of later flows must not change the cached demo image on disk)
 * and serves the image writable on any free port; returns the export's URI.
 */
export async function serveWritableThroughCow(page: Page): Promise<string> {
  await page.getByTestId('toggle-cow').click();
  await expect(page.getByTestId('chain-label')).toContainText('cow');
  await page.locator('#serve-port').fill('0');
  await page.getByTestId('serve-writable').check();
  await page.getByTestId('serve-start').click();
  await expect(page.getByTestId('serve-state')).toHaveText(/serving/);
  const uri = (await page.getByTestId('serve-uri').textContent())!.trim();
  expect(uri).toMatch(/^nbd:\/\/127\.0\.0\.1:\d+\//);
  return uri;
}

/** Connects nbdsh for a few seconds: the serving panel lists it; `meanwhile` runs while it is connected. */
export async function withConnectedClient(page: Page, uri: string, meanwhile: () => Promise<void> = async () => {}): Promise<void> {
  const holder = nbdToolInBackground('nbdsh', ['-u', uri, '-c', 'import time\nh.pread(65536, 0)\ntime.sleep(6)']);
  try {
    await expect(page.getByTestId('clients').locator('tbody tr')).toHaveCount(1, { timeout: 5_000 });
    await expect(page.getByTestId('clients')).toContainText('127.0.0.1');
    await meanwhile();
  } finally {
    holder.kill();
  }
}

/** A 64 KiB write through nbdsh into the demo's widest hole is on the map within a second. */
export async function expectWriteOnMap(page: Page, layout: DemoLayoutInfo, uri: string): Promise<void> {
  await waitForSettledMap(page);
  const [holeStart, holeLength] = [...layout.holeRanges].sort((a, b) => b[1] - a[1])[0]!;
  const offset = holeStart + Math.floor(holeLength / 2 / 65536) * 65536;
  expect(await colourAt(page, offset + 32768, 'bottom')).toEqual(COLOURS.kinds.hole);
  nbdTool('nbdsh', ['-u', uri, '-c', `h.pwrite(b"x" * 65536, ${offset})`]);
  // nbdsh has returned, so the write is done: from here the map has one second.
  await expect.poll(() => colourAt(page, offset + 32768, 'bottom'), { timeout: 1_000, intervals: [50] }).toEqual(COLOURS.kinds.data);
}

/** An nbdinfo-json export of the map (however the host saved it) equals nbdinfo's own map. */
export function expectNbdinfoMap(exportedJson: string, uri: string): void {
  expect(JSON.parse(exportedJson)).toEqual(JSON.parse(nbdTool('nbdinfo', ['--map', '--json', uri])));
}

/** noextents makes the whole map data; switched off again, the zeroes come back. */
export async function expectNoextentsMapsAllData(page: Page, layout: DemoLayoutInfo, whileOn: () => Promise<void> = async () => {}): Promise<void> {
  await page.getByTestId('toggle-noextents').click();
  await expect(page.getByTestId('chain-label')).toContainText('noextents');
  await expect.poll(async () => (await sampleRow(page, 40)).every((c) => String(c) === String(COLOURS.kinds.data)), { timeout: 10_000 }).toBe(true);
  await whileOn();
  await page.getByTestId('toggle-noextents').click();
  await expect.poll(() => colourAt(page, middleOfWidest(layout.zeroRanges)), { timeout: 10_000 }).toEqual(COLOURS.kinds.zero);
}

/** Switching cow off while it holds writes asks first; discarding takes cow out of the chain. */
export async function discardCowWrites(page: Page, whileAsking: () => Promise<void> = async () => {}): Promise<void> {
  await page.getByTestId('toggle-cow').click();
  await expect(page.getByTestId('confirm-dialog')).toBeVisible();
  await whileAsking();
  await page.getByTestId('confirm-discard').click();
  await expect(page.getByTestId('confirm-dialog')).toBeHidden();
  await expect(page.getByTestId('chain-label')).not.toContainText('cow');
}

export async function stopServing(page: Page): Promise<void> {
  await page.getByTestId('serve-stop').click();
  await expect(page.getByTestId('serve-state')).toHaveText('stopped');
}
