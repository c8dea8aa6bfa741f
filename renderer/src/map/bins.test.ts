import { describe, expect, it } from 'vitest';
import { binsFromReply, summariseBin } from './bins.ts';

const reply = {
  imageId: 'a',
  start: 0,
  end: 10,
  bins: 4,
  //        data zero hole undef unknown
  counts: [2, 0, 0, 0, 0, /**/ 1, 0, 2, 0, 0, /**/ 0, 0, 0, 0, 2, /**/ 0, 0, 0, 3, 0],
  version: 1,
};

describe('binsFromReply', () => {
  it('unpacks five counts per bin in the contract order', () => {
    const b = binsFromReply(reply);
    expect(Array.from(b.data)).toEqual([2, 1, 0, 0]);
    expect(Array.from(b.hole)).toEqual([0, 2, 0, 0]);
    expect(Array.from(b.unknown)).toEqual([0, 0, 2, 0]);
    expect(Array.from(b.holeUndefined)).toEqual([0, 0, 0, 3]);
  });
});

describe('binsFromReply with backing files', () => {
  const layered = {
    imageId: 'a',
    start: 0,
    end: 200,
    bins: 2,
    counts: [100, 0, 0, 0, 0, /**/ 60, 0, 40, 0, 0],
    backingLayers: 2,
    // Per bin: backing file 1, backing file 2.
    backing: [30, 50, /**/ 0, 60],
    version: 1,
  };

  it('takes what backing files hold out of the data count', () => {
    const b = binsFromReply(layered);
    expect(Array.from(b.data)).toEqual([20, 0]);
    expect(b.backing!.map((l) => Array.from(l))).toEqual([[30, 0], [50, 60]]);
  });

  it('names a bin only backing files fill as backing, and keeps each layer\'s bytes', () => {
    const b = binsFromReply(layered);
    expect(summariseBin(b, 1)).toMatchObject({ kind: 'mixed', data: 0, backing: [0, 60], hole: 40 });
    expect(summariseBin(binsFromReply({ ...layered, counts: [100, 0, 0, 0, 0, 60, 0, 0, 0, 0] }), 1).kind).toBe('backing');
  });
});

describe('summariseBin', () => {
  const b = binsFromReply(reply);

  it('gives the exact byte range of a bin from the shared edges', () => {
    expect([0, 1, 2, 3].map((i) => [summariseBin(b, i).from, summariseBin(b, i).to])).toEqual([[0, 2], [2, 5], [5, 7], [7, 10]]);
  });

  it('names a single-kind bin by its kind', () => {
    expect(summariseBin(b, 0).kind).toBe('data');
    expect(summariseBin(b, 3).kind).toBe('hole-undefined');
  });

  it('calls a bin holding two kinds mixed and keeps both counts', () => {
    expect(summariseBin(b, 1)).toMatchObject({ kind: 'mixed', data: 1, hole: 2 });
  });
});
