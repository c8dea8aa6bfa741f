// Opening what people type (~/…, file:// URIs), the open field following the tabs, the note a
// file nothing was recognised in gets, and the whole window at 1024 px wide.
import { test, expect, type Locator, type Page } from '@playwright/test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startHost, type Host } from './host.ts';
import { MiB, shot } from './state-page.ts';

test.describe.configure({ mode: 'serial' });

const RAW_NOTE = 'opened as raw (no image format recognised)';

let host: Host;
let page: Page;
/** The engine's HOME for this spec: the host inherits the environment it is started with. */
let home: string;
let dir: string;
let mbrImage: string;

/** A 4 MiB raw disk whose MBR holds one Linux partition: raw, but recognisably a disk. */
function writeMbrDisk(file: string): string {
  const disk = Buffer.alloc(4 * MiB, 0x5a);
  disk.fill(0, 0, 512);
  disk[446 + 4] = 0x83;
  disk.writeUInt32LE(2048, 446 + 8);
  disk.writeUInt32LE(4096, 446 + 12);
  disk.writeUInt16LE(0xaa55, 510);
  writeFileSync(file, disk);
  return file;
}

test.beforeAll(async ({ browser }) => {
  home = mkdtempSync(path.join(os.tmpdir(), 'bs-open-layout-home-'));
  dir = mkdtempSync(path.join(os.tmpdir(), 'bs-open-layout-'));
  mkdirSync(path.join(home, 'disks'));
  mbrImage = writeMbrDisk(path.join(home, 'disks', 'mbr disk.img'));
  const realHome = process.env.HOME;
  process.env.HOME = home;
  try {
    host = await startHost();
  } finally {
    process.env.HOME = realHome;
  }
  page = await browser.newPage();
  await page.goto(host.url);
});

