import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
// Test support only: the seeds every property in the repository runs with.
// eslint-disable-next-line no-restricted-imports
import { propertyParams } from '../../../main/testing/property-params.ts';
import { emptyBins, summariseBin, type BinCounts } from './bins.ts';
import { binAtColumn, dataMinimum, hatch, paintBins, segmentHeights } from './paint.ts';
import { PALETTES, backingColour, type Rgb } from './palette.ts';
import { dataShares, formatShare } from './share.ts';

const dark = PALETTES.dark;

function bins(rows: { data?: number; zero?: number; hole?: number; holeUndefined?: number; unknown?: number }[]): BinCounts {
  const b = emptyBins(0, rows.length * 1000, rows.length);
  rows.forEach((r, i) => {
    b.data[i] = r.data ?? 0;
    b.zero[i] = r.zero ?? 0;
    b.hole[i] = r.hole ?? 0;
    b.holeUndefined[i] = r.holeUndefined ?? 0;
    b.unknown[i] = r.unknown ?? 0;
  });
  return b;
}

function pixel(target: { data: Uint8ClampedArray; width: number }, x: number, y: number): Rgb {
  const p = (y * target.width + x) * 4;
  return [target.data[p]!, target.data[p + 1]!, target.data[p + 2]!];
}

function paint(b: BinCounts, width: number, height: number) {
  const target = { data: new Uint8ClampedArray(width * height * 4), width, height };
  paintBins(target, b, dark);
  return target;
}

describe('paintBins', () => {
  it('paints a pure data bin in the data colour from top to bottom', () => {
    const t = paint(bins([{ data: 1000 }]), 1, 10);
    expect(pixel(t, 0, 0)).toEqual(dark.kinds.data);
    expect(pixel(t, 0, 9)).toEqual(dark.kinds.data);
  });

  it('gives each kind of a pure bin its own colour', () => {
    const t = paint(bins([{ data: 1000 }, { zero: 1000 }, { hole: 1000 }, { holeUndefined: 1000 }]), 4, 4);
    expect([0, 1, 2, 3].map((x) => pixel(t, x, 2))).toEqual([
      dark.kinds.data,
      dark.kinds.zero,
      dark.kinds.hole,
      dark.kinds['hole-undefined'],
    ]);
  });

  it('stacks a half-data half-hole bin: data at the bottom, hole on top', () => {
    const t = paint(bins([{ data: 500, hole: 500 }]), 1, 10);
    expect(pixel(t, 0, 9)).toEqual(dark.kinds.data);
    expect(pixel(t, 0, 5)).toEqual(dark.kinds.data);
    expect(pixel(t, 0, 4)).toEqual(dark.kinds.hole);
    expect(pixel(t, 0, 0)).toEqual(dark.kinds.hole);
  });

  it('draws a tiny amount of data in a huge hole bin at the visible minimum', () => {
    // 20 rows: 15% is 3 rows of data, the rest hole.
    const t = paint(bins([{ data: 1, hole: 1e9 }]), 1, 20);
    expect([19, 18, 17].map((y) => pixel(t, 0, y))).toEqual([dark.kinds.data, dark.kinds.data, dark.kinds.data]);
    expect(pixel(t, 0, 16)).toEqual(dark.kinds.hole);
  });

  it('gives a zero-only sliver one row, not the data minimum', () => {
    const t = paint(bins([{ zero: 1, hole: 1e9 }]), 1, 20);
    expect(pixel(t, 0, 19)).toEqual(dark.kinds.zero);
    expect(pixel(t, 0, 18)).toEqual(dark.kinds.hole);
  });

  it('spreads fewer bins than pixels over several columns each', () => {
    const t = paint(bins([{ data: 1000 }, { zero: 1000 }]), 4, 1);
    expect(pixel(t, 0, 0)).toEqual(dark.kinds.data);
    expect(pixel(t, 2, 0)).toEqual(dark.kinds.zero);
  });

  it('separates wide bins with a background column', () => {
    const t = paint(bins([{ data: 1000 }, { data: 1000 }]), 20, 1);
    expect(pixel(t, 9, 0)).toEqual(dark.background);
    expect(pixel(t, 8, 0)).toEqual(dark.kinds.data);
    expect(pixel(t, 10, 0)).toEqual(dark.kinds.data);
  });

  it('hatches bytes not scanned yet with the two unknown greys', () => {
    const t = paint(bins([{ unknown: 1000 }]), 1, 8);
    expect(pixel(t, 0, 0)).toEqual(dark.unknown[0]);
    expect(pixel(t, 0, 4)).toEqual(dark.unknown[1]);
    expect(hatch(dark, 4, 0)).toEqual(dark.unknown[1]);
  });

  it('paints an empty answer as background', () => {
    const t = paint(emptyBins(0, 0, 0), 3, 2);
    expect(pixel(t, 1, 1)).toEqual(dark.background);
  });
});

describe('segmentHeights', () => {
  it('splits exactly in proportion when it can', () => {
    expect(segmentHeights([{ colour: [0, 0, 0], bytes: 3 }, { colour: [0, 0, 0], bytes: 1 }], 8)).toEqual([6, 2]);
  });

  it('always sums to the column height', () => {
    const h = segmentHeights(
      [{ colour: [0, 0, 0], bytes: 1 }, { colour: [0, 0, 0], bytes: 1 }, { colour: [0, 0, 0], bytes: 1 }],
      10,
    );
    expect(h.reduce((a, b) => a + b, 0)).toBe(10);
  });

  it('takes the one-pixel minimum from the tallest segment', () => {
    expect(segmentHeights([{ colour: [0, 0, 0], bytes: 1 }, { colour: [0, 0, 0], bytes: 999 }], 4)).toEqual([1, 3]);
  });
});

