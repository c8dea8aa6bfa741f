import { describe, expect, it } from 'vitest';
import { EXTENT_DATA as D, EXTENT_HOLE as H, EXTENT_HOLE_ZERO as HZ, EXTENT_NONE, EXTENT_ZERO as Z, type Extent } from '../../shared/extents.ts';
import { normalizeExtents } from './extents.ts';

const e = (offset: number, length: number, flags: number): Extent => ({ offset, length, flags });
const triples = (list: Extent[]) => list.map((x) => [x.offset, x.length, x.flags]);
/** A plugin's answer to a request without REQ_ONE: it speaks for the whole range. */
const FULL = { tailIsHole: true };
/** An answer to REQ_ONE, or a filter's list: nothing is said past its last entry. */
const SHORT = { tailIsHole: false };

// One row per rule of the seed (nbdkit-extents-patch.txt, .extents in nbdkit-plugin.pod).
const cases: { rule: string; raw: Extent[]; offset: number; count: number; want: number[][] }[] = [
  { rule: 'in order, exact cover: passed through', raw: [e(0, 10, D), e(10, 10, HZ)], offset: 0, count: 20, want: [[0, 10, D], [10, 10, HZ]] },
  { rule: 'any order: sorted', raw: [e(10, 10, HZ), e(0, 10, D)], offset: 0, count: 20, want: [[0, 10, D], [10, 10, HZ]] },
  { rule: 'NONE entries are dropped (their span becomes a hole)', raw: [e(0, 10, D), e(10, 5, EXTENT_NONE), e(15, 5, Z)], offset: 0, count: 20, want: [[0, 10, D], [10, 5, HZ], [15, 5, Z]] },
  { rule: 'entries outside the range are ignored', raw: [e(0, 5, Z), e(100, 10, D), e(10, 5, D)], offset: 10, count: 10, want: [[10, 5, D], [15, 5, HZ]] },
  { rule: 'entries straddling the start are clipped', raw: [e(0, 15, D)], offset: 10, count: 10, want: [[10, 5, D], [15, 5, HZ]] },
  { rule: 'entries straddling the end are clipped', raw: [e(15, 100, Z)], offset: 10, count: 10, want: [[10, 5, HZ], [15, 5, Z]] },
  { rule: 'uncovered parts are holes that read as zero', raw: [e(5, 2, D)], offset: 0, count: 10, want: [[0, 5, HZ], [5, 2, D], [7, 3, HZ]] },
  { rule: 'no entries at all: one hole', raw: [], offset: 4, count: 8, want: [[4, 8, HZ]] },
  { rule: 'neighbours of the same type are coalesced', raw: [e(0, 4, D), e(4, 4, D), e(8, 4, Z), e(12, 4, Z)], offset: 0, count: 16, want: [[0, 8, D], [8, 8, Z]] },
  { rule: 'a gap-filling hole coalesces with a hole entry', raw: [e(0, 4, HZ), e(8, 4, HZ)], offset: 0, count: 12, want: [[0, 12, HZ]] },
  { rule: 'HOLE without ZERO is kept distinct', raw: [e(0, 4, H), e(4, 4, HZ)], offset: 0, count: 8, want: [[0, 4, H], [4, 4, HZ]] },
  { rule: 'bits other than HOLE and ZERO are masked', raw: [e(0, 8, D | 0x10)], offset: 0, count: 8, want: [[0, 8, D]] },
  { rule: 'zero-length entries are ignored', raw: [e(0, 0, Z), e(0, 8, D)], offset: 0, count: 8, want: [[0, 8, D]] },
  { rule: 'adjacent (touching) entries do not overlap', raw: [e(4, 4, Z), e(0, 4, D)], offset: 0, count: 8, want: [[0, 4, D], [4, 4, Z]] },
];

describe('normalizeExtents (the seed contract)', () => {
  for (const c of cases) {
    it(c.rule, () => {
      expect(triples(normalizeExtents('test', c.raw, c.offset, c.count, FULL))).toEqual(c.want);
    });
  }

  it('rejects overlapping entries with a clear error', () => {
    expect(() => normalizeExtents('myplugin', [e(0, 10, D), e(5, 10, Z)], 0, 20, FULL)).toThrow(/myplugin: extents overlap at offset 5/);
  });

  it('rejects overlaps in any input order', () => {
    expect(() => normalizeExtents('p', [e(5, 10, Z), e(0, 10, D)], 0, 20, FULL)).toThrow(/overlap/);
  });

  it('rejects entries that are not exact integers', () => {
    expect(() => normalizeExtents('p', [e(0.5, 10, D)], 0, 20, FULL)).toThrow(/invalid entry/);
    expect(() => normalizeExtents('p', [e(0, -1, D)], 0, 20, FULL)).toThrow(/invalid entry/);
  });

  it('caps the list and then covers less than asked', () => {
    const raw = Array.from({ length: 10 }, (_, i) => e(i * 2, 1, D));
    const out = normalizeExtents('p', raw, 0, 20, { tailIsHole: true, max: 4 });
    expect(triples(out)).toEqual([[0, 1, D], [1, 1, HZ], [2, 1, D], [3, 1, HZ]]);
  });

  it('an answer that does not speak for its tail ends at its last entry', () => {
    expect(triples(normalizeExtents('p', [e(0, 10, HZ)], 0, 100, SHORT))).toEqual([[0, 10, HZ]]);
  });

  it('gaps between and before entries are still holes in such an answer', () => {
    expect(triples(normalizeExtents('p', [e(4, 2, D), e(10, 2, D)], 0, 100, SHORT))).toEqual([[0, 4, HZ], [4, 2, D], [6, 4, HZ], [10, 2, D]]);
  });

  it('an answer with nothing to say about the start is an error', () => {
    expect(() => normalizeExtents('myfilter', [], 0, 100, SHORT)).toThrow(/myfilter: extents returned nothing for 100 bytes at 0/);
  });

  it('handles offsets beyond 2^32 exactly', () => {
    const big = 2 ** 40;
    expect(triples(normalizeExtents('p', [e(big + 512, 512, D)], big, 4096, FULL))).toEqual([[big, 512, HZ], [big + 512, 512, D], [big + 1024, 3072, HZ]]);
  });
});
