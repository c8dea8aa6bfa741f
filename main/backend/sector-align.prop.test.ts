// The fast paths of the extents choke point (isNormalized, isSectorAligned, the unclipped
// return in sectorExtents) against the slow path they skip: normalizeExtents, alignToSectors
// and the clip, on random layouts whose boundaries are sector-aligned or not, answered clean
// (the fast path) or messy (overhanging, split into same-flag pieces: the slow path).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EXTENT_DATA, extentTriples, type Extent } from '../../shared/extents.ts';
import { propertyParams, propertyTimeout } from '../testing/property-params.ts';
import { LayerContext } from './context.ts';
import { normalizeExtents } from './extents.ts';
import { alignToSectors, isNormalized, isSectorAligned, SECTOR } from './sector-align.ts';

interface Layout {
  size: number;
  /** Run i covers [starts[i], starts[i + 1]) (the last one up to size). */
  starts: number[];
  flags: number[];
}

/** Disks up to a few MiB, placed past 2^32 * k so offsets are not small integers. */
const layoutArb = fc
  .record({
    base: fc.integer({ min: 0, max: 300 }).map((k) => k * 2 ** 32),
    span: fc.integer({ min: 1, max: 4 << 20 }),
    cuts: fc.uniqueArray(fc.integer({ min: 1, max: (4 << 20) - 1 }), { maxLength: 40 }),
    aligned: fc.boolean(),
    flags: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 41, maxLength: 41 }),
  })
  .map(({ base, span, cuts, aligned, flags }): Layout => {
    const size = base + (aligned ? Math.max(SECTOR, span - (span % SECTOR)) : span);
    const inner = cuts.map((c) => base + (aligned ? c - (c % SECTOR) : c)).filter((c) => c > 0 && c < size);
    const starts = [0, ...new Set(inner)].sort((a, b) => a - b);
    return { size, starts, flags: starts.map((_, i) => flags[i]!) };
  });

/**
 * The layout's answer for [offset, offset+count): clean (clipped, coalesced), overhanging the
 * range, or split (every run in two pieces of the same flags, overhanging too).
 */
type Shape = 'clean' | 'overhang' | 'split';

function answer(layout: Layout, count: number, offset: number, shape: Shape): Extent[] {
  const end = offset + count;
  const out: Extent[] = [];
  layout.starts.forEach((start, i) => {
    const stop = layout.starts[i + 1] ?? layout.size;
    if (stop <= offset || start >= end) return;
    const flags = layout.flags[i]!;
    if (shape === 'split') {
      const mid = start + Math.ceil((stop - start) / 2);
      out.push({ offset: start, length: mid - start, flags });
      if (stop > mid) out.push({ offset: mid, length: stop - mid, flags });
      return;
    }
    const from = shape === 'overhang' ? start : Math.max(start, offset);
    const to = shape === 'overhang' ? stop : Math.min(stop, end);
    const last = out[out.length - 1];
    if (last && last.flags === flags) last.length += to - from;
    else out.push({ offset: from, length: to - from, flags });
  });
  return out;
}

/** What the outermost layer answered before the fast paths: every extent copied three times. */
function slowOutermost(raw: (count: number, offset: number) => Extent[], size: number, count: number, offset: number): Extent[] {
  const end = offset + count;
  const from = offset - (offset % SECTOR);
  const to = Math.min(size, Math.ceil(end / SECTOR) * SECTOR);
  const list = normalizeExtents('p', raw(to - from, from), from, to - from, { tailIsHole: true });
  const out: Extent[] = [];
  for (const e of alignToSectors(list, size)) {
    const start = Math.max(e.offset, offset);
    const stop = Math.min(e.offset + e.length, end);
    if (stop > start) out.push({ offset: start, length: stop - start, flags: e.flags });
  }
  return out.length > 0 ? out : [{ offset, length: Math.min(count, SECTOR - (offset % SECTOR)), flags: EXTENT_DATA }];
}

