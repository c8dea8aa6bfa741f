import { describe, expect, it } from 'vitest';
import { allocationExtents, gapSpan } from './allocation.ts';

const triples = (runs: ReturnType<typeof allocationExtents>) => runs.map((e) => [e.offset, e.length, e.flags]);

describe('allocationExtents', () => {
  it('reports data runs as data when nothing is unwritten', () => {
    expect(triples(allocationExtents([0, 10, 20, 30], []))).toEqual([[0, 10, 0], [20, 10, 0]]);
  });

  it('reports unwritten ranges in the gaps as zero', () => {
    expect(triples(allocationExtents([0, 10], [12, 15, 40, 50]))).toEqual([[0, 10, 0], [12, 3, 2], [40, 10, 2]]);
  });

  it('never reports zero where SEEK_DATA found data', () => {
    // An unwritten extent with dirty pages: SEEK_DATA says data over [10, 20).
    expect(triples(allocationExtents([10, 20], [0, 30]))).toEqual([[0, 10, 2], [10, 10, 0], [20, 10, 2]]);
  });

  it('splits one unwritten range around several data runs', () => {
    expect(triples(allocationExtents([2, 4, 6, 8], [0, 10]))).toEqual([
      [0, 2, 2], [2, 2, 0], [4, 2, 2], [6, 2, 0], [8, 2, 2],
    ]);
  });

  it('drops unwritten ranges wholly inside data', () => {
    expect(triples(allocationExtents([0, 100], [10, 20, 30, 40]))).toEqual([[0, 100, 0]]);
  });
});

describe('gapSpan', () => {
  it('is the whole range when there is no data', () => {
    expect(gapSpan([], 5, 50)).toEqual([5, 50]);
  });

  it('is null when data covers the range', () => {
    expect(gapSpan([5, 50], 5, 50)).toBeNull();
  });

  it('runs from the first gap to the last', () => {
    expect(gapSpan([0, 10, 20, 50], 0, 50)).toEqual([10, 20]);
    expect(gapSpan([10, 20], 0, 50)).toEqual([0, 50]);
  });
});
