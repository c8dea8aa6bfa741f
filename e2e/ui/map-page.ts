// Reading the allocation map's pixels from a spec: the detail canvas publishes the range it
// shows (data-view-start/end), the range its pixels were drawn from (data-drawn) and where the
// map starts below the partition band (data-map-top), all in device pixels.
import type { Page } from '@playwright/test';
import { PALETTES, type Rgb } from '../../renderer/src/map/palette.ts';

export const COLOURS = PALETTES.dark;

// The page-side callbacks run in Chromium; these few DOM shapes keep the Node-side compile
// (which has no DOM library) honest without pulling DOM types into the engine's program.
interface CanvasLike {
  width: number;
  height: number;
  dataset: Record<string, string | undefined>;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
}
declare const document: { querySelector(selector: string): CanvasLike | null };
declare function requestAnimationFrame(callback: () => void): number;
export const DETAIL = '[data-testid="map-detail"]';

/** Waits until the detail map shows bins fetched for exactly its current view. */
export async function waitForSettledMap(page: Page): Promise<void> {
  await page.waitForFunction((sel) => {
    const c = document.querySelector(sel);
    return !!c && c.dataset.drawn === `${c.dataset.viewStart}-${c.dataset.viewEnd}` && c.dataset.binsStart === c.dataset.viewStart;
  }, DETAIL);
}

/** The colour of the map at byte `offset`; 'bottom' is where a mixed column stacks its data. */
export async function colourAt(page: Page, offset: number, row: 'top' | 'bottom' = 'top'): Promise<Rgb> {
  return page.evaluate(
    ({ sel, offset, row }) => {
      const c = document.querySelector(sel)!;
      const start = Number(c.dataset.viewStart);
      const end = Number(c.dataset.viewEnd);
      const x = Math.floor(((offset - start) / (end - start)) * c.width);
      const y = row === 'top' ? Number(c.dataset.mapTop) + 1 : c.height - 1;
      const d = c.getContext('2d')!.getImageData(x, y, 1, 1).data;
      return [d[0]!, d[1]!, d[2]!] as const;
    },
    { sel: DETAIL, offset, row },
  );
}

/** Client coordinates of byte `offset` on the detail map, for hovering and clicking. */
export async function pointAt(page: Page, offset: number): Promise<{ x: number; y: number }> {
  const box = (await page.locator(DETAIL).boundingBox())!;
  const view = await viewOf(page);
  return { x: box.x + ((offset - view.start) / (view.end - view.start)) * box.width, y: box.y + box.height * 0.6 };
}

export async function viewOf(page: Page): Promise<{ start: number; end: number }> {
  return page.evaluate((sel) => {
    const c = document.querySelector(sel)!;
    return { start: Number(c.dataset.viewStart), end: Number(c.dataset.viewEnd) };
  }, DETAIL);
}

/** Colours of `n` evenly spaced columns across the map. */
export async function sampleRow(page: Page, n: number): Promise<Rgb[]> {
  return page.evaluate(
    ({ sel, n }) => {
      const c = document.querySelector(sel)!;
      const ctx = c.getContext('2d')!;
      const y = Number(c.dataset.mapTop) + 1;
      const out: [number, number, number][] = [];
      for (let k = 0; k < n; k++) {
        const d = ctx.getImageData(Math.floor(((k + 0.5) / n) * c.width), y, 1, 1).data;
        out.push([d[0]!, d[1]!, d[2]!]);
      }
      return out;
    },
    { sel: DETAIL, n },
  );
}

/** The middle of the widest range in a [start, length] list: safe from neighbouring pixels. */
export function middleOfWidest(ranges: [number, number][]): number {
  const [start, length] = [...ranges].sort((a, b) => b[1] - a[1])[0]!;
  return start + Math.floor(length / 2);
}

/** Waits until the activity overlay is drawn for the settled view and is on the canvas. */
export async function waitForActivityOnMap(page: Page): Promise<void> {
  await waitForSettledMap(page);
  await page.waitForFunction((sel) => {
    const c = document.querySelector(sel)!;
    return c.dataset.activity !== '' && c.dataset.activity === `${c.dataset.viewStart}-${c.dataset.viewEnd}`;
  }, DETAIL);
  // The heat is painted into the bins' picture; one more frame puts it on the canvas.
  await page.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));
}

/** Per pixel column of the detail map: is it lit (a heat colour), and which bin it shows. */
export async function litColumns(page: Page): Promise<{ lit: boolean[]; start: number; end: number; bins: number }> {
  return page.evaluate((sel) => {
    const c = document.querySelector(sel)!;
    const y = Number(c.dataset.mapTop) + Math.floor((c.height - Number(c.dataset.mapTop)) / 2);
    const d = c.getContext('2d')!.getImageData(0, y, c.width, 1).data;
    const lit: boolean[] = [];
    // Heat colours run from (176, 36, 36) to (255, 226, 84); quiet columns are dimmed toward the background.
    for (let x = 0; x < c.width; x++) lit.push(d[x * 4]! > 150 && d[x * 4]! > d[x * 4 + 2]! + 60);
    return { lit, start: Number(c.dataset.binsStart), end: Number(c.dataset.binsEnd), bins: Number(c.dataset.bins) };
  }, DETAIL);
}
