// Property: random edits to a copy of a sparse image (writes, written zeroes, trims) are
// exactly the ranges compare calls "differ"; the model is a byte-wise diff of the two files.
// Every other byte is classed by allocation alone, and the totals add up to the size. The
// read sizes vary, and each side may answer block status with a short list (as an NBD server
// may), so extent, map-window and read boundaries fall everywhere: the result must not move.
// Second property: the addon's comparison of plain files (BLOCKSCOPE_FAST_COMPARE) changes
// nothing, with edits at and around chunk edges and images of unequal sizes.
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { pushRun } from '../../shared/extents.ts';
import { openTestChain } from '../testing/chains.ts';
import { propertyParams, propertyTimeout } from '../testing/property-params.ts';
import { writeSparseFile } from '../testing/sparse-file.ts';
import { tempDir } from '../temp-dir.ts';
import { nativeFileCompare } from './compare-bytes.ts';
import { compareImages, layerSide, type CompareSide } from './compare.ts';

const KiB = 1024;
const SIZE = 512 * KiB;
const tmp = tempDir();
afterAll(() => tmp.cleanup());
afterEach(() => vi.unstubAllEnvs());

type Edit = { op: 'write' | 'zero' | 'trim'; offset: number; length: number; seed: number };

const editArb: fc.Arbitrary<Edit> = fc
  .record({ op: fc.constantFrom('write', 'zero', 'trim'), offset: fc.nat(SIZE - 1), length: fc.integer({ min: 1, max: 40 * KiB }), seed: fc.nat(255) })
  .map((e) => ({ ...e, length: Math.min(e.length, SIZE - e.offset) })) as fc.Arbitrary<Edit>;

const runArb = fc.record({ offset: fc.nat(SIZE / 4096 - 1).map((b) => b * 4096), length: fc.integer({ min: 1, max: 16 }).map((n) => n * 4096) })
  .map((r) => ({ ...r, length: Math.min(r.length, SIZE - r.offset) }));

/**
 * `side` answering each block-status question with at most `maxExtents` extents, the last cut
 * `cut` bytes short where it can be (a reply may end anywhere after its first byte).
 */
function shortReplies(side: CompareSide, maxExtents: number, cut: number): CompareSide {
  return {
    ...side,
    extents: async (count, offset) => {
      const list = (await side.extents(count, offset)).slice(0, maxExtents);
      const last = list[list.length - 1];
      if (last && last.length > cut && last.offset + last.length - cut > offset) list[list.length - 1] = { ...last, length: last.length - cut };
      return list;
    },
  };
}

/** The model: [offset, length] runs where the two buffers differ, byte by byte, coalesced. */
function byteDiff(a: Buffer, b: Buffer): [number, number][] {
  const runs: { offset: number; length: number }[] = [];
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) pushRun(runs, { offset: i, length: 1 }, () => true);
  return runs.map((r) => [r.offset, r.length]);
}

async function applyEdits(file: string, edits: Edit[]): Promise<void> {
  const chain = await openTestChain('file', { file }, [], { readonly: false });
  try {
    for (const e of edits) {
      if (e.op === 'write') await chain.top.pwrite(Buffer.alloc(e.length, e.seed), e.offset);
      else if (e.op === 'zero') await chain.top.zero(e.length, e.offset);
      else await chain.top.trim(e.length, e.offset);
    }
  } finally {
    await chain.close();
  }
}

