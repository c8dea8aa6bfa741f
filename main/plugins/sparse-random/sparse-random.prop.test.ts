// sparse-random's extents against a model: the layout's data runs, put through the backend's
// own normalising rules (gaps are holes, clipped to the range, REQ_ONE keeps the first).
// The plugin builds that answer itself (see layoutExtents), so the property also checks that
// its raw answer needs no normalising: that is the fast path a scan of millions relies on.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EXTENT_DATA, EXTENT_HOLE_ZERO, type Extent } from '../../../shared/extents.ts';
import { parseParams } from '../../../shared/params.ts';
import { descriptorsToExtents, MAX_DESCRIPTOR_EXTENT, type ExtentDescriptors } from '../../backend/extent-descriptors.ts';
import { normalizeExtents } from '../../backend/extents.ts';
import { FLAG_REQ_ONE } from '../../backend/flags.ts';
import { isNormalized } from '../../backend/sector-align.ts';
import { openTestChain } from '../../testing/chains.ts';
import { propertyParams } from '../../testing/property-params.ts';
import { sparseRandomPlugin } from './index.ts';
import { SparseLayout } from './layout.ts';

const diskArb = fc.record({
  size: fc.integer({ min: 1, max: 3 * 2 ** 20 }),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  percent: fc.integer({ min: 0, max: 100 }),
  runlength: fc.integer({ min: 1, max: 256 * 1024 }),
});
const queryArb = fc.record({
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  length: fc.integer({ min: 1, max: 2 ** 20 }),
  one: fc.boolean(),
});

/** What the backend made of the plain data-run list the plugin used to answer with. */
function model(layout: SparseLayout, count: number, offset: number, one: boolean): Extent[] {
  const runs: Extent[] = [];
  for (let i = 0; i < layout.runCount; i++) runs.push({ offset: layout.runStart(i), length: layout.runEnd(i) - layout.runStart(i), flags: EXTENT_DATA });
  const list = normalizeExtents('model', runs, offset, count, { tailIsHole: true });
  return one ? list.slice(0, 1) : list;
}

describe('sparse-random extents (property)', () => {
  it('answer as the backend would normalise the layout, already normalised', async () => {
    await fc.assert(fc.asyncProperty(diskArb, fc.array(queryArb, { minLength: 1, maxLength: 8 }), async (disk, queries) => {
      const raw = { size: String(disk.size), seed: String(disk.seed), percent: String(disk.percent), runlength: String(disk.runlength) };
      const layout = SparseLayout.generate({ size: disk.size, seed: disk.seed, fraction: disk.percent / 100, runLength: disk.runlength });
      const plugin = await sparseRandomPlugin.create(parseParams('sparse-random', sparseRandomPlugin.params, raw));
      const handle = await plugin.open({ readonly: true, exportName: '' });
      const chain = await openTestChain('sparse-random', raw);
      try {
        for (const q of queries) {
          const offset = Math.min(disk.size - 1, Math.floor(q.at * disk.size));
          const count = Math.min(q.length, disk.size - offset);
          const flags = q.one ? FLAG_REQ_ONE : 0;
          const expected = model(layout, count, offset, q.one);
          const answer = await handle.extents!(count, offset, flags);
          expect(answer).toEqual(expected);
          expect(isNormalized(answer, offset, count, !q.one)).toBe(true);
          // The descriptor form is the same answer (these disks hold no extent past a u32).
          if (!q.one) expect(descriptorsToExtents(await handle.extentDescriptors!(count, offset) as ExtentDescriptors)).toEqual(expected);
          // Through the chain: the outermost layer also rounds to sectors, so compare coverage by class.
          const viaChain = await chain.top.extents(count, offset, flags);
          expect(viaChain[0]!.offset).toBe(offset);
          if (!q.one) expect(viaChain.reduce((n, e) => n + e.length, 0)).toBe(count);
          // The chain's descriptor form, on or off the sector grid: the same answer, never refused
          // (the layout is on a 4 KiB grid, so the outermost layer's rounding changes nothing).
          if (!q.one) {
            const wire = await chain.top.extentDescriptors(count, offset);
            expect(wire).not.toBeNull();
            expect(descriptorsToExtents(wire!)).toEqual(viaChain);
          }
        }
      } finally {
        await handle.close?.();
        await chain.close();
      }
    }), propertyParams(150));
  });

  it('cut an extent too long for a descriptor and end the answer there', async () => {
    for (const [percent, flags] of [['0', EXTENT_HOLE_ZERO], ['100', EXTENT_DATA]] as const) {
      const plugin = await sparseRandomPlugin.create(parseParams('sparse-random', sparseRandomPlugin.params, { size: '1T', percent }));
      const handle = await plugin.open({ readonly: true, exportName: '' });
      const d = await handle.extentDescriptors!(16 * 2 ** 30, 4096);
      expect(descriptorsToExtents(d!)).toEqual([{ offset: 4096, length: MAX_DESCRIPTOR_EXTENT, flags }]);
    }
  });
});
