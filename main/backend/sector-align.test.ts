import { describe, expect, it } from 'vitest';
import { EXTENT_DATA as D, EXTENT_HOLE as H, EXTENT_HOLE_ZERO as HZ, EXTENT_ZERO as Z, type Extent } from '../../shared/extents.ts';
import { alignToSectors } from './sector-align.ts';

const e = (offset: number, length: number, flags: number): Extent => ({ offset, length, flags });
const triples = (list: Extent[]) => list.map((x) => [x.offset, x.length, x.flags]);
const GIB = 2 ** 30;

describe('alignToSectors', () => {
  it('leaves sector-aligned boundaries alone', () => {
    expect(triples(alignToSectors([e(0, 1024, HZ), e(1024, 512, D), e(1536, 512, Z)], GIB))).toEqual([[0, 1024, HZ], [1024, 512, D], [1536, 512, Z]]);
  });

  it('makes a sector that is part hole, part data, data', () => {
    // nbdkit's offset filter at 1234567 puts a data extent at 1386873: qemu would zero its head.
    expect(triples(alignToSectors([e(0, 1386873, HZ), e(1386873, 100487, D)], GIB))).toEqual([[0, 1386496, HZ], [1386496, 100864, D]]);
  });

  it('makes a sector that is part data, part hole, data', () => {
    expect(triples(alignToSectors([e(0, 700, D), e(700, 2372, HZ)], GIB))).toEqual([[0, 1024, D], [1024, 2048, HZ]]);
  });

  it('gives a shared sector the flags its pieces have in common', () => {
    expect(triples(alignToSectors([e(0, 700, HZ), e(700, 1348, Z)], GIB))).toEqual([[0, 512, HZ], [512, 1536, Z]]);
    expect(triples(alignToSectors([e(0, 700, H), e(700, 1348, Z)], GIB))).toEqual([[0, 512, H], [512, 512, D], [1024, 1024, Z]]);
  });

  it('a sector with many tiny pieces is one extent', () => {
    const list = [e(0, 100, HZ), e(100, 1, D), e(101, 311, HZ), e(412, 100, Z), e(512, 512, HZ)];
    expect(triples(alignToSectors(list, GIB))).toEqual([[0, 512, D], [512, 512, HZ]]);
  });

  it('ends the reply at the sector before an answer that stopped short inside one', () => {
    expect(triples(alignToSectors([e(0, 1386873, HZ)], GIB))).toEqual([[0, 1386496, HZ]]);
  });

  it('reports a lone partial sector it knows nothing more about as data', () => {
    expect(triples(alignToSectors([e(1386496, 377, HZ)], GIB))).toEqual([[1386496, 377, D]]);
  });

  it('a disk whose size is not a sector multiple keeps its last partial sector', () => {
    expect(triples(alignToSectors([e(0, 1100, D), e(1100, 200, HZ)], 1300))).toEqual([[0, 1300, D]]);
    expect(triples(alignToSectors([e(0, 1024, D), e(1024, 276, HZ)], 1300))).toEqual([[0, 1024, D], [1024, 276, HZ]]);
  });

  it('is exact beyond 2^32', () => {
    const big = 2 ** 40;
    expect(triples(alignToSectors([e(big, 513, HZ), e(big + 513, 1535, D)], 2 * big))).toEqual([[big, 512, HZ], [big + 512, 1536, D]]);
  });
});
