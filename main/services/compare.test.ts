// compareImages on real sparse files through the file plugin's chain: literal ranges and
// totals, the reads the maps save, and ranges that cross read boundaries.
import { closeSync, copyFileSync, ftruncateSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { OpenChain } from '../backend/chain.ts';
import { errnoName } from '../native-io.ts';
import { openTestChain } from '../testing/chains.ts';
import { writeSparseFile } from '../testing/sparse-file.ts';
import { tempDir } from '../temp-dir.ts';
import { differingRuns, nativeFileCompare } from './compare-bytes.ts';
import { compareImages, layerSide, type CompareOptions, type CompareSide } from './compare.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const tmp = tempDir();
const at = (name: string) => path.join(tmp.dir, name);
afterAll(() => tmp.cleanup());

const open: OpenChain[] = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(open.splice(0).map((c) => c.close()));
});

async function side(file: string): Promise<CompareSide & { bytesRead: number; reads: [offset: number, length: number][] }> {
  const chain = await openTestChain('file', { file }, [], { readonly: true });
  open.push(chain);
  const inner = layerSide(chain.top);
  const counted = {
    ...inner,
    bytesRead: 0,
    reads: [] as [number, number][],
    pread: (buf: Buffer, offset: number) => {
      counted.bytesRead += buf.length;
      counted.reads.push([offset, buf.length]);
      return inner.pread(buf, offset);
    },
  };
  return counted;
}

function patch(file: string, offset: number, bytes: Buffer | number[]): void {
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.from(bytes), 0, bytes.length, offset);
  closeSync(fd);
}

/** Invert `length` bytes at `offset`: every one of them then differs from before. */
function flip(file: string, offset: number, length: number): void {
  const bytes = readFileSync(file).subarray(offset, offset + length).map((x) => x ^ 0xff);
  patch(file, offset, Buffer.from(bytes));
}

/** A copy that keeps the holes (copyFileSync writes them out as zeroes). */
function sparseCopy(from: string, to: string): void {
  execFileSync('cp', ['--sparse=always', from, to]);
}

async function compareFiles(a: string, b: string, options?: CompareOptions) {
  return compareImages(await side(a), await side(b), options);
}

describe('differingRuns', () => {
  it('finds byte-exact runs and joins neighbours across its 4 KiB blocks', () => {
    const a = Buffer.alloc(3 * 4096);
    const b = Buffer.from(a);
    b[0] = 1;
    b[4095] = 1;
    b[4096] = 1;
    b[4098] = 1;
    b[12287] = 1;
    expect(differingRuns(a, b)).toEqual([[0, 1], [4095, 4097], [4098, 4099], [12287, 12288]]);
    expect(differingRuns(a, Buffer.from(a))).toEqual([]);
  });
});

