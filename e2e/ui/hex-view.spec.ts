// The bytes panel as a hex editor's user works it: the clicked byte under the cursor, Enter
// over the map, go to an offset, select with the mouse, read the data inspector, copy, save
// a range to a file and find bytes and text through the chain. The image holds known bytes
// at known offsets, so every check compares with what was written.
import { test, expect, type Page, type BrowserContext } from '@playwright/test';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { waitForCompleteMap } from './flows.ts';
import { startHost, type Host } from './host.ts';
import { pointAt, viewOf } from './map-page.ts';
import { MiB, makeSparseRaw, openTyped, shot } from './state-page.ts';

test.describe.configure({ mode: 'serial' });

const SIZE = 8 * MiB;
const LABEL = Buffer.from('BLOCKSCOPE-HEX!!');
const COUNTING = Buffer.from(Array.from({ length: 16 }, (_, k) => k + 1));
// The EFI System partition's type GUID as GPT stores it (C12A7328-F81F-11D2-BA4B-00A0C93EC93B).
const EFI_GUID = Buffer.from('28732ac11ff8d211ba4b00a0c93ec93b', 'hex');
const DEADBEEF_AT = 0x1ffe; // straddles the 4 KiB boundary at 0x2000
const TEXT = 'Find Me Here';
const TEXT_AT = 5 * MiB + 0x10;

let dir: string;
let host: Host;
let context: BrowserContext;
let page: Page;
let image: Buffer;

function writeImage(file: string): Buffer {
  makeSparseRaw(file, SIZE);
  const fd = openSync(file, 'r+');
  const put = (bytes: Buffer, at: number) => writeSync(fd, bytes, 0, bytes.length, at);
  put(LABEL, 0x1000);
  put(COUNTING, 0x1010);
  put(EFI_GUID, 0x1020);
  put(Buffer.from('deadbeef', 'hex'), DEADBEEF_AT);
  put(Buffer.from(TEXT), TEXT_AT);
  closeSync(fd);
  return readFileSync(file);
}

test.beforeAll(async ({ browser }) => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'blockscope-e2e-hex-'));
  const file = path.join(dir, 'hex.img');
  image = writeImage(file);
  host = await startHost();
  // Tall enough that the bytes card is on screen whole: a drag near the window's bottom edge
  // lands a row off (left for the app issue's notes).
  context = await browser.newContext({ viewport: { width: 1400, height: 1600 }, permissions: ['clipboard-read', 'clipboard-write'], acceptDownloads: true });
  page = await context.newPage();
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  await page.goto(host.url);
  await expect(page.getByTestId('image-tab')).toHaveCount(1);
  await openTyped(page, file);
  await waitForCompleteMap(page);
});

