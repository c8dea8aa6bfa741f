// The map of a sparse disk as people look at it: a 64 GiB raw image holding a few 4 KiB blocks
// must not look empty at whole-disk zoom, the hover readout gives each pixel's exact share of
// data, and the exports download under named files; the PNG carries title, partition band,
// axis and legend, checked by decoding the file and reading its pixels.
import { test, expect, type Page } from '@playwright/test';
import { mkdtempSync, openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatBytes } from '../../renderer/src/format/bytes.ts';
import { dataMinimum } from '../../renderer/src/map/paint.ts';
import { mix, type Rgb } from '../../renderer/src/map/palette.ts';
import { PICTURE } from '../../renderer/src/map/picture-layout.ts';
import { formatShare } from '../../renderer/src/map/share.ts';
import { waitForCompleteMap } from './flows.ts';
import { startHost, type Host } from './host.ts';
import { COLOURS, DETAIL, viewOf } from './map-page.ts';
import { GiB, MiB, makeSparseRaw, openTyped, shot } from './state-page.ts';

test.describe.configure({ mode: 'serial' });

const SIZE = 64 * GiB;
/** The 4 KiB blocks the image holds (block 0 also holds the MBR). */
const BLOCKS = [0, 9 * GiB, 21 * GiB + 12 * 4096, 40 * GiB, 57 * GiB + 5 * MiB];
/** One MBR partition over the first half of the disk: the band in the picture. */
const PART_END = 32 * GiB;

let dir: string;
let image: string;
let host: Host;
let page: Page;

/** Sector 0 as an MBR with one Linux partition from 1 MiB to PART_END. */
function writeMbr(file: string): void {
  const sector = Buffer.alloc(512);
  const entry = 0x1be;
  sector[entry + 4] = 0x83;
  sector.writeUInt32LE(2048, entry + 8);
  sector.writeUInt32LE(PART_END / 512 - 2048, entry + 12);
  sector[510] = 0x55;
  sector[511] = 0xaa;
  const fd = openSync(file, 'r+');
  writeSync(fd, sector, 0, 512, 0);
  closeSync(fd);
}

test.beforeAll(async ({ browser }) => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'blockscope-e2e-map-ux-'));
  image = makeSparseRaw(path.join(dir, 'sparse64.img'), SIZE, BLOCKS.map((b) => [b, 4096]));
  writeMbr(image);
  host = await startHost();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  await page.goto(host.url);
  await expect(page.getByTestId('image-tab')).toHaveCount(1);
  await openTyped(page, image);
  await waitForCompleteMap(page);
});

