import { describe, expect, it } from 'vitest';
import type { Extent } from '../../shared/extents.ts';
import { FLAG_REQ_ONE } from '../backend/flags.ts';
import type { Next } from '../backend/types.ts';
import { extentsFull } from './extents-full.ts';

/** A layer below whose answers stop after 4096 bytes, as a capped reply does. */
function shortAnswers(calls: number[][]): Next {
  const below: Pick<Next, 'extents'> = {
    extents: async (count, offset, flags = 0) => {
      calls.push([count, offset, flags]);
      return [{ offset, length: Math.min(4096, count), flags: (offset / 4096) % 2 ? 3 : 0 }] as Extent[];
    },
  };
  return below as Next;
}

describe('extentsFull', () => {
  it('asks again from where each answer stopped until the range is covered', async () => {
    const calls: number[][] = [];
    const list = await extentsFull(shortAnswers(calls), 10000, 0);
    expect(list.map((e) => [e.offset, e.length, e.flags])).toEqual([[0, 4096, 0], [4096, 4096, 3], [8192, 1808, 0]]);
    expect(calls).toEqual([[10000, 0, 0], [5904, 4096, 0], [1808, 8192, 0]]);
  });

  it('asks once with REQ_ONE', async () => {
    const calls: number[][] = [];
    expect(await extentsFull(shortAnswers(calls), 10000, 0, FLAG_REQ_ONE)).toHaveLength(1);
    expect(calls).toHaveLength(1);
  });
});

describe('extentsFull with a cap', () => {
  it('stops asking once more distinct extents than the cap are gathered', async () => {
    const calls: number[][] = [];
    const list = await extentsFull(shortAnswers(calls), 40960, 0, 0, 2);
    expect(list.map((e) => e.flags)).toEqual([0, 3, 0]);
    expect(calls).toHaveLength(3);
  });
});