test.afterAll(async () => {
  await context?.close();
  await host?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const hexView = () => page.getByTestId('hex-view');
const byteSpan = (offset: number) => hexView().locator(`.hex .bytes span[data-o="${offset}"]`);
const asciiSpan = (offset: number) => hexView().locator(`.hex .ascii span[data-o="${offset}"]`);
const hex2 = (offset: number) => image[offset]!.toString(16).padStart(2, '0');

/** The cursor's offset as the selection line prints it. */
async function cursorOffset(): Promise<number> {
  const text = await page.getByTestId('hex-selection').textContent();
  return parseInt(/cursor 0x([0-9a-f]+)/.exec(text ?? '')![1]!, 16);
}

async function goTo(where: string): Promise<void> {
  await page.getByTestId('hex-goto').fill(where);
  await page.getByTestId('hex-goto').press('Enter');
}

test('a click on the map puts the cursor on the exact byte, in both columns', async () => {
  const at = await pointAt(page, 3 * MiB + 1234);
  await page.mouse.click(at.x, at.y);
  await expect(page.getByTestId('hex-selection')).toContainText('cursor 0x');
  const offset = await cursorOffset();
  // With the pointer off the map, its readout names the byte the cursor is on.
  await page.mouse.move(5, 5);
  await expect(page.getByTestId('selected-offset')).toContainText(`0x${offset.toString(16)}`);
  await expect(hexView().locator('.hex .bytes .cur')).toHaveCount(1);
  await expect(byteSpan(offset)).toHaveClass(/cur/);
  await expect(byteSpan(offset)).toHaveText(hex2(offset));
  await expect(asciiSpan(offset)).toHaveClass(/cur/);
  await expect(hexView().locator('h2')).toContainText(`Bytes at 0x${(Math.floor(offset / 512) * 512).toString(16)}`);
  await shot(page, 'hex-01-clicked-byte');
});

test('Enter over the map opens the bytes under the pointer', async () => {
  const view = await viewOf(page);
  const target = 6 * MiB;
  const at = await pointAt(page, target);
  await page.mouse.move(at.x, at.y);
  await page.keyboard.press('Enter');
  await expect.poll(cursorOffset).not.toBe(3 * MiB + 1234);
  // One pixel of the map spans (view / width) bytes: the cursor lands within a couple of them.
  const box = (await page.getByTestId('map-detail').boundingBox())!;
  const perPixel = (view.end - view.start) / box.width;
  expect(Math.abs((await cursorOffset()) - target)).toBeLessThanOrEqual(2 * perPixel);
  await shot(page, 'hex-02-enter-on-map');
});

test('go to an offset in the bytes, in hex or with units; a bad one is said in words', async () => {
  await goTo('100M');
  await expect(page.getByTestId('hex-goto-error')).toHaveText('100 MiB is past the end of the 8 MiB disk');
  await goTo('4K');
  await expect(page.getByTestId('hex-goto-error')).toHaveCount(0);
  await expect(hexView().locator('h2')).toContainText('Bytes at 0x1000');
  expect(await cursorOffset()).toBe(0x1000);
  await goTo('0x1005');
  await expect(byteSpan(0x1005)).toHaveClass(/cur/);
  await expect(byteSpan(0x1005)).toHaveText(hex2(0x1005));
  await shot(page, 'hex-03-go-to-offset');
});

test('shift+click selects a range, highlighted in both columns, and the inspector reads it', async () => {
  await byteSpan(0x1010).click();
  await byteSpan(0x1017).click({ modifiers: ['Shift'] });
  await expect(page.getByTestId('hex-selection')).toContainText('selected 8 bytes');
  await expect(hexView().locator('.hex .bytes .sel')).toHaveCount(8);
  await expect(hexView().locator('.hex .ascii .sel')).toHaveCount(8);
  // 01 02 03 04 05 06 07 08: u32 LE 0x04030201, BE 0x01020304; u64 LE 0x0807060504030201.
  await expect(page.getByTestId('inspect-u8').locator('td')).toHaveText('1');
  await expect(page.getByTestId('inspect-u32').locator('td')).toHaveText(['67305985', '16909060']);
  await expect(page.getByTestId('inspect-u64').locator('td')).toHaveText(['578437695752307201', '72623859790382856']);
  // Eight bytes hold no GUID.
  await expect(page.getByTestId('inspect-GUID')).toHaveCount(0);
  // Shift+arrow grows it by one byte; the map does not pan.
  const view = await viewOf(page);
  await page.keyboard.press('Shift+ArrowRight');
  await expect(page.getByTestId('hex-selection')).toContainText('selected 9 bytes');
  expect(await viewOf(page)).toEqual(view);
  await shot(page, 'hex-04-selection-inspector');
});

test('the cursor on a GPT type GUID reads it in the mixed-endian layout', async () => {
  await byteSpan(0x1020).click();
  await expect(page.getByTestId('inspect-GUID').locator('td')).toHaveText('C12A7328-F81F-11D2-BA4B-00A0C93EC93B');
  await shot(page, 'hex-05-guid');
});

test('a drag selects, and copy puts the bytes on the clipboard as hex or as text', async () => {
  // hover() moves the real mouse to each span's centre (scrolling it into view first).
  await byteSpan(0x1000).hover();
  await page.mouse.down();
  await byteSpan(0x1008).hover();
  await byteSpan(0x100f).hover();
  await page.mouse.up();
  await expect(page.getByTestId('hex-selection')).toContainText('selected 16 bytes');
  await page.getByTestId('hex-copy-text').click();
  await expect(page.getByTestId('hex-status')).toHaveText('copied 16 bytes as text');
  expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(LABEL.toString());
  await page.getByTestId('hex-copy-hex').click();
  await expect(page.getByTestId('hex-status')).toHaveText('copied 16 bytes as hex');
  expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe([...LABEL].map((b) => b.toString(16).padStart(2, '0')).join(' '));
  await shot(page, 'hex-06-copied');
});

test('save a range larger than one read to a named file holding exactly its bytes', async () => {
  // 0x1000 .. 0x12fff: 72 KiB, more than one 64 KiB hex.read. The anchor stays while paging.
  const prev = hexView().getByRole('button', { name: '◀ prev' });
  // Retried as a whole: once in a CI run the window went back to block 0 mid-way (prev then
  // disabled); not reproduced since, noted in the app issue.
  await expect(async () => {
    await goTo('0x12fff');
    await byteSpan(0x12fff).click();
    for (let k = 0; k < 20 && (await byteSpan(0x1000).count()) === 0 && (await prev.isEnabled()); k++) await prev.click();
    await byteSpan(0x1000).click({ modifiers: ['Shift'], timeout: 2_000 });
    await expect(page.getByTestId('hex-selection')).toContainText('selected 73728 bytes', { timeout: 2_000 });
  }).toPass({ timeout: 60_000 });
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('hex-save').click()]);
  expect(download.suggestedFilename()).toBe('hex.img-0x1000-0x12fff.bin');
  const saved = readFileSync(await download.path());
  expect(saved.equals(image.subarray(0x1000, 0x13000))).toBe(true);
  await expect(page.getByTestId('hex-status')).toHaveText('saved 72 KiB as hex.img-0x1000-0x12fff.bin');
  await shot(page, 'hex-07-saved-range');
});