test.afterAll(async () => {
  await page?.close();
  await host?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// Page-side shapes (the Node-side compile has no DOM library).
interface Canvas2d {
  width: number;
  height: number;
  dataset: Record<string, string | undefined>;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
}
interface Context2d {
  getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> };
  drawImage(img: unknown, x: number, y: number): void;
}
declare const document: { querySelector(selector: string): Canvas2d | null; createElement(tag: 'canvas'): Omit<Canvas2d, 'getContext'> & { getContext(kind: '2d'): Context2d | null } };
declare const Image: new () => { src: string; width: number; height: number; decode(): Promise<void> };

/** Rows of the data colour in the detail map's column showing byte `offset` (the best of its neighbours). */
async function dataRowsAt(offset: number): Promise<{ rows: number; mapHeight: number }> {
  return page.evaluate(
    ({ sel, offset, data }) => {
      const c = document.querySelector(sel)!;
      const top = Number(c.dataset.mapTop);
      const x = Math.floor(((offset - Number(c.dataset.viewStart)) / (Number(c.dataset.viewEnd) - Number(c.dataset.viewStart))) * c.width);
      let best = 0;
      for (const cx of [x - 1, x, x + 1].filter((v) => v >= 0 && v < c.width)) {
        const d = c.getContext('2d')!.getImageData(cx, top, 1, c.height - top).data;
        let n = 0;
        for (let p = 0; p < d.length; p += 4) if (d[p] === data[0] && d[p + 1] === data[1] && d[p + 2] === data[2]) n++;
        best = Math.max(best, n);
      }
      return { rows: best, mapHeight: c.height - top };
    },
    { sel: DETAIL, offset, data: COLOURS.kinds.data },
  );
}

test('a sparse 64 GiB disk shows each 4 KiB block as a visible column at whole-disk zoom', async () => {
  expect(await viewOf(page)).toEqual({ start: 0, end: SIZE });
  // Block 0 (the MBR) lies under the partition's start line, drawn over the whole column.
  for (const block of BLOCKS.slice(1)) {
    const { rows, mapHeight } = await dataRowsAt(block);
    expect(rows, `data rows at ${block}`).toBeGreaterThanOrEqual(Math.max(2, dataMinimum(mapHeight)));
  }
  // Between the blocks the columns hold no data at all.
  for (const empty of [5 * GiB, 30 * GiB, 50 * GiB]) expect((await dataRowsAt(empty)).rows, `no data at ${empty}`).toBe(0);
  await shot(page, 'map-ux-01-sparse-data-visible');
});

test("hovering a block's pixel gives the exact share of data it holds", async () => {
  const block = BLOCKS[2]!;
  const box = (await page.locator(DETAIL).boundingBox())!;
  const width = await page.locator(DETAIL).evaluate((c) => (c as unknown as Canvas2d).width);
  const x = Math.floor((block / SIZE) * width);
  await page.mouse.move(box.x + ((x + 0.5) / width) * box.width, box.y + box.height * 0.6);
  const bin = page.getByTestId('hover-bin');
  await expect(bin).toBeVisible();
  const [, from, to] = /\[0x([0-9a-f]+), 0x([0-9a-f]+)\)/.exec((await bin.textContent()) ?? '')!.map((h) => parseInt(h, 16));
  // The data in the pixel: every written block's overlap with its range.
  const held = BLOCKS.reduce((sum, b) => sum + Math.max(0, Math.min(b + 4096, to!) - Math.max(b, from!)), 0);
  expect(held).toBeGreaterThan(0);
  await expect(page.getByTestId('hover-share')).toHaveText(`data ${formatShare(held, to! - from!)} (${formatBytes(held)} of ${formatBytes(to! - from!)})`);
  await shot(page, 'map-ux-02-hover-exact-share');
  await page.mouse.move(0, 0);
});

/** Exports in `format` and returns the download's suggested name and bytes. */
async function exportAs(format: string): Promise<{ name: string; bytes: Buffer }> {
  const download = page.waitForEvent('download');
  await page.getByTestId('export-map').selectOption(format);
  const d = await download;
  return { name: d.suggestedFilename(), bytes: readFileSync(await d.path()) };
}

test('JSON and CSV exports download under the image name and their format', async () => {
  const nbdinfo = await exportAs('nbdinfo-json');
  expect(nbdinfo.name).toBe('sparse64.img.nbdinfo.json');
  const extents = JSON.parse(nbdinfo.bytes.toString('utf8')) as { offset: number; length: number; type: number }[];
  expect(extents.reduce((a, e) => a + e.length, 0)).toBe(SIZE);
  const qemu = await exportAs('qemu-img-json');
  expect(qemu.name).toBe('sparse64.img.qemu-img.json');
  expect((JSON.parse(qemu.bytes.toString('utf8')) as { data: boolean }[]).filter((e) => e.data).length).toBe(BLOCKS.length);
  const csv = await exportAs('csv');
  expect(csv.name).toBe('sparse64.img.csv');
  expect(csv.bytes.toString('utf8').trim().split('\n').length).toBe(extents.length + 1);
  await shot(page, 'map-ux-03-named-downloads');
});

interface Decoded {
  width: number;
  height: number;
  /** RGB of each pixel asked for. */
  at: Rgb[];
  /** How many pixels of each colour lie at or below row `from`. */
  counts: number[];
}

/** Decodes a PNG in the page (an <img> drawn on a canvas) and reads the pixels asked for. */
async function decodePng(png: Buffer, points: [number, number][], colours: Rgb[], from: number): Promise<Decoded> {
  return page.evaluate(
    async ({ b64, points, colours, from }) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.width;
      c.height = img.height;
      const ctx = c.getContext('2d')!;
      ctx.drawImage(img, 0, 0);
      const d = ctx.getImageData(0, 0, img.width, img.height).data;
      const rgb = (x: number, y: number): [number, number, number] => {
        const p = (y * img.width + x) * 4;
        return [d[p]!, d[p + 1]!, d[p + 2]!];
      };
      const counts = colours.map(() => 0);
      for (let p = from * img.width * 4; p < d.length; p += 4) {
        colours.forEach((k, i) => {
          if (d[p] === k[0] && d[p + 1] === k[1] && d[p + 2] === k[2]) counts[i]!++;
        });
      }
      return { width: img.width, height: img.height, at: points.map(([x, y]) => rgb(x, y)), counts };
    },
    { b64: png.toString('base64'), points, colours: colours.map((c) => [...c]), from },
  );
}

test('the PNG export holds the title, partition band, map, axis and legend', async ({ browser }) => {
  const png = await exportAs('png');
  expect(png.name).toBe('sparse64.img-map.png');
  const map = await page.locator(DETAIL).evaluate((el) => {
    const c = el as unknown as Canvas2d;
    return { width: c.width, height: c.height, band: Number(c.dataset.mapTop) };
  });
  const top = PICTURE.title;
  const legendTop = top + map.height + PICTURE.axis;
  const x = (offset: number) => Math.floor((offset / SIZE) * map.width);
  const k = COLOURS.kinds;
  const out = await decodePng(
    png.bytes,
    [
      [x(8 * GiB), top + 2], // the band inside the partition
      [x(48 * GiB), top + 2], // the band past its end
      [x(40 * GiB), top + map.height - 1], // a data block's column, bottom row
      [x(48 * GiB), top + map.height - 1], // a hole
    ],
    [k.data, k.hole],
    legendTop,
  );
  // Taller than the canvas by the title, axis and at least one legend row; as wide.
  expect(out.width).toBe(map.width);
  expect(out.height).toBeGreaterThanOrEqual(legendTop + PICTURE.legendRow);
  const [inBand, pastBand, dataCol, holeCol] = out.at;
  const tint = mix(COLOURS.background, COLOURS.partition, 0.08);
  inBand!.forEach((v, i) => expect(Math.abs(v - tint[i]!), `band ${inBand}`).toBeLessThanOrEqual(2));
  expect(pastBand).toEqual(COLOURS.background);
  expect(dataCol).toEqual(k.data);
  expect(holeCol).toEqual(k.hole);
  // The legend's swatches: a full square of each colour the disk holds, below the axis.
  const square = PICTURE.swatch ** 2;
  expect(out.counts[0], 'data swatch').toBeGreaterThanOrEqual(square);
  expect(out.counts[1], 'hole swatch').toBeGreaterThanOrEqual(square);
  // The picture itself, for the record.
  const view = await browser.newPage({ viewport: { width: out.width, height: out.height } });
  await view.setContent(`<body style="margin:0;background:#333"><img src="data:image/png;base64,${png.bytes.toString('base64')}"></body>`);
  await shot(view, 'map-ux-04-exported-png');
  await view.close();
  await shot(page, 'map-ux-05-after-png-export');
});
