// The diff map without a DOM: compare.run's ranges cut into one column per device pixel, and
// the columns painted as stacked bars with the allocation map's own stacking (segmentHeights),
// so a one-byte difference in a column of gigabytes still gets its minimum of pixels.
import type { CompareClass, CompareRange } from '../../../shared/ipc.ts';
import { packRgb, segmentHeights, type PaintTarget, type Segment } from '../map/paint.ts';
import type { Palette, Rgb, ThemeName } from '../map/palette.ts';

/** Bottom-to-top, as the legend lists them: differences first, the identical rest last. */
export const DIFF_CLASSES: readonly CompareClass[] = ['differ', 'only-a', 'only-b', 'identical'];

export const DIFF_NAMES: Record<CompareClass, string> = {
  differ: 'differ',
  'only-a': 'only allocated in A',
  'only-b': 'only allocated in B',
  identical: 'identical',
};

/** Red for different bytes; A's allocation in the map's data blue, B's in the first backing hue; identical as a hole. */
export function diffColours(palette: Palette, theme: ThemeName): Record<CompareClass, Rgb> {
  return {
    differ: theme === 'dark' ? [240, 84, 84] : [214, 40, 40],
    'only-a': palette.kinds.data,
    'only-b': palette.backing[0] ?? palette.kinds.zero,
    identical: palette.kinds.hole,
  };
}

export interface DiffColumns {
  count: number;
  /** Bytes of each class per column; identical is what the others leave. */
  bytes: Record<CompareClass, Float64Array>;
}

/** Bytes of each class in each of `count` equal slices of [0, size). */
export function diffColumns(ranges: readonly CompareRange[], size: number, count: number): DiffColumns {
  const bytes = Object.fromEntries(DIFF_CLASSES.map((c) => [c, new Float64Array(count)])) as Record<CompareClass, Float64Array>;
  const per = size / count;
  for (let k = 0; k < count; k++) bytes.identical[k] = Math.min(size, (k + 1) * per) - k * per;
  for (const r of ranges) {
    const end = r.offset + r.length;
    for (let k = Math.floor(r.offset / per); k < count && k * per < end; k++) {
      const overlap = Math.min(end, (k + 1) * per) - Math.max(r.offset, k * per);
      if (overlap <= 0) continue;
      bytes[r.class][k]! += overlap;
      if (r.class !== 'identical') bytes.identical[k]! -= overlap;
    }
  }
  return { count, bytes };
}

function columnSegments(cols: DiffColumns, k: number, colours: Record<CompareClass, Rgb>): Segment[] {
  return DIFF_CLASSES.map((c) => ({ colour: colours[c], bytes: cols.bytes[c][k]!, data: c !== 'identical' })).filter((s) => s.bytes > 0);
}

/** Paints one column per pixel of `target` (cols.count must equal its width). */
export function paintDiff(target: PaintTarget, cols: DiffColumns, colours: Record<CompareClass, Rgb>, background: Rgb): void {
  const { width, height } = target;
  const words = new Uint32Array(target.data.buffer, target.data.byteOffset, width * height);
  const bg = packRgb(background);
  for (let x = 0; x < width; x++) {
    const segs = columnSegments(cols, x, colours);
    const heights = segmentHeights(segs, height);
    let y = height;
    segs.forEach((s, k) => {
      const word = packRgb(s.colour!);
      for (let n = 0; n < heights[k]!; n++) words[--y * width + x] = word;
    });
    for (; y > 0; y--) words[(y - 1) * width + x] = bg;
  }
}

/** The index of the difference holding `offset`, else the next one after it, else the last (-1 when there is none). */
export function differenceAt(ranges: readonly CompareRange[], offset: number): number {
  const k = ranges.findIndex((r) => r.offset + r.length > offset);
  return k < 0 ? ranges.length - 1 : k;
}
