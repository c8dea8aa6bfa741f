// "Compare with…": an image against a modified copy. The changed block shows as "differ" on
// the diff map, previous/next walk the differences, and the totals equal what
// `blockscope compare --json` prints for the same two files. Served and written with nbdsh,
// the diff updates by itself (live), and the two-sided hex view marks exactly the written bytes.
import { test, expect, type Page } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { diffColours } from '../../renderer/src/compare/diff-map.ts';
import type { Rgb } from '../../renderer/src/map/palette.ts';
import { serveWritableThroughCow } from './flows.ts';
import { nbdTool, ROOT, startHost, type Host } from './host.ts';
import { COLOURS } from './map-page.ts';
import { MiB, makeSparseRaw, openTyped, shot } from './state-page.ts';

test.describe.configure({ mode: 'serial' });

interface CanvasLike {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
}
declare const document: { querySelector(selector: string): CanvasLike | null };

const SIZE = 64 * MiB;
const CHANGED = 8 * MiB + 4096;
const ONLY_B = 32 * MiB;
const DIFF = diffColours(COLOURS, 'dark');

let host: Host;
let page: Page;
let dir: string;
let a: string;
let b: string;
/** Test 3's writable cow export of A, and the copy of A's file it is compared with. */
let uri: string;
let copy: string;

function patch(file: string, offset: number, bytes: Buffer): void {
  const fd = openSync(file, 'r+');
  writeSync(fd, bytes, 0, bytes.length, offset);
  closeSync(fd);
}

test.beforeAll(async ({ browser }) => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'blockscope-compare-'));
  a = makeSparseRaw(path.join(dir, 'a.img'), SIZE, [[0, MiB], [8 * MiB, 256 * 1024]]);
  b = path.join(dir, 'b.img');
  expect(spawnSync('cp', ['--sparse=always', a, b]).status).toBe(0);
  patch(b, CHANGED, Buffer.alloc(4096, 0xa5)); // inside A's 0x5a run: 4 KiB differ
  patch(b, ONLY_B, Buffer.alloc(65536, 0)); // zeroes written where A has a hole: allocated in B only
  host = await startHost();
  page = await browser.newPage();
  await page.goto(host.url);
});

test.afterAll(async () => {
  await page?.close();
  await host?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The diff map's colour at byte `offset`, on its bottom row (where differences stack). */
async function diffColourAt(offset: number): Promise<Rgb> {
  return page.evaluate(
    ({ offset, size }) => {
      const c = document.querySelector('[data-testid="compare-map"]')!;
      const x = Math.floor((offset / size) * c.width);
      const d = c.getContext('2d')!.getImageData(x, c.height - 1, 1, 1).data;
      return [d[0]!, d[1]!, d[2]!] as const;
    },
    { offset, size: SIZE },
  );
}

test('compare an image with a modified copy: the changed block is "differ", totals match the CLI', async () => {
  await openTyped(page, a);
  await page.getByTestId('compare-open').click();
  await page.getByTestId('compare-other').fill(b);
  await shot(page, 'compare-01-form');
  await page.getByTestId('compare-run').click();
  await expect(page.getByTestId('compare-verdict')).toHaveAttribute('data-identical', 'false');
  await expect(page.getByTestId('compare-verdict')).toContainText('b.img');
  const current = page.getByTestId('compare-current');
  await expect(current).toHaveAttribute('data-class', 'differ');
  await expect(current).toHaveAttribute('data-offset', String(CHANGED));
  await expect(current).toHaveAttribute('data-length', '4096');
  expect(await diffColourAt(CHANGED)).toEqual(DIFF.differ);
  expect(await diffColourAt(ONLY_B)).toEqual(DIFF['only-b']);
  expect(await diffColourAt(16 * MiB)).toEqual(DIFF.identical);
  await page.getByTestId('compare-panel').scrollIntoViewIfNeeded();
  await shot(page, 'compare-02-diff-map');

  const cli = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'blockscope.mjs'), 'compare', '--json', a, b], { encoding: 'utf8' });
  expect(cli.status).toBe(1);
  const totals = (JSON.parse(cli.stdout) as { totals: Record<string, number> }).totals;
  for (const [cls, key] of [['identical', 'identical'], ['differ', 'differ'], ['only-a', 'only_a'], ['only-b', 'only_b']] as const) {
    await expect(page.getByTestId(`compare-total-${cls}`)).toHaveAttribute('data-bytes', String(totals[key]));
  }
  expect(totals.differ).toBe(4096);
});

