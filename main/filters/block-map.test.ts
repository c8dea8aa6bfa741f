import { describe, expect, it } from 'vitest';
import { BlockMap } from './block-map.ts';

const runsOf = (map: BlockMap, first: number, end: number) => [...map.runs(first, end)].map((r) => [r.first, r.end, r.state]);

describe('BlockMap', () => {
  it('reads untouched blocks as state 0', () => {
    expect(new BlockMap().get(123456789)).toBe(0);
  });

  it('remembers a set state', () => {
    const map = new BlockMap();
    map.set(5000, 2);
    expect([map.get(4999), map.get(5000), map.get(5001)]).toEqual([0, 2, 0]);
  });

  it('an empty map is one untouched run', () => {
    expect(runsOf(new BlockMap(), 10, 2 ** 40)).toEqual([[10, 2 ** 40, 0]]);
  });

  it('runs cover the range exactly and coalesce equal neighbours', () => {
    const map = new BlockMap();
    map.set(3, 1);
    map.set(4, 1);
    map.set(6, 2);
    expect(runsOf(map, 0, 10)).toEqual([[0, 3, 0], [3, 5, 1], [5, 6, 0], [6, 7, 2], [7, 10, 0]]);
  });

  it('runs are clipped to the range asked', () => {
    const map = new BlockMap();
    for (let b = 0; b < 10; b++) map.set(b, 1);
    expect(runsOf(map, 4, 6)).toEqual([[4, 6, 1]]);
  });

  it('coalesces across chunk boundaries and skips far-apart chunks', () => {
    const map = new BlockMap();
    map.set(4095, 1);
    map.set(4096, 1);
    map.set(2 ** 30, 3);
    expect(runsOf(map, 0, 2 ** 31)).toEqual([[0, 4095, 0], [4095, 4097, 1], [4097, 2 ** 30, 0], [2 ** 30, 2 ** 30 + 1, 3], [2 ** 30 + 1, 2 ** 31, 0]]);
  });

  it('counts touched blocks', () => {
    const map = new BlockMap();
    map.set(1, 1);
    map.set(9000, 2);
    map.set(0, 0);
    expect(map.touchedBlocks).toBe(2);
  });
});