test('find bytes and text forward through the chain, past holes and 4 KiB boundaries', async () => {
  await goTo('0x1000');
  await page.getByTestId('hex-search').fill('de ad be ef');
  await page.getByTestId('hex-find').click();
  await expect(page.getByTestId('hex-search-status')).toHaveText('found at 0x1ffe');
  expect(await cursorOffset()).toBe(DEADBEEF_AT + 3);
  await expect(hexView().locator('.hex .bytes .sel')).toHaveText(['de', 'ad', 'be', 'ef']);
  await shot(page, 'hex-08-found-bytes');

  await page.getByTestId('hex-search-mode').selectOption('text');
  await page.getByTestId('hex-search').fill(TEXT);
  await page.getByTestId('hex-find').click();
  await expect(page.getByTestId('hex-search-status')).toHaveText(`found at 0x${TEXT_AT.toString(16)}`);
  await expect(hexView().locator('.hex .ascii .sel')).toHaveText([...TEXT]);
  await shot(page, 'hex-09-found-text');

  // Find next from the hit: there is no second one.
  await page.getByTestId('hex-find').click();
  await expect(page.getByTestId('hex-search-status')).toContainText(`not found between 0x${(TEXT_AT + 1).toString(16)} and the end of the disk`);
  await page.getByTestId('hex-search-mode').selectOption('hex');
  await page.getByTestId('hex-search').fill('de a');
  await page.getByTestId('hex-find').click();
  await expect(page.getByTestId('hex-search-status')).toHaveText('hex bytes take two digits each (0a, not a)');
  await shot(page, 'hex-10-not-found');
});
