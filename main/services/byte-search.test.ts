import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXTENT_DATA, EXTENT_HOLE_ZERO, pushExtent, type Extent } from '../../shared/extents.ts';
import { openTestChain } from '../testing/chains.ts';
import { propertyParams, propertyTimeout } from '../testing/property-params.ts';
import { writeSparseFile } from '../testing/sparse-file.ts';
import { searchBytes, type SearchSource } from './byte-search.ts';

const PAGE = 64;

/**
 * An image held in memory whose extents say "hole,zero" for every all-zero PAGE, as a sparse
 * file would; it counts the bytes read so the tests can see holes skipped.
 */
function memorySource(image: Buffer): SearchSource & { bytesRead: number } {
  return {
    bytesRead: 0,
    getSize: () => image.length,
    async pread(buf, offset) {
      if (offset + buf.length > image.length) throw new Error(`read past the end: ${offset}+${buf.length}`);
      image.copy(buf, 0, offset, offset + buf.length);
      this.bytesRead += buf.length;
    },
    async extents(count, offset) {
      const list: Extent[] = [];
      const end = offset + count;
      for (let at = offset; at < end; ) {
        const pageEnd = Math.min(end, (Math.floor(at / PAGE) + 1) * PAGE);
        const zero = image.subarray(at, pageEnd).every((b) => b === 0);
        pushExtent(list, at, pageEnd - at, zero ? EXTENT_HOLE_ZERO : EXTENT_DATA);
        at = pageEnd;
      }
      return list;
    },
  };
}

/** Steps of `limit` bytes until found or the disk ends, as the UI drives the channel. */
async function searchAll(src: SearchSource, pattern: Uint8Array, from: number, limit: number, chunk: number): Promise<number | null> {
  for (let pos = from, steps = 0; ; steps++) {
    const r = await searchBytes(src, pattern, pos, limit, { chunk });
    if (r.found !== null) return r.found;
    if (r.scannedTo >= src.getSize()) return null;
    expect(r.scannedTo).toBeGreaterThan(pos);
    expect(steps).toBeLessThan(100_000);
    pos = r.scannedTo;
  }
}

const bytes = (...b: number[]) => Uint8Array.from(b);

describe('searchBytes', () => {
  const image = Buffer.alloc(1024);
  image.set([0xde, 0xad, 0xbe, 0xef], 100);
  // Straddles the 256-byte chunk boundary at 512.
  image.set([0x11, 0x22, 0x33, 0x44], 510);
  image.set([0x00, 0x00, 0x07], 900);

  it('finds a pattern at or after `from`', async () => {
    expect(await searchBytes(memorySource(image), bytes(0xde, 0xad, 0xbe, 0xef), 0, 4096)).toEqual({ found: 100, scannedTo: 100 });
    expect(await searchBytes(memorySource(image), bytes(0xde, 0xad, 0xbe, 0xef), 100, 4096)).toEqual({ found: 100, scannedTo: 100 });
  });

  it('answers null and the size once nothing is left', async () => {
    expect(await searchBytes(memorySource(image), bytes(0xde, 0xad, 0xbe, 0xef), 101, 4096)).toEqual({ found: null, scannedTo: 1024 });
    expect(await searchBytes(memorySource(image), bytes(1), 1024, 4096)).toEqual({ found: null, scannedTo: 1024 });
  });

  it('finds a match that straddles two chunks', async () => {
    expect(await searchBytes(memorySource(image), bytes(0x11, 0x22, 0x33, 0x44), 300, 4096, { chunk: 256 })).toEqual({ found: 510, scannedTo: 510 });
  });

  it('stops after `limit` bytes and says where to go on from', async () => {
    const dense = Buffer.alloc(1024, 0xff);
    dense.set([0x11, 0x22, 0x33, 0x44], 510);
    const src = memorySource(dense);
    const first = await searchBytes(src, bytes(0x11, 0x22, 0x33, 0x44), 200, 200, { chunk: 64 });
    expect(first).toEqual({ found: null, scannedTo: 400 });
    expect(await searchBytes(src, bytes(0x11, 0x22, 0x33, 0x44), first.scannedTo, 200, { chunk: 64 })).toEqual({ found: 510, scannedTo: 510 });
  });

  it('skips zero runs without reading them, yet finds a pattern that starts with zeros', async () => {
    const src = memorySource(image);
    expect(await searchBytes(src, bytes(0x00, 0x00, 0x07), 200, 4096)).toEqual({ found: 900, scannedTo: 900 });
    // Pages 3..13 (192..895) are zero except the data page 448..575; the pattern starts 2 bytes before 900.
    expect(src.bytesRead).toBeLessThan(400);
  });

  it('reads zeros when the pattern is all zeros', async () => {
    expect(await searchBytes(memorySource(image), bytes(0, 0), 100, 4096)).toEqual({ found: 104, scannedTo: 104 });
  });

  it('never lets a pattern hang off the end of the disk', async () => {
    const tail = Buffer.from([1, 2, 3, 4]);
    expect(await searchBytes(memorySource(tail), bytes(4, 5), 0, 100)).toEqual({ found: null, scannedTo: 4 });
    expect(await searchBytes(memorySource(tail), bytes(3, 4), 0, 100)).toEqual({ found: 2, scannedTo: 2 });
  });
});

describe('searchBytes against indexOf', () => {
  it('finds what a naive indexOf over the image finds, at any chunk and step size', { timeout: propertyTimeout(60_000) }, async () => {
    const imageArb = fc
      .array(fc.record({ at: fc.nat(2047), data: fc.uint8Array({ minLength: 1, maxLength: 40 }) }), { maxLength: 6 })
      .map((runs) => {
        const img = Buffer.alloc(2048);
        for (const r of runs) img.set(r.data.subarray(0, 2048 - r.at), r.at);
        return img;
      });
    const caseArb = imageArb.chain((img) =>
      fc.record({
        img: fc.constant(img),
        // Half the patterns are cut from the image (so they occur), half are random.
        pattern: fc.oneof(
          fc.tuple(fc.nat(2047), fc.integer({ min: 1, max: 12 })).map(([at, n]) => Uint8Array.from(img.subarray(at, Math.min(2048, at + n)))),
          fc.uint8Array({ minLength: 1, maxLength: 4 }),
        ),
        from: fc.nat(2048),
        chunk: fc.integer({ min: 1, max: 300 }),
        limit: fc.integer({ min: 1, max: 3000 }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(caseArb, async ({ img, pattern, from, chunk, limit }) => {
        const expected = img.indexOf(Buffer.from(pattern), from);
        const found = await searchAll(memorySource(img), pattern, from, limit, chunk);
        expect(found).toBe(expected < 0 ? null : expected);
      }),
      propertyParams(300),
    );
  });
});

describe('searchBytes through a chain', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'blockscope-byte-search-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds bytes in a sparse file read by the file plugin behind the offset filter', async () => {
    const file = path.join(dir, 'disk.img');
    const size = 8 * 1024 * 1024;
    const model = writeSparseFile(file, size, [{ offset: 6 * 1024 * 1024 - 8, length: 64 }]);
    const needle = model.subarray(6 * 1024 * 1024 - 4, 6 * 1024 * 1024 + 4);
    const conn = await openTestChain('file', { file }, [['offset', { offset: '1M' }]], { readonly: true });
    try {
      const r = await searchBytes(conn.top, needle, 0, size);
      expect(r).toEqual({ found: 5 * 1024 * 1024 - 4, scannedTo: 5 * 1024 * 1024 - 4 });
    } finally {
      await conn.close();
    }
  });
});