test('next and previous walk the differences and move the selection there', async () => {
  const current = page.getByTestId('compare-current');
  await expect(page.getByTestId('compare-prev')).toBeDisabled();
  await page.getByTestId('compare-next').click();
  await expect(current).toHaveAttribute('data-class', 'only-b');
  await expect(current).toHaveAttribute('data-offset', String(ONLY_B));
  await page.mouse.move(0, 0); // off the map: the readout describes the selected byte
  await expect(page.getByTestId('selected-offset')).toContainText(`0x${ONLY_B.toString(16)} `);
  await expect(page.getByTestId('compare-next')).toBeDisabled();
  await page.getByTestId('compare-panel').scrollIntoViewIfNeeded();
  await shot(page, 'compare-03-next');
  await page.getByTestId('compare-prev').click();
  await expect(current).toHaveAttribute('data-offset', String(CHANGED));
  await expect(page.getByTestId('selected-offset')).toContainText(`0x${CHANGED.toString(16)} `);
});

test('writes through a cow export of the image show as "differ" against a copy of its file', async () => {
  copy = path.join(dir, 'a-copy.img');
  expect(spawnSync('cp', ['--sparse=always', a, copy]).status).toBe(0);
  uri = await serveWritableThroughCow(page);
  const written = 16 * MiB;
  nbdTool('nbdsh', ['-u', uri, '-c', `h.pwrite(b"x" * 65536, ${written})`]);
  await page.getByTestId('compare-other').fill(copy);
  await page.getByTestId('compare-run').click();
  await expect(page.getByTestId('compare-verdict')).toContainText('a-copy.img');
  const current = page.getByTestId('compare-current');
  await expect(current).toHaveAttribute('data-offset', String(written));
  await expect(current).toHaveAttribute('data-length', '65536');
  await expect(current).toHaveAttribute('data-class', 'differ');
  await expect(page.getByTestId('compare-next')).toBeDisabled(); // the write is the only difference
  await expect(page.getByTestId('compare-total-differ')).toHaveAttribute('data-bytes', '65536');
  expect(await diffColourAt(written)).toEqual(DIFF.differ);
  await page.getByTestId('compare-panel').scrollIntoViewIfNeeded();
  await shot(page, 'compare-04-cow-writes');
});

/** `blockscope compare --json A B` totals, keyed as the UI's classes. */
function cliTotals(x: string, y: string): Record<string, number> {
  const cli = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'blockscope.mjs'), 'compare', '--json', x, y], { encoding: 'utf8' });
  const t = (JSON.parse(cli.stdout) as { totals: Record<string, number> }).totals;
  return { identical: t.identical!, differ: t.differ!, 'only-a': t.only_a!, 'only-b': t.only_b! };
}

const LIVE = 24 * MiB + 100;
const LIVE_LENGTH = 300;

test('live: a write through the served export turns "differ" without comparing again; totals match the CLI', async () => {
  await expect(page.getByTestId('compare-live')).toHaveAttribute('data-updates', '0');
  await expect(page.getByTestId('compare-live')).toContainText('A served');
  // A hole in both files: 300 bytes of 'w' inside one 64 KiB cow block.
  nbdTool('nbdsh', ['-u', uri, '-c', `h.pwrite(b"w" * ${LIVE_LENGTH}, ${LIVE})`]);
  await expect(page.getByTestId('compare-total-differ')).toHaveAttribute('data-bytes', String(65536 + LIVE_LENGTH), { timeout: 5_000 });
  await expect(page.getByTestId('compare-live')).not.toHaveAttribute('data-updates', '0');
  await expect(page.getByTestId('compare-live')).toContainText('updated');
  expect(await diffColourAt(LIVE)).toEqual(DIFF.differ);
  const cli = cliTotals(uri, copy);
  for (const cls of ['identical', 'differ', 'only-a', 'only-b']) {
    await expect(page.getByTestId(`compare-total-${cls}`)).toHaveAttribute('data-bytes', String(cli[cls]));
  }
  // The cow block around the write is allocated in A only; the written bytes differ.
  const current = page.getByTestId('compare-current');
  await page.getByTestId('compare-next').click();
  await expect(current).toHaveAttribute('data-class', 'only-a');
  await expect(current).toHaveAttribute('data-offset', String(24 * MiB));
  await page.getByTestId('compare-next').click();
  await expect(current).toHaveAttribute('data-class', 'differ');
  await expect(current).toHaveAttribute('data-offset', String(LIVE));
  await expect(current).toHaveAttribute('data-length', String(LIVE_LENGTH));
  await page.getByTestId('compare-panel').scrollIntoViewIfNeeded();
  await shot(page, 'compare-05-live');
});