/** A request inside the layout's disk, rounded to sectors when `aligned` (the scan's kind). */
const requestArb = (layout: Layout) =>
  fc.record({ a: fc.double({ min: 0, max: 1, noNaN: true }), b: fc.double({ min: 0, max: 1, noNaN: true }), aligned: fc.boolean(), shape: fc.constantFrom<Shape>('clean', 'clean', 'overhang', 'split') }).map(({ a, b, aligned, shape }) => {
    let offset = Math.min(layout.size - 1, Math.floor(a * layout.size));
    let end = Math.max(offset + 1, Math.min(layout.size, offset + 1 + Math.floor(b * (layout.size - offset))));
    if (aligned) {
      offset -= offset % SECTOR;
      end = Math.min(layout.size, Math.ceil(end / SECTOR) * SECTOR);
    }
    return { offset, count: end - offset, shape };
  });

const layoutAndRequest = layoutArb.chain((layout) => requestArb(layout).map((req) => ({ layout, ...req })));

describe('the extents fast paths', () => {
  it('isNormalized holds only for answers normalizeExtents returns unchanged, and for most clean ones', () => {
    let fast = 0;
    let cases = 0;
    fc.assert(
      fc.property(layoutAndRequest, fc.boolean(), ({ layout, offset, count, shape }, tailIsHole) => {
        cases++;
        const raw = answer(layout, count, offset, shape);
        const normal = normalizeExtents('p', raw, offset, count, { tailIsHole });
        const same = JSON.stringify(extentTriples(normal)) === JSON.stringify(extentTriples(raw));
        // A false answer is always safe (the slow path runs); a true one must be right.
        if (isNormalized(raw, offset, count, tailIsHole)) {
          expect(same).toBe(true);
          fast++;
        }
      }),
      propertyParams(400),
    );
    // The generator reaches both paths (npm run fuzz runs more cases than 400).
    expect(fast).toBeGreaterThan(cases / 4);
    expect(fast).toBeLessThan(cases);
  }, propertyTimeout(20_000));

  it('isSectorAligned holds only for lists alignToSectors returns unchanged, and for most aligned ones', () => {
    let fast = 0;
    let cases = 0;
    fc.assert(
      fc.property(layoutAndRequest, ({ layout, offset, count }) => {
        cases++;
        const list = normalizeExtents('p', answer(layout, count, offset, 'clean'), offset, count, { tailIsHole: true });
        const same = JSON.stringify(extentTriples(alignToSectors(list, layout.size))) === JSON.stringify(extentTriples(list));
        if (isSectorAligned(list, layout.size)) {
          expect(same).toBe(true);
          fast++;
        }
      }),
      propertyParams(400),
    );
    expect(fast).toBeGreaterThan(cases / 4);
    expect(fast).toBeLessThan(cases);
  }, propertyTimeout(20_000));

  it('the outermost layer answers what the slow path (normalise, align, clip) answered', async () => {
    await fc.assert(
      fc.asyncProperty(layoutAndRequest, async ({ layout, offset, count, shape }) => {
        const raw = (c: number, o: number) => answer(layout, c, o, shape);
        const top = new LayerContext('p', { getSize: () => layout.size, extents: raw }, null, true);
        await top.prepare();
        top.markOutermost();
        expect(extentTriples(await top.extents(count, offset))).toEqual(extentTriples(slowOutermost(raw, layout.size, count, offset)));
      }),
      propertyParams(400),
    );
  }, propertyTimeout(20_000));

  it('hands the caller a list of its own, so appending to it leaves the plugin\'s answer alone', async () => {
    const kept: Extent[] = [{ offset: 0, length: 1024, flags: 3 }, { offset: 1024, length: 1024, flags: 0 }];
    const top = new LayerContext('p', { getSize: () => 2048, extents: () => kept }, null, true);
    await top.prepare();
    top.markOutermost();
    const got = await top.extents(2048, 0);
    got.push({ offset: 2048, length: 1, flags: 0 });
    expect(kept).toHaveLength(2);
  });
});