describe('compareImages', () => {
  it('a copy is identical and only its data is read', async () => {
    writeSparseFile(at('id-a.img'), 4 * MiB, [{ offset: 0, length: 192 * KiB }, { offset: MiB, length: 64 * KiB }]);
    sparseCopy(at('id-a.img'), at('id-b.img'));
    const a = await side(at('id-a.img'));
    const b = await side(at('id-b.img'));
    const r = await compareImages(a, b);
    expect(r).toMatchObject({ identical: true, firstDifference: null, ranges: [], sizeA: 4 * MiB, sizeB: 4 * MiB });
    expect(r.totals).toEqual({ identical: 4 * MiB, differ: 0, 'only-a': 0, 'only-b': 0 });
    // Holes on both sides read zero and are never read.
    expect([a.bytesRead, b.bytesRead]).toEqual([256 * KiB, 256 * KiB]);
  });

  it('one changed byte is one range at its exact offset', async () => {
    writeSparseFile(at('one-a.img'), 4 * MiB, [{ offset: 0, length: 192 * KiB }]);
    sparseCopy(at('one-a.img'), at('one-b.img'));
    flip(at('one-b.img'), 70001, 1);
    const r = await compareFiles(at('one-a.img'), at('one-b.img'));
    expect(r.ranges).toEqual([{ offset: 70001, length: 1, class: 'differ' }]);
    expect(r).toMatchObject({ identical: false, firstDifference: 70001 });
    expect(r.totals.differ).toBe(1);
  });

  it('both holes are never read; a hole against written zeroes is "only-b", a difference only with strict', async () => {
    writeSparseFile(at('h-a.img'), 2 * MiB, [{ offset: 0, length: 64 * KiB }]);
    copyFileSync(at('h-a.img'), at('h-b.img'));
    const a = await side(at('h-a.img'));
    const b = await side(at('h-b.img'));
    // h-b is dense (copyFileSync wrote its holes as zeroes): A's hole is allocated in B only.
    const loose = await compareImages(a, b);
    expect(loose.ranges).toEqual([{ offset: 64 * KiB, length: 2 * MiB - 64 * KiB, class: 'only-b' }]);
    expect(loose).toMatchObject({ identical: true, firstDifference: null });
    const strict = await compareImages(a, b, { strict: true });
    expect(strict).toMatchObject({ identical: false, firstDifference: 64 * KiB });
    const both = await compareFiles(at('h-a.img'), at('h-a.img'));
    expect(both.totals.identical).toBe(2 * MiB);
  });

  it('the tail of the larger image is compared against zeroes', async () => {
    writeSparseFile(at('s-a.img'), MiB, [{ offset: 0, length: 4 * KiB }]);
    sparseCopy(at('s-a.img'), at('s-b.img'));
    const fd = openSync(at('s-b.img'), 'r+');
    ftruncateSync(fd, 2 * MiB); // a hole past A's end: reads zero, so not a difference
    closeSync(fd);
    const hole = await compareFiles(at('s-a.img'), at('s-b.img'));
    expect(hole).toMatchObject({ identical: true, sizeA: MiB, sizeB: 2 * MiB, ranges: [] });
    const strict = await compareFiles(at('s-a.img'), at('s-b.img'), { strict: true });
    expect(strict).toMatchObject({ identical: false, firstDifference: MiB, ranges: [] });
    patch(at('s-b.img'), MiB + 512 * KiB, [0, 0, 7]);
    const data = await compareFiles(at('s-b.img'), at('s-a.img'));
    const block = Math.floor((MiB + 512 * KiB) / 4096) * 4096; // the filesystem allocates a block
    expect(data.ranges).toEqual([
      { offset: block, length: MiB + 512 * KiB + 2 - block, class: 'only-a' },
      { offset: MiB + 512 * KiB + 2, length: 1, class: 'differ' },
      { offset: MiB + 512 * KiB + 3, length: block + 4096 - (MiB + 512 * KiB + 3), class: 'only-a' },
    ]);
    expect(data).toMatchObject({ identical: false, firstDifference: MiB + 512 * KiB + 2 });
  });

  it('a long run is read in chunks, a short extent in short reads', async () => {
    vi.stubEnv('BLOCKSCOPE_FAST_COMPARE', '0'); // the reads JavaScript makes itself
    // 2.5 MiB of data from 0, a 100 KiB extent at 3 MiB; the rest is a hole on both sides.
    writeSparseFile(at('r-a.img'), 4 * MiB, [{ offset: 0, length: 2 * MiB + 512 * KiB }, { offset: 3 * MiB, length: 100 * KiB }]);
    sparseCopy(at('r-a.img'), at('r-b.img'));
    const a = await side(at('r-a.img'));
    const b = await side(at('r-b.img'));
    const r = await compareImages(a, b, { chunk: MiB, shortRead: 32 * KiB });
    expect(r).toMatchObject({ identical: true, ranges: [] });
    const expected = [
      [0, MiB],
      [MiB, MiB],
      [2 * MiB, 512 * KiB], // the tail of the run: shorter than a chunk, but not split
      [3 * MiB, 32 * KiB],
      [3 * MiB + 32 * KiB, 32 * KiB],
      [3 * MiB + 64 * KiB, 32 * KiB],
      [3 * MiB + 96 * KiB, 4 * KiB],
    ];
    for (const s of [a, b]) expect(s.reads.sort((x, y) => x[0] - y[0])).toEqual(expected);
  });

  it('a run that crosses read boundaries comes back as one range, whatever the parallelism', async () => {
    writeSparseFile(at('x-a.img'), MiB, [{ offset: 0, length: MiB }]);
    copyFileSync(at('x-a.img'), at('x-b.img'));
    flip(at('x-b.img'), 64 * KiB - 6, 12 + 64 * KiB);
    for (const parallel of [1, 3]) {
      const r = await compareFiles(at('x-a.img'), at('x-b.img'), { chunk: 16 * KiB, parallel });
      expect(r.ranges).toEqual([{ offset: 64 * KiB - 6, length: 12 + 64 * KiB, class: 'differ' }]);
    }
  });

  describe('plain files compared by the addon', () => {
    it.skipIf(!nativeFileCompare())('compareFileRanges: the first differing byte from the ranges\' starts, -1 if equal, -errno', async () => {
      const base = Buffer.alloc(3 * MiB + 5, 0x3c);
      const moved = Buffer.concat([Buffer.alloc(7), base]); // the same bytes 7 further on
      moved[7 + 2 * MiB + 3] ^= 1;
      writeFileSync(at('c-a.bin'), base);
      writeFileSync(at('c-b.bin'), moved);
      const fa = openSync(at('c-a.bin'), 'r');
      const fb = openSync(at('c-b.bin'), 'r');
      try {
        const compare = nativeFileCompare()!;
        expect(await compare(fa, 0, fb, 7, 2 * MiB + 3)).toBe(-1);
        expect(await compare(fa, 0, fb, 7, base.length)).toBe(2 * MiB + 3);
        expect(await compare(fa, MiB, fb, MiB + 7, 2 * MiB)).toBe(MiB + 3);
        expect(await compare(fa, 0, fb, 0, 16)).toBe(0);
        expect(errnoName(await compare(fa, 0, fa, 4, base.length))).toBe('ENODATA'); // B's range runs past its end
        expect(errnoName(await compare(fa, 0, -1, 0, 16))).toBe('EBADF');
      } finally {
        closeSync(fa);
        closeSync(fb);
      }
    });

    it.skipIf(!nativeFileCompare())('long runs of two files are never read into JavaScript; short extents still are', async () => {
      writeSparseFile(at('f-a.img'), 4 * MiB, [{ offset: 0, length: 2 * MiB + 512 * KiB }, { offset: 3 * MiB, length: 100 * KiB }]);
      sparseCopy(at('f-a.img'), at('f-b.img'));
      const a = await side(at('f-a.img'));
      const b = await side(at('f-b.img'));
      const r = await compareImages(a, b, { chunk: MiB, shortRead: 32 * KiB });
      expect(r).toMatchObject({ identical: true, ranges: [] });
      expect(r.totals.identical).toBe(4 * MiB);
      const expected = [[3 * MiB, 32 * KiB], [3 * MiB + 32 * KiB, 32 * KiB], [3 * MiB + 64 * KiB, 32 * KiB], [3 * MiB + 96 * KiB, 4 * KiB]];
      for (const s of [a, b]) expect(s.reads.sort((x, y) => x[0] - y[0])).toEqual(expected);
    });

    it.skipIf(!nativeFileCompare())('a chunk the addon finds different is read again and its runs are exact', async () => {
      writeSparseFile(at('d-a.img'), 4 * MiB, [{ offset: 0, length: 4 * MiB }]);
      copyFileSync(at('d-a.img'), at('d-b.img'));
      flip(at('d-b.img'), MiB - 1, 2); // across the boundary of the first and second chunk
      flip(at('d-b.img'), 4 * MiB - 1, 1); // the last byte
      const a = await side(at('d-a.img'));
      const b = await side(at('d-b.img'));
      const r = await compareImages(a, b, { chunk: MiB });
      expect(r.ranges).toEqual([
        { offset: MiB - 1, length: 2, class: 'differ' },
        { offset: 4 * MiB - 1, length: 1, class: 'differ' },
      ]);
      expect(r).toMatchObject({ identical: false, firstDifference: MiB - 1 });
      expect(r.totals).toEqual({ identical: 4 * MiB - 3, differ: 3, 'only-a': 0, 'only-b': 0 });
      // Only the three chunks holding a difference were read, by both sides.
      for (const s of [a, b]) expect(s.reads.sort((x, y) => x[0] - y[0])).toEqual([[0, MiB], [MiB, MiB], [3 * MiB, MiB]]);
    });

    it('a side that keeps its bytes in no file is read as before', async () => {
      writeSparseFile(at('n-a.img'), 2 * MiB, [{ offset: 0, length: 2 * MiB }]);
      copyFileSync(at('n-a.img'), at('n-b.img'));
      flip(at('n-b.img'), 1234567, 3);
      const a = await side(at('n-a.img'));
      const b = { ...(await side(at('n-b.img'))), top: undefined };
      const r = await compareImages(a, b, { chunk: MiB });
      expect(r.ranges).toEqual([{ offset: 1234567, length: 3, class: 'differ' }]);
      expect(a.reads.sort((x, y) => x[0] - y[0])).toEqual([[0, MiB], [MiB, MiB]]);
    });
  });
});
