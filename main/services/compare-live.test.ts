// A live comparison refreshed over the ranges that were written equals a comparison made
// afresh: property-checked with random edits (writes, zeroes, trims) to either side, each
// refreshed over the edited ranges widened to random alignments, as map.changed widens them
// (never below the filesystem's 4 KiB block: a one-byte write allocates the whole block).
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CompareRun } from '../../shared/ipc.ts';
import type { Chain } from '../backend/chain.ts';
import { registry } from '../catalog.ts';
import { propertyParams, propertyTimeout } from '../testing/property-params.ts';
import { writeSparseFile } from '../testing/sparse-file.ts';
import { tempDir } from '../temp-dir.ts';
import { compareChains } from './compare.ts';
import { LiveCompares, normaliseWindows, spliceWindows } from './compare-live.ts';

const KiB = 1024;
const SIZE = 256 * KiB;
const tmp = tempDir();
afterAll(() => tmp.cleanup());

type Edit = { side: 'a' | 'b'; op: 'write' | 'zero' | 'trim'; offset: number; length: number; seed: number };

const editArb: fc.Arbitrary<Edit> = fc
  .record({
    side: fc.constantFrom('a', 'b'),
    op: fc.constantFrom('write', 'zero', 'trim'),
    offset: fc.nat(SIZE - 1),
    length: fc.integer({ min: 1, max: 20 * KiB }),
    seed: fc.nat(255),
  })
  .map((e) => ({ ...e, length: Math.min(e.length, SIZE - e.offset) })) as fc.Arbitrary<Edit>;

const fileChain = (file: string): Promise<Chain> => registry.build({ plugin: { name: 'file', params: { file } }, filters: [] });

async function applyEdits(chain: Chain, edits: Edit[]): Promise<void> {
  const open = await chain.open({ readonly: false, exportName: '' });
  try {
    for (const e of edits) {
      if (e.op === 'write') await open.top.pwrite(Buffer.alloc(e.length, e.seed), e.offset);
      else if (e.op === 'zero') await open.top.zero(e.length, e.offset);
      else await open.top.trim(e.length, e.offset);
    }
  } finally {
    await open.close();
  }
}

const run = (imageId: string, otherId: string, r: Awaited<ReturnType<typeof compareChains>>): CompareRun => ({ ...r, imageId, otherId, otherTitle: otherId });

describe('LiveCompares.refresh', () => {
  it('refreshing the edited ranges gives what a new comparison gives', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(editArb, { minLength: 1, maxLength: 6 }), fc.constantFrom(4 * KiB, 16 * KiB, 64 * KiB), fc.boolean(), async (edits, align, strict) => {
        const fa = path.join(tmp.dir, `a${n}.img`);
        const fb = path.join(tmp.dir, `b${n++}.img`);
        writeSparseFile(fa, SIZE, [{ offset: 0, length: 16 * KiB }, { offset: 96 * KiB, length: 32 * KiB }]);
        execFileSync('cp', ['--sparse=always', fa, fb]);
        const chains: Record<string, Chain> = { a: await fileChain(fa), b: await fileChain(fb) };
        const live = new LiveCompares();
        live.remember(run('a', 'b', await compareChains(chains.a!, chains.b!, strict)));
        for (const side of ['a', 'b'] as const) await applyEdits(chains[side]!, edits.filter((e) => e.side === side));
        const changed = edits.map((e): [number, number] => [Math.floor(e.offset / align) * align, Math.ceil((e.offset + e.length) / align) * align]);
        const refreshed = await live.refresh('a', 'b', changed, (id) => chains[id]!);
        const afresh = await compareChains(chains.a!, chains.b!, strict);
        expect(refreshed).toEqual(run('a', 'b', afresh));
      }),
      propertyParams(25),
    );
  }, propertyTimeout(120_000));

  it('an image closed on either side ends the comparisons with it; a new compare.run replaces the old', async () => {
    const live = new LiveCompares();
    const result = run('a', 'b', { sizeA: 10, sizeB: 10, strict: false, identical: true, firstDifference: null, totals: { identical: 10, differ: 0, 'only-a': 0, 'only-b': 0 }, ranges: [] });
    live.remember(result);
    live.remember({ ...result, imageId: 'c', otherId: 'd' });
    live.forget('b');
    await expect(live.refresh('a', 'b', [[0, 1]], () => { throw new Error('not reached'); })).rejects.toThrow(/no comparison/);
    live.remember({ ...result, imageId: 'c', otherId: 'e' });
    await expect(live.refresh('c', 'd', [[0, 1]], () => { throw new Error('not reached'); })).rejects.toThrow(/no comparison/);
  });

  it('refuses a pair it has no comparison of', async () => {
    const live = new LiveCompares();
    await expect(live.refresh('a', 'b', [[0, 1]], () => { throw new Error('not reached'); })).rejects.toThrow(/no comparison/);
  });
});

describe('spliceWindows', () => {
  const base: CompareRun = {
    imageId: 'a', otherId: 'b', otherTitle: 'b', sizeA: 100, sizeB: 100, strict: false, identical: false, firstDifference: 10,
    totals: { identical: 70, differ: 20, 'only-a': 10, 'only-b': 0 },
    ranges: [{ offset: 10, length: 20, class: 'differ' }, { offset: 50, length: 10, class: 'only-a' }],
  };

  it('cuts the old ranges at the window and puts the fresh answer in', () => {
    const out = spliceWindows(base, [[15, 55]], [{ offset: 20, length: 5, class: 'differ' }]);
    expect(out.ranges).toEqual([
      { offset: 10, length: 5, class: 'differ' },
      { offset: 20, length: 5, class: 'differ' },
      { offset: 55, length: 5, class: 'only-a' },
    ]);
    expect(out.totals).toEqual({ identical: 85, differ: 10, 'only-a': 5, 'only-b': 0 });
    expect(out.firstDifference).toBe(10);
  });

  it('a window that became identical leaves no difference: the verdict turns', () => {
    const out = spliceWindows(base, [[0, 40]], []);
    expect(out.identical).toBe(true); // only-a does not count without strict
    expect(out.firstDifference).toBeNull();
    expect(spliceWindows({ ...base, strict: true }, [[0, 40]], []).firstDifference).toBe(50);
  });

  it('fresh ranges touching kept ones of their class coalesce', () => {
    expect(spliceWindows(base, [[30, 40]], [{ offset: 30, length: 2, class: 'differ' }]).ranges[0]).toEqual({ offset: 10, length: 22, class: 'differ' });
  });
});

describe('normaliseWindows', () => {
  it('sorts, merges what touches and clips to the size', () => {
    expect(normaliseWindows([[50, 200], [0, 10], [10, 20], [300, 400]], 100)).toEqual([[0, 20], [50, 100]]);
  });
});