describe('compare property', () => {
  it('the ranges compare reports as "differ" are exactly the bytes that differ', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(runArb, { maxLength: 6 }),
        fc.array(editArb, { minLength: 1, maxLength: 6 }),
        fc.constantFrom(4 * KiB, 16 * KiB, 256 * KiB),
        fc.integer({ min: 1, max: 4 }),
        fc.boolean(),
        fc.constantFrom(4 * KiB, 12 * KiB, 64 * KiB),
        fc.option(fc.record({ maxExtents: fc.integer({ min: 1, max: 3 }), cut: fc.integer({ min: 0, max: 20 * KiB }) }), { nil: undefined }),
        async (runs, edits, chunk, parallel, keepHoles, shortRead, replies) => {
          const a = path.join(tmp.dir, `a${n}.img`);
          const b = path.join(tmp.dir, `b${n++}.img`);
          writeSparseFile(a, SIZE, runs);
          // A dense copy turns A's holes into written zeroes: "only-b", never "differ".
          if (keepHoles) execFileSync('cp', ['--sparse=always', a, b]);
          else copyFileSync(a, b);
          await applyEdits(b, edits);
          const [ca, cb] = await Promise.all([openTestChain('file', { file: a }, [], { readonly: true }), openTestChain('file', { file: b }, [], { readonly: true })]);
          try {
            const wrap = (t: typeof ca.top) => (replies ? shortReplies(layerSide(t), replies.maxExtents, replies.cut) : layerSide(t));
            const r = await compareImages(wrap(ca.top), wrap(cb.top), { chunk, parallel, shortRead });
            const expected = byteDiff(readFileSync(a), readFileSync(b));
            expect(r.ranges.filter((x) => x.class === 'differ').map((x) => [x.offset, x.length])).toEqual(expected);
            expect(r.identical).toBe(expected.length === 0);
            expect(r.firstDifference).toBe(expected[0]?.[0] ?? null);
            expect(Object.values(r.totals).reduce((s, x) => s + x, 0)).toBe(SIZE);
          } finally {
            await Promise.all([ca.close(), cb.close()]);
          }
        },
      ),
      propertyParams(40),
    );
  }, propertyTimeout(120_000));

  it('comparing plain files in the addon or in JavaScript gives the same result', async () => {
    let n = 0;
    let fileRanges = 0;
    // A few bytes at `delta` from the edge of chunk `edge` (or anywhere), on a copy of A made longer or shorter.
    const edgeEdit = fc.record({ op: fc.constantFrom('write', 'zero', 'trim'), edge: fc.nat(24), delta: fc.integer({ min: -3, max: 3 }), length: fc.integer({ min: 1, max: 5 }), seed: fc.nat(255) });
    await fc.assert(
      fc.asyncProperty(
        fc.array(runArb, { maxLength: 4 }),
        fc.constantFrom(16 * KiB, 20 * KiB, 64 * KiB),
        fc.integer({ min: -40 * KiB, max: 40 * KiB }),
        fc.array(edgeEdit, { maxLength: 6 }),
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        async (runs, chunk, grow, edits, parallel, keepHoles) => {
          const a = path.join(tmp.dir, `fa${n}.img`);
          const b = path.join(tmp.dir, `fb${n++}.img`);
          writeSparseFile(a, SIZE / 2, [{ offset: 0, length: SIZE / 4 }, ...runs.filter((r) => r.offset < SIZE / 2).map((r) => ({ ...r, length: Math.min(r.length, SIZE / 2 - r.offset) }))]);
          if (keepHoles) execFileSync('cp', ['--sparse=always', a, b]);
          else copyFileSync(a, b);
          const sizeB = SIZE / 2 + grow;
          truncateSync(b, sizeB);
          await applyEdits(b, edits.map((e) => {
            const offset = Math.min(Math.max(e.edge * chunk + e.delta, 0), sizeB - 1);
            return { op: e.op, offset, length: Math.min(e.length, sizeB - offset), seed: e.seed } as Edit;
          }));
          const [ca, cb] = await Promise.all([openTestChain('file', { file: a }, [], { readonly: true }), openTestChain('file', { file: b }, [], { readonly: true })]);
          try {
            const counted = (t: typeof ca.top): CompareSide => ({ ...layerSide(t), top: { fileRange: (count, offset) => (fileRanges++, t.fileRange(count, offset)) } });
            const options = { chunk, parallel, shortRead: 4 * KiB };
            vi.stubEnv('BLOCKSCOPE_FAST_COMPARE', '1');
            const fast = await compareImages(counted(ca.top), counted(cb.top), options);
            vi.stubEnv('BLOCKSCOPE_FAST_COMPARE', '0');
            const js = await compareImages(layerSide(ca.top), layerSide(cb.top), options);
            expect(fast).toEqual(js);
            // And both are right: past its end the shorter image reads as zeroes.
            const size = Math.max(SIZE / 2, sizeB);
            const pad = (buf: Buffer) => Buffer.concat([buf, Buffer.alloc(size - buf.length)]);
            expect(fast.ranges.filter((x) => x.class === 'differ').map((x) => [x.offset, x.length])).toEqual(byteDiff(pad(readFileSync(a)), pad(readFileSync(b))));
          } finally {
            await Promise.all([ca.close(), cb.close()]);
          }
        },
      ),
      propertyParams(40),
    );
    // The fast path really ran (where the addon is built): long runs' pieces asked for files.
    if (nativeFileCompare()) expect(fileRanges).toBeGreaterThan(0);
  }, propertyTimeout(120_000));
});
