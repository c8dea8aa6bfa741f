import { describe, expect, it } from 'vitest';
import { BIN_DATA, BIN_HOLE, BIN_HOLE_UNDEFINED, BIN_UNKNOWN, BIN_ZERO, backingLayerOfDepth, binClassOfFlags, binEdge, binOf, flagsOfBinClass } from './bins.ts';

describe('binEdge', () => {
  it('cuts 10 bytes into 4 bins of 2, 3, 2, 3', () => {
    expect([0, 1, 2, 3, 4].map((i) => binEdge(0, 10, 4, i))).toEqual([0, 2, 5, 7, 10]);
  });

  it('stays exact where (end - start) * i would pass 2^53', () => {
    const end = 2 ** 52;
    expect(binEdge(0, end, 16384, 8192)).toBe(2 ** 51);
    expect(binEdge(0, end, 16384, 16383)).toBe(end - 2 ** 38);
  });

  it('gives empty bins when there are more bins than bytes', () => {
    expect([0, 1, 2, 3].map((i) => binEdge(100, 102, 3, i))).toEqual([100, 100, 101, 102]);
  });
});

describe('binOf', () => {
  it('finds the bin whose integer edges hold the offset', () => {
    expect([0, 1, 2, 4, 5, 9].map((o) => binOf(0, 10, 4, o))).toEqual([0, 0, 1, 1, 2, 3]);
  });

  it('is -1 outside the range', () => {
    expect(binOf(10, 20, 5, 9)).toBe(-1);
    expect(binOf(10, 20, 5, 20)).toBe(-1);
  });
});

it('classifies NBD flags', () => {
  expect([0, 1, 2, 3].map(binClassOfFlags)).toEqual([BIN_DATA, BIN_HOLE_UNDEFINED, BIN_ZERO, BIN_HOLE]);
});

it('turns bin classes back into NBD flags', () => {
  expect([0, 1, 2, 3].map((f) => flagsOfBinClass(binClassOfFlags(f)))).toEqual([0, 1, 2, 3]);
  expect(flagsOfBinClass(BIN_UNKNOWN)).toBe(-1);
});

describe('backingLayerOfDepth', () => {
  it('numbers backing files from 1 below the image, and gives 0 for the image and for no layer', () => {
    expect([0, 1, 2, 3].map(backingLayerOfDepth)).toEqual([0, 0, 1, 2]);
  });
});