test.afterAll(async () => {
  await page?.close();
  await host?.stop();
  rmSync(home, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

const field = () => page.getByTestId('open-input');
const activeTab = () => page.locator('[data-testid="image-tab"][aria-selected="true"]');

/** Types into the open field and waits for a new tab titled `title` to be the active one. */
async function typeAndOpen(typed: string, title: string): Promise<void> {
  const tabs = await page.getByTestId('image-tab').count();
  await field().fill(typed);
  await field().press('Enter');
  await expect(page.getByTestId('image-tab')).toHaveCount(tabs + 1);
  await expect(activeTab()).toContainText(title);
}

test('~/… opens under the engine home, and the field then shows the full path', async () => {
  await typeAndOpen('~/disks/mbr disk.img', 'mbr disk.img');
  await expect(field()).toHaveValue(mbrImage);
  const info = page.getByTestId('info-panel');
  await expect(info).toContainText(mbrImage);
  await expect(info).toContainText('MBR · 1');
  // A raw disk with a partition table was recognised as a disk: no "opened as raw" note.
  await expect(page.getByTestId('raw-fallback')).toHaveCount(0);
  await shot(page, 'open-layout-01-home-path');
});

test('a percent-encoded file:// URI opens the file it names', async () => {
  const file = path.join(dir, 'a b#é.img');
  writeMbrDisk(file);
  const uri = `file://${dir.split('/').map(encodeURIComponent).join('/')}/a%20b%23%C3%A9.img`;
  await typeAndOpen(uri, 'a b#é.img');
  await expect(field()).toHaveValue(file);
  await expect(page.getByTestId('info-panel')).toContainText(file);
  await shot(page, 'open-layout-02-file-uri');
});

test('a file:// URI on another host is refused, naming the host, and the typing stays', async () => {
  const tabs = await page.getByTestId('image-tab').count();
  await field().fill('file://nas.example/share/disk.img');
  await field().press('Enter');
  await expect(page.getByTestId('error-banner')).toContainText("names the host 'nas.example'; only local files open");
  await expect(page.getByTestId('image-tab')).toHaveCount(tabs);
  await expect(field()).toHaveValue('file://nas.example/share/disk.img');
  await shot(page, 'open-layout-03-other-host');
  await page.getByTestId('error-banner').getByRole('button', { name: 'Dismiss' }).click();
});

test('the field follows the active tab', async () => {
  const file = path.join(dir, 'a b#é.img');
  await page.getByTestId('image-tab').filter({ hasText: 'mbr disk.img' }).click();
  await expect(field()).toHaveValue(mbrImage);
  await page.getByTestId('image-tab').filter({ hasText: 'a b#é.img' }).click();
  await expect(field()).toHaveValue(file);
  // Typing then opens a new tab; the old one keeps its image.
  const garbage = path.join(dir, 'garbage.bin');
  writeFileSync(garbage, Buffer.alloc(MiB, 'not a disk image at all '));
  await typeAndOpen(garbage, 'garbage.bin');
  await page.getByTestId('image-tab').filter({ hasText: 'mbr disk.img' }).click();
  await expect(field()).toHaveValue(mbrImage);
  await shot(page, 'open-layout-04-field-follows-tabs');
});

test('a file nothing is recognised in says it opened as raw', async () => {
  await page.getByTestId('image-tab').filter({ hasText: 'garbage.bin' }).click();
  await expect(page.getByTestId('raw-fallback')).toHaveText(RAW_NOTE);
  await expect(page.getByTestId('raw-fallback')).toBeVisible();
  await shot(page, 'open-layout-05-raw-fallback');
});

/** Every panel of the window, as the user sees them. */
function panels(): Record<string, Locator> {
  return {
    toolbar: page.locator('header.toolbar'),
    tabs: page.getByRole('tablist', { name: 'Open images' }),
    filters: page.getByTestId('filter-sidebar'),
    info: page.getByTestId('info-panel'),
    map: page.getByRole('region', { name: 'Allocation map' }),
    bytes: page.getByRole('region', { name: 'Bytes' }),
    serve: page.getByTestId('serve-panel'),
    stats: page.getByTestId('stats-panel'),
  };
}

type Box = { x: number; y: number; width: number; height: number };
const overlaps = (a: Box, b: Box) => a.x + a.width > b.x + 0.5 && b.x + b.width > a.x + 0.5 && a.y + a.height > b.y + 0.5 && b.y + b.height > a.y + 0.5;

/** Each panel lies within the window's width, is reachable by scrolling, and overlaps no other. */
async function expectUsableAt(width: number, height: number): Promise<void> {
  await page.setViewportSize({ width, height });
  const scroll = await page.evaluate(() => {
    const w = globalThis as unknown as { innerWidth: number; document: { scrollingElement: { scrollWidth: number } } };
    return { scrollWidth: w.document.scrollingElement.scrollWidth, innerWidth: w.innerWidth };
  });
  expect(scroll.scrollWidth).toBeLessThanOrEqual(scroll.innerWidth);
  const boxes: [string, Box][] = [];
  for (const [name, panel] of Object.entries(panels())) {
    await panel.scrollIntoViewIfNeeded();
    await expect(panel, name).toBeInViewport();
    const box = (await panel.boundingBox())!;
    expect.soft(box.x, `${name} left edge`).toBeGreaterThanOrEqual(0);
    expect.soft(box.x + box.width, `${name} right edge`).toBeLessThanOrEqual(width);
    expect.soft(box.width, `${name} width`).toBeGreaterThan(200);
    // Measured relative to the workspace, so its scrolling moves every panel alike.
    const top = await panel.evaluate((el) => el.getBoundingClientRect().top + (el.closest('.workspace')?.scrollTop ?? 0));
    boxes.push([name, { ...box, y: top }]);
  }
  // The map is what the window is for: it keeps most of the width rather than a third.
  expect.soft(Object.fromEntries(boxes).map!.width, 'map width').toBeGreaterThanOrEqual(width * 0.6);
  for (const [i, [a, boxA]] of boxes.entries()) {
    for (const [b, boxB] of boxes.slice(i + 1)) expect.soft(overlaps(boxA, boxB), `${a} overlaps ${b}`).toBe(false);
  }
  expect(test.info().errors).toEqual([]);
}

test('at 1024 px every panel is within the window and serving starts', async () => {
  await page.getByTestId('image-tab').filter({ hasText: 'mbr disk.img' }).click();
  await expectUsableAt(1024, 700);
  await page.locator('.workspace').evaluate((el) => el.scrollTo(0, 0));
  await shot(page, 'open-layout-06-1024x700');
  await page.locator('#serve-port').fill('0');
  await page.getByTestId('serve-start').click();
  await expect(page.getByTestId('serve-state')).toHaveText(/^serving/);
  await expect(page.getByTestId('serve-uri')).toBeVisible();
  await shot(page, 'open-layout-07-1024x700-serving');
  await expectUsableAt(1024, 768);
  await page.locator('.workspace').evaluate((el) => el.scrollTo(0, 0));
  await shot(page, 'open-layout-08-1024x768');
  await page.getByTestId('serve-stop').click();
  await expect(page.getByTestId('serve-state')).toHaveText('stopped');
});
