// sparse-random: a large, sparse, deterministic test disk (nbdkit-sparse-random-plugin). The
// layout is a seeded Markov chain over 4 KiB blocks (./layout.ts); content is computed, never
// stored. Writes are accepted only when they match what is already there (as nbdkit does),
// so a copy of the disk onto itself succeeds and anything else fails with EIO.
import { EXTENT_DATA, EXTENT_HOLE_ZERO, type Extent } from '../../../shared/extents.ts';
import { BlockError } from '../../backend/errors.ts';
import { DescriptorWriter, MAX_DESCRIPTOR_EXTENT, type ExtentDescriptors } from '../../backend/extent-descriptors.ts';
import { FLAG_REQ_ONE } from '../../backend/flags.ts';
import { definePlugin } from '../../backend/types.ts';
import { blockByteContent, randomContent, type ContentFill } from './content.ts';
import { SparseLayout } from './layout.ts';

/** The seed when none is given. nbdkit seeds from the clock; a fixed default keeps maps reproducible. */
export const DEFAULT_SEED = 1;

/** nbdkit's percent=N means N %, so "0.5" is half a percent (unlike the shared 'percent' kind). */
export function parsePercentOfData(text: string): number {
  const m = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*%?\s*$/.exec(text);
  const n = m ? Number(m[1]) : NaN;
  if (!(n >= 0 && n <= 100)) throw new Error(`sparse-random: percent: '${text}' is not a percentage between 0 and 100`);
  return n / 100;
}

function readInto(layout: SparseLayout, content: ContentFill, buf: Buffer, offset: number): void {
  const end = offset + buf.length;
  let pos = offset;
  for (let i = layout.firstRunEndingAfter(offset); i < layout.runCount; i++) {
    const start = Math.max(layout.runStart(i), pos);
    if (start >= end) break;
    const stop = Math.min(layout.runEnd(i), end);
    if (start > pos) buf.fill(0, pos - offset, start - offset);
    content(buf, start - offset, start, stop - start);
    pos = stop;
  }
  if (pos < end) buf.fill(0, pos - offset);
}

/**
 * The whole answer for [offset, offset+count): data runs and the holes between them, clipped
 * to the range, as the backend would normalise it (on a disk of ten million extents the
 * backend's normalising pass was a fifth of the server's scan time). `each` gets every extent
 * in order and returns false to stop there.
 */
function walkLayout(layout: SparseLayout, count: number, offset: number, each: (offset: number, length: number, flags: number) => boolean): void {
  const end = offset + count;
  let pos = offset;
  for (let i = layout.firstRunEndingAfter(offset); i < layout.runCount && pos < end; i++) {
    const start = layout.runStart(i);
    if (start >= end) break;
    if (start > pos) {
      if (!each(pos, start - pos, EXTENT_HOLE_ZERO)) return;
      pos = start;
    }
    const stop = Math.min(layout.runEnd(i), end);
    if (!each(pos, stop - pos, EXTENT_DATA)) return;
    pos = stop;
  }
  if (pos < end) each(pos, end - pos, EXTENT_HOLE_ZERO);
}

function layoutExtents(layout: SparseLayout, count: number, offset: number, one: boolean): Extent[] {
  const out: Extent[] = [];
  walkLayout(layout, count, offset, (start, length, flags) => {
    out.push({ offset: start, length, flags });
    return !one;
  });
  return out;
}

/**
 * The same answer in NBD descriptor form: no object per extent. It ends before an extent too
 * long for a descriptor (the first one is cut to fit), and the caller asks on from there.
 */
function layoutDescriptors(layout: SparseLayout, count: number, offset: number): ExtentDescriptors {
  // Room for every extent the range can hold (a hole before each run, one after), so the
  // answer is written once rather than regrown: sixteen thousand extents per scan query.
  const runs = layout.firstRunStartingAtOrAfter(offset + count) - layout.firstRunEndingAfter(offset);
  const out = new DescriptorWriter(offset, 2 * runs + 1);
  walkLayout(layout, count, offset, (_start, length, flags) => {
    if (length <= MAX_DESCRIPTOR_EXTENT) out.push(length, flags);
    else if (out.count === 0) out.push(MAX_DESCRIPTOR_EXTENT, flags);
    return length <= MAX_DESCRIPTOR_EXTENT;
  });
  return out.finish();
}

export const sparseRandomPlugin = definePlugin({
  name: 'sparse-random',
  summary: 'large sparse test disk with a random, reproducible layout',
  magicKey: 'size',
  params: [
    { key: 'size', kind: 'size', required: true, description: 'virtual size, e.g. 64G' },
    { key: 'seed', kind: 'int', default: String(DEFAULT_SEED), description: 'random seed: the same seed gives the same disk' },
    { key: 'percent', kind: 'string', default: '10', description: 'approximate share of the disk holding data, in % (0-100)' },
    { key: 'runlength', kind: 'size', default: '16M', min: 1, description: 'average length of a data run' },
    { key: 'random-content', kind: 'bool', default: 'false', description: 'fill data with random bytes instead of one repeated byte per block' },
  ],
  create(params) {
    const size = params.size;
    const seed = params.seed;
    const layout = SparseLayout.generate({
      size,
      seed,
      fraction: parsePercentOfData(params.percent),
      runLength: params.runlength,
    });
    const content = params['random-content'] ? randomContent(seed) : blockByteContent(seed);
    return {
      description: `sparse-random disk of ${size} bytes (seed ${seed}, ${layout.runCount} data runs)`,
      open: () => ({
        getSize: () => size,
        canMultiConn: () => true,
        canCache: () => 'native',
        cache: () => {},
        flush: () => {},
        pread: (buf, offset) => readInto(layout, content, buf, offset),
        pwrite(buf, offset) {
          const expected = Buffer.allocUnsafe(buf.length);
          readInto(layout, content, expected, offset);
          if (!expected.equals(buf)) {
            throw new BlockError('EIO', `sparse-random: a write at ${offset} differs from the disk's content; only identical writes are accepted`);
          }
        },
        extents: (count, offset, flags) => layoutExtents(layout, count, offset, (flags & FLAG_REQ_ONE) !== 0),
        extentDescriptors: (count, offset) => layoutDescriptors(layout, count, offset),
      }),
    };
  },
});
