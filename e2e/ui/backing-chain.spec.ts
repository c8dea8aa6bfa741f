// A qcow2 backing chain of three files, made by qemu-img and qemu-io, opened by typing its
// path: data each backing file holds is painted in that file's own tint (the legend's), apart
// from the image's own data, and the hover readout and info panel name the layers.
import { test, expect, type Page } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { backingColour, type Rgb } from '../../renderer/src/map/palette.ts';
import { ROOT, startHost, type Host } from './host.ts';
import { COLOURS, colourAt, pointAt, waitForSettledMap } from './map-page.ts';

test.describe.configure({ mode: 'serial' });

const MiB = 2 ** 20;
/** Where each file of the chain holds data (whole MiB, far wider than a pixel of the 64 MiB map). */
const BASE_ONLY = 10 * MiB; // base.qcow2 writes [0, 16M), top.qcow2 covers [4M, 6M) of it
const MID_ONLY = 24 * MiB; // mid.qcow2 writes [16M, 32M)
const TOP_DATA = 44 * MiB; // top.qcow2 writes [40M, 48M)

let dir: string;
let host: Host;
let page: Page;

function tool(command: string, args: string[]): void {
  const r = spawnSync(command, args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
}

function makeChain(): string {
  tool('qemu-img', ['create', '-q', '-f', 'qcow2', 'base.qcow2', '64M']);
  tool('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0xaa 0 16M', 'base.qcow2']);
  tool('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', 'base.qcow2', '-F', 'qcow2', 'mid.qcow2']);
  tool('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0xbb 16M 16M', 'mid.qcow2']);
  tool('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', 'mid.qcow2', '-F', 'qcow2', 'top.qcow2']);
  tool('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0xcc 4M 2M', '-c', 'write -P 0xdd 40M 8M', 'top.qcow2']);
  return path.join(dir, 'top.qcow2');
}

/** The computed background of a legend swatch as [r, g, b]. */
async function swatchColour(testId: string): Promise<Rgb> {
  const css = await page.getByTestId(testId).locator('.swatch').evaluate((el) => getComputedStyle(el as never).backgroundColor);
  const m = /rgb\((\d+), (\d+), (\d+)\)/.exec(css);
  if (!m) throw new Error(`swatch ${testId} has no rgb() background: ${css}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

declare function getComputedStyle(el: never): { backgroundColor: string };

test.beforeAll(async ({ browser }) => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'blockscope-e2e-chain-'));
  host = await startHost();
  page = await browser.newPage();
  await page.goto(host.url);
});

test.afterAll(async () => {
  await page?.close();
  await host?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('data held by each backing file has its own tint, the one the legend shows', async () => {
  const top = makeChain();
  const tabs = await page.getByTestId('image-tab').count();
  await page.getByTestId('open-input').fill(top);
  await page.getByTestId('open-input').press('Enter');
  await expect(page.getByTestId('image-tab')).toHaveCount(tabs + 1);
  await expect(page.getByTestId('info-panel')).toContainText(top);
  await expect(page.getByTestId('scan-status')).toHaveText(/map complete/, { timeout: 30_000 });
  await waitForSettledMap(page);

  const mid = await colourAt(page, MID_ONLY);
  const base = await colourAt(page, BASE_ONLY);
  const own = await colourAt(page, TOP_DATA);
  expect(own).toEqual(COLOURS.kinds.data);
  expect(mid).toEqual(backingColour(COLOURS, 1));
  expect(base).toEqual(backingColour(COLOURS, 2));
  expect(new Set([own, mid, base].map(String)).size).toBe(3);
  // The legend's swatches are painted in the map's colours, per backing file.
  expect(await swatchColour('legend-backing-1')).toEqual(mid);
  expect(await swatchColour('legend-backing-2')).toEqual(base);
  await expect(page.getByTestId('legend-backing-2')).toContainText('base.qcow2');
});

test('the hover readout names the file holding the extent', async () => {
  const at = await pointAt(page, BASE_ONLY);
  await page.mouse.move(at.x, at.y);
  await expect(page.getByTestId('hover-bin')).toContainText(/^data in backing 2 · /);
  await expect(page.getByTestId('hover-extent')).toContainText(`data · backing 2 (base.qcow2) · [0x${(6 * MiB).toString(16)}, 0x${(16 * MiB).toString(16)})`);
  const own = await pointAt(page, TOP_DATA);
  await page.mouse.move(own.x, own.y);
  await expect(page.getByTestId('hover-extent')).toContainText(`data · image (top.qcow2) · [0x${(40 * MiB).toString(16)}, 0x${(48 * MiB).toString(16)})`);
});

test('the info panel lists the chain, top first, with the data each file supplies', async () => {
  const rows = page.getByTestId('layers').locator('tbody tr');
  await expect(rows).toHaveCount(3);
  await expect(rows.nth(0)).toContainText('image');
  await expect(rows.nth(0)).toContainText('top.qcow2');
  await expect(rows.nth(0)).toContainText('10 MiB');
  await expect(rows.nth(1)).toContainText('backing 1');
  await expect(rows.nth(1)).toContainText('mid.qcow2');
  await expect(rows.nth(1)).toContainText('16 MiB');
  await expect(rows.nth(2)).toContainText('backing 2');
  await expect(rows.nth(2)).toContainText('base.qcow2');
  await expect(rows.nth(2)).toContainText('14 MiB');
  const shots = path.join(ROOT, 'test-results', 'screenshots');
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, '11-backing-chain.png') });
});
