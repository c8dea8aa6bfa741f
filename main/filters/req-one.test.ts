// Regression: qemu's NBD client sets REQ_ONE on every block status request. Through a filter
// whose first extent below was a hole, the answer used to be one hole+zero extent over the
// whole request, data included (qemu-img convert then lost everything after the first hole).
import { afterAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { EXTENT_HOLE_ZERO as HZ, EXTENT_DATA as D, extentTriples, pushExtent, type Extent } from '../../shared/extents.ts';
import { FLAG_REQ_ONE } from '../backend/flags.ts';
import { openTestChain, type FilterSpec } from '../testing/chains.ts';
import type { OpenChain } from '../backend/chain.ts';
import { tempDir } from '../temp-dir.ts';
import { writeSparseFile } from '../testing/sparse-file.ts';

const K = 1024;
const tmp = tempDir();
afterAll(() => tmp.cleanup());
const file = path.join(tmp.dir, 'raw.img');
const bytes = writeSparseFile(file, 2048 * K, [{ offset: 0, length: 256 * K }, { offset: 1024 * K, length: 100 * K }]);

/**
 * The map as qemu builds it: one REQ_ONE request after another, each from where the last
 * ended; answers of equal flags merged. Every byte claimed a hole must read as zero below.
 */
async function reqOneWalk(open: OpenChain, shift: number): Promise<number[][]> {
  const size = open.top.getSize();
  const out: Extent[] = [];
  for (let pos = 0; pos < size;) {
    const list = await open.top.extents(size - pos, pos, FLAG_REQ_ONE);
    expect(list).toHaveLength(1);
    const { offset, length, flags } = list[0]!;
    expect(offset).toBe(pos);
    if (flags !== D) expect(bytes.subarray(offset + shift, Math.min(offset + length + shift, bytes.length)).every((b) => b === 0)).toBe(true);
    pushExtent(out, offset, length, flags);
    pos += length;
  }
  return extentTriples(out);
}

const STACKS: [string, FilterSpec[], number, number[][]][] = [
  ['cow', [['cow']], 0, [[0, 256 * K, D], [256 * K, 768 * K, HZ], [1024 * K, 100 * K, D], [1124 * K, 924 * K, HZ]]],
  ['truncate (grown)', [['truncate', { truncate: '3M' }]], 0, [[0, 256 * K, D], [256 * K, 768 * K, HZ], [1024 * K, 100 * K, D], [1124 * K, 1948 * K, HZ]]],
  ['offset', [['offset', { offset: '128K' }]], 128 * K, [[0, 128 * K, D], [128 * K, 768 * K, HZ], [896 * K, 100 * K, D], [996 * K, 924 * K, HZ]]],
  ['cow over offset', [['cow'], ['offset', { offset: '128K' }]], 128 * K, [[0, 128 * K, D], [128 * K, 768 * K, HZ], [896 * K, 100 * K, D], [996 * K, 924 * K, HZ]]],
];

describe('REQ_ONE through filters never claims a hole over data', () => {
  for (const [name, filters, shift, want] of STACKS) {
    it(name, async () => {
      const open = await openTestChain('file', { file }, filters, { readonly: true });
      try {
        expect(await reqOneWalk(open, shift)).toEqual(want);
      } finally {
        await open.close();
      }
    });
  }
});

describe('no hole boundary inside a sector (an offset window at an odd byte)', () => {
  it('the partial sector before data is data, and so is the one after', async () => {
    // File data [0, 256K) is export [0, 62143); file data [1M, 1M+100K) is [848575, 950975).
    const open = await openTestChain('file', { file }, [['offset', { offset: '200001' }]], { readonly: true });
    try {
      expect(await reqOneWalk(open, 200001)).toEqual([
        [0, 62464, D], [62464, 785920, HZ], [848384, 102912, D], [951296, 2048 * K - 200001 - 951296, HZ],
      ]);
    } finally {
      await open.close();
    }
  });
});