describe('backing layers', () => {
  it('gives each of the first backing files its own tint, apart from every kind', () => {
    for (const palette of [dark, PALETTES.light]) {
      const tints = [1, 2, 3, 4].map((k) => String(backingColour(palette, k)));
      const kinds = Object.values(palette.kinds).map(String);
      expect(new Set(tints).size).toBe(4);
      expect(tints.filter((t) => kinds.includes(t))).toEqual([]);
    }
  });

  it('draws data held by a backing file in a tint distinct from top-layer data and holes', () => {
    const b = bins([{ data: 0 }]);
    b.backing = [new Float64Array([1000])];
    const t = paint(b, 1, 2);
    expect(pixel(t, 0, 0)).toEqual(backingColour(dark, 1));
    expect(pixel(t, 0, 0)).not.toEqual(dark.kinds.data);
    expect(pixel(t, 0, 0)).not.toEqual(dark.kinds.hole);
  });
});

describe('binAtColumn', () => {
  it('maps 1000 bins over 100 columns ten to a column', () => {
    expect(binAtColumn(0, 100, 1000)).toBe(0);
    expect(binAtColumn(99, 100, 1000)).toBe(990);
  });
});

/** A bin's bytes by kind: mostly empty or tiny data beside large holes, the sparse-disk case. */
const kindBytes = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 1, max: 4096 }), fc.integer({ min: 1, max: 2 ** 36 }));
const binRow = fc.record({ data: kindBytes, zero: kindBytes, hole: kindBytes, holeUndefined: kindBytes, unknown: kindBytes, backing: fc.array(kindBytes, { minLength: 2, maxLength: 2 }) });

type BinRow = typeof binRow extends fc.Arbitrary<infer R> ? R : never;

function binsOf(rows: BinRow[], layers: number): BinCounts {
  const b = bins(rows);
  if (layers > 0) b.backing = Array.from({ length: layers }, (_, k) => Float64Array.from(rows, (r) => r.backing[k]!));
  // Each bin as wide as the bytes it holds, so shares are of the bin's real span.
  return { ...b, end: rows.reduce((sum, r) => sum + r.data + r.zero + r.hole + r.holeUndefined + r.unknown + r.backing.slice(0, layers).reduce((a, x) => a + x, 0), 0) };
}

describe('sparse data stays visible (property)', () => {
  it('paints a bin holding data at least the minimum in its colours, and a bin without none', () => {
    fc.assert(
      fc.property(fc.array(binRow, { minLength: 1, maxLength: 12 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 1, max: 160 }), (rows, layers, height) => {
        const b = binsOf(rows, layers);
        const t = paint(b, rows.length, height);
        const dataColours = [dark.kinds.data, ...[1, 2].slice(0, layers).map((k) => backingColour(dark, k))].map(String);
        rows.forEach((r, x) => {
          const held = [r.data, ...r.backing.slice(0, layers)];
          const others = [r.zero, r.hole, r.holeUndefined, r.unknown].filter((v) => v > 0).length;
          const column = Array.from({ length: height }, (_, y) => String(pixel(t, x, y)));
          held.forEach((bytes, k) => {
            const rowsOfColour = column.filter((c) => c === dataColours[k]).length;
            if (bytes === 0) return expect(rowsOfColour).toBe(0);
            const present = held.filter((v) => v > 0).length;
            // The full minimum whenever every kind present fits at its minimum; one row whenever each kind fits.
            const room = present * dataMinimum(height) + others <= height;
            expect(rowsOfColour).toBeGreaterThanOrEqual(room ? dataMinimum(height) : present + others <= height ? 1 : 0);
          });
        });
      }),
      propertyParams(300),
    );
  });

  it('says every share of a bin as at most 100%, and a non-zero share as more than 0%', () => {
    fc.assert(
      fc.property(fc.array(binRow, { minLength: 1, maxLength: 1 }), fc.integer({ min: 0, max: 2 }), (rows, layers) => {
        const b = binsOf(rows, layers);
        const shares = dataShares(summariseBin(b, 0));
        for (const s of shares) {
          const text = formatShare(s.bytes, s.span);
          const percent = Number(text.replace(/[>%]/g, ''));
          expect(percent).toBeLessThanOrEqual(100);
          expect(percent).toBeGreaterThan(0);
          expect(text === '100%').toBe(s.bytes === s.span);
        }
        expect(shares.reduce((a, s) => a + s.bytes, 0)).toBeLessThanOrEqual(b.end - b.start);
      }),
      propertyParams(300),
    );
  });
});

describe('formatShare', () => {
  it('gives one 4 KiB block of a 256 MiB pixel to two significant digits', () => {
    expect(formatShare(4096, 256 * 2 ** 20)).toBe('0.0015%');
  });

  it('never rounds a nearly full pixel up to 100%', () => {
    expect(formatShare(2 ** 30 - 4096, 2 ** 30)).toBe('>99.99%');
    expect(formatShare(1, 2)).toBe('50%');
  });
});