/** The offsets marked as differing in one side's hex column. */
async function markedOffsets(side: 'a' | 'b'): Promise<number[]> {
  const offsets = await page.getByTestId(`compare-hex-${side}`).locator('.bytes .diff').evaluateAll((els) => els.map((e) => Number((e as unknown as { dataset: { o: string } }).dataset.o)));
  return offsets;
}

const span = (start: number, n: number) => Array.from({ length: n }, (_, k) => start + k);

test('the two-sided hex view marks exactly the written bytes, on both sides, and updates live', async () => {
  await page.getByTestId('compare-hex-toggle').click();
  const count = page.getByTestId('compare-hex-count');
  await expect(count).toHaveAttribute('data-count', String(LIVE_LENGTH));
  expect(await markedOffsets('a')).toEqual(span(LIVE, LIVE_LENGTH));
  expect(await markedOffsets('b')).toEqual(span(LIVE, LIVE_LENGTH));
  await expect(page.getByTestId('compare-hex-a').locator(`[data-o="${LIVE}"]`).first()).toHaveText('77');
  await expect(page.getByTestId('compare-hex-b').locator(`[data-o="${LIVE}"]`).first()).toHaveText('00');
  await page.getByTestId('compare-hex').scrollIntoViewIfNeeded();
  await shot(page, 'compare-06-hex');

  // Ten more bytes in the same window: marked without reopening anything.
  nbdTool('nbdsh', ['-u', uri, '-c', `h.pwrite(b"\\x01" * 10, ${LIVE + 1000})`]);
  await expect(count).toHaveAttribute('data-count', String(LIVE_LENGTH + 10), { timeout: 5_000 });
  expect(await markedOffsets('a')).toEqual([...span(LIVE, LIVE_LENGTH), ...span(LIVE + 1000, 10)]);

  // Keys walk the differences: p goes back to the only-a range before (its bytes are the same), then the 64 KiB write.
  await page.getByTestId('compare-hex-a').focus();
  await page.keyboard.press('p');
  await expect(page.getByTestId('compare-current')).toHaveAttribute('data-offset', String(24 * MiB));
  await page.keyboard.press('p');
  await expect(page.getByTestId('compare-current')).toHaveAttribute('data-offset', String(16 * MiB));
  await expect(page.getByTestId('compare-hex')).toHaveAttribute('data-window', String(16 * MiB));
  await expect(count).toHaveAttribute('data-count', '4096'); // 'x' over a hole: every byte of the window
  await page.keyboard.press('n');
  await expect(page.getByTestId('compare-current')).toHaveAttribute('data-offset', String(24 * MiB));
  await expect(count).toHaveAttribute('data-count', String(LIVE_LENGTH + 10));
  await shot(page, 'compare-07-hex-keys');
});

test('a click on the diff map picks the difference there', async () => {
  const map = page.getByTestId('compare-map');
  const box = (await map.boundingBox())!;
  await map.click({ position: { x: ((16 * MiB + 32 * 1024) / SIZE) * box.width, y: box.height / 2 } });
  await expect(page.getByTestId('compare-current')).toHaveAttribute('data-offset', String(16 * MiB));
  await expect(page.getByTestId('compare-hex')).toHaveAttribute('data-window', String(16 * MiB));
});
