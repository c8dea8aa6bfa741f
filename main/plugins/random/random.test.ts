import { afterEach, describe, expect, it } from 'vitest';
import type { OpenChain } from '../../backend/chain.ts';
import { mapOf, readAll } from '../../backend/testing.ts';
import { openTestChain } from '../../testing/chains.ts';
import { RandomBytes } from './bytes.ts';

let open: OpenChain | null = null;
afterEach(async () => {
  await open?.close();
  open = null;
});

// Read from `nbdkit random size=64 seed=1` (nbdkit 1.32) with nbdcopy | od.
const NBDKIT_SEED_1 = '1405517eae4896061772ad7bf81875ffb9f3d12dc341c507f84909a0ebdad220';

describe('random plugin', () => {
  it("serves nbdkit's bytes for seed=1", async () => {
    open = await openTestChain('random', { size: '64', seed: '1' });
    expect((await readAll(open, 0, 32)).toString('hex')).toBe(NBDKIT_SEED_1);
  });

  it('byte i depends on seed + i only (seed 0 is seed 1 shifted by one)', async () => {
    open = await openTestChain('random', { size: '64', seed: '0' });
    expect((await readAll(open, 1, 32)).toString('hex')).toBe(NBDKIT_SEED_1);
  });

  it('carries across the 32-bit halves of seed + offset', () => {
    // seed + offset = 2^32 exactly, reached from both sides of the word boundary.
    const a = new RandomBytes(0, 0xffffffff).byteAt(1);
    const b = new RandomBytes(1, 0).byteAt(0);
    const c = new RandomBytes(0, 0).byteAt(2 ** 32);
    expect([a, a]).toEqual([b, c]);
  });

  it('reads the same at any alignment', async () => {
    open = await openTestChain('random', { size: '1M', seed: '42' });
    const whole = await readAll(open, 1000, 3000);
    expect((await readAll(open, 2345, 17)).equals(whole.subarray(1345, 1362))).toBe(true);
    expect(await mapOf(open)).toEqual([[0, 2 ** 20, 0]]);
  });

  it('accepts a write of the same bytes and refuses a different one with EIO', async () => {
    open = await openTestChain('random', { size: '1M', seed: '7' });
    const same = await readAll(open, 4096, 512);
    await open.top.pwrite(same, 4096);
    same[100] = same[100]! ^ 1;
    await expect(open.top.pwrite(same, 4096)).rejects.toMatchObject({ code: 'EIO' });
  });
});
