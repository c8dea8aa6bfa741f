// Turns bins into pixels without a DOM, so the colour of any pixel can be unit-tested and the
// renderer only blits the result. Each column is one bin (or part of a wide bin when zoomed in
// past one block per pixel) drawn as a stacked bar: a mixed bin shows every kind it holds in
// proportion to its bytes, and a kind that is present gets at least one pixel. Data gets more:
// a sparse 64 GiB disk at whole-disk zoom has bins of tens of MiB holding one 4 KiB block, and a
// one-pixel sliver of blue on a near-background hole reads as empty, so data (the image's own
// and its backing files') is drawn at least dataMinimum() tall. The hover readout gives the
// exact share, and the totals are counted elsewhere, from bytes.
import type { BinCounts } from './bins.ts';
import { backingColour, type Palette, type Rgb } from './palette.ts';

export interface Segment {
  /** null: not scanned yet, drawn as the palette's hatch. */
  colour: Rgb | null;
  bytes: number;
  /** Held data (this image's or a backing file's): drawn at least dataMinimum() tall. */
  data?: boolean;
}

/** The smallest share of a column that data is drawn at, and its floor in device pixels. */
export const DATA_MIN_SHARE = 0.15;
export const DATA_MIN_PIXELS = 2;

/** Rows a data segment gets at least, in a column `height` pixels tall. */
export function dataMinimum(height: number): number {
  return Math.min(height, Math.max(DATA_MIN_PIXELS, Math.round(height * DATA_MIN_SHARE)));
}

/** Bottom-to-top stacking order: data first (the eye reads filled bars as "used"), holes last. */
export function binSegments(bins: BinCounts, i: number, palette: Palette): Segment[] {
  const segs: Segment[] = [{ colour: palette.kinds.data, bytes: bins.data[i] ?? 0, data: true }];
  (bins.backing ?? []).forEach((layer, k) => segs.push({ colour: backingColour(palette, k + 1), bytes: layer[i] ?? 0, data: true }));
  segs.push(
    { colour: palette.kinds.zero, bytes: bins.zero[i] ?? 0 },
    { colour: palette.kinds['hole-undefined'], bytes: bins.holeUndefined[i] ?? 0 },
    { colour: palette.kinds.hole, bytes: bins.hole[i] ?? 0 },
    { colour: null, bytes: bins.unknown[i] ?? 0 },
  );
  return segs.filter((s) => s.bytes > 0);
}

/**
 * The least each segment is drawn at: one row, dataMinimum() for data. When the minimums
 * together overflow the column, the largest give way a row at a time (down to one each).
 */
function minimumHeights(segments: readonly Segment[], height: number): number[] {
  const mins = segments.map((s) => (s.data ? dataMinimum(height) : 1));
  let over = mins.reduce((a, b) => a + b, 0) - height;
  while (over > 0) {
    const largest = mins.indexOf(Math.max(...mins));
    if (mins[largest]! <= 1) break;
    mins[largest]! -= 1;
    over--;
  }
  return mins;
}

/**
 * Pixel heights for segments in a column of `height` pixels: proportional, each at least its
 * minimum (1, or dataMinimum() for data), summing to exactly `height` (largest-remainder
 * rounding, so equal inputs draw equal bars).
 */
export function segmentHeights(segments: readonly Segment[], height: number): number[] {
  const total = segments.reduce((s, x) => s + x.bytes, 0);
  if (total === 0 || segments.length === 0) return [];
  if (segments.length > height) return segments.map((_, k) => (k < height ? 1 : 0));
  const mins = minimumHeights(segments, height);
  const exact = segments.map((s) => (s.bytes / total) * height);
  const heights = exact.map((e, k) => Math.max(mins[k]!, Math.floor(e)));
  let left = height - heights.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((e, k) => ({ k, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.k - b.k);
  for (let n = 0; left > 0; n++, left--) heights[byRemainder[n % byRemainder.length]!.k]! += 1;
  // Minimums can overshoot; take the excess from the tallest segments above their minimum.
  while (left < 0) {
    const spare = heights.map((h, k) => (h > mins[k]! ? h : -1));
    heights[spare.indexOf(Math.max(...spare))]! -= 1;
    left++;
  }
  return heights;
}

/** Which bin column x of `width` shows, when `count` bins are spread over the width. */
export function binAtColumn(x: number, width: number, count: number): number {
  return Math.min(count - 1, Math.floor((x * count) / width));
}

export interface PaintTarget {
  data: Uint8ClampedArray;
  width: number;
  height: number;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** An opaque colour as one 32-bit word in ImageData's byte order (R, G, B, A in memory). */
export function packRgb(c: Rgb): number {
  return LITTLE_ENDIAN ? ((255 << 24) | (c[2] << 16) | (c[1] << 8) | c[0]) >>> 0 : ((c[0] << 24) | (c[1] << 16) | (c[2] << 8) | 255) >>> 0;
}

/**
 * Paints `bins` into an RGBA buffer, one 32-bit word per pixel, a run of rows per segment.
 * When bins are wider than `gapAt` pixels the last column of each is left as background, so
 * single blocks read as separate cells.
 */
export function paintBins(target: PaintTarget, bins: BinCounts, palette: Palette, gapAt = 6): void {
  const { width, height } = target;
  const words = new Uint32Array(target.data.buffer, target.data.byteOffset, width * height);
  const bg = packRgb(palette.background);
  const gaps = bins.count > 0 && width / bins.count >= gapAt;
  let lastBin = -1;
  let segs: Segment[] = [];
  let heights: number[] = [];
  for (let x = 0; x < width; x++) {
    const i = bins.count > 0 ? binAtColumn(x, width, bins.count) : -1;
    if (i !== lastBin) {
      segs = i >= 0 ? binSegments(bins, i, palette) : [];
      heights = segmentHeights(segs, height);
      lastBin = i;
    }
    const isGap = gaps && binAtColumn(x + 1, width, bins.count) !== i;
    if (isGap || segs.length === 0) {
      for (let y = 0, p = x; y < height; y++, p += width) words[p] = bg;
      continue;
    }
    // Segments stack from the bottom row up, in binSegments order.
    let y = height;
    for (let k = 0; k < segs.length; k++) {
      const colour = segs[k]!.colour;
      const word = colour ? packRgb(colour) : 0;
      for (let n = 0; n < heights[k]!; n++) {
        y--;
        words[y * width + x] = colour ? word : packRgb(hatch(palette, x, y));
      }
    }
    for (let p = x; y > 0; y--, p += width) words[p] = bg;
  }
}

/** Diagonal stripes four pixels wide: the look of "not scanned yet". */
export function hatch(palette: Palette, x: number, y: number): Rgb {
  return palette.unknown[((x + y) >> 2) & 1]!;
}
