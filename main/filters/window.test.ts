import { expect, it } from 'vitest';
import { mapOf, readAll } from '../backend/testing.ts';
import { openTestChain } from '../testing/chains.ts';

// The offset filter is the plain user of windowOnto: a window of [4 KiB, 20 KiB) over a 64 KiB
// RAM disk, with one page written through the window (at 8 KiB of the disk).
async function offsetWindow() {
  const open = await openTestChain('memory', { size: '64K' }, [['offset', { offset: '4K', range: '16K' }]]);
  await open.top.pwrite(Buffer.alloc(4096, 0x5a), 4096);
  return open;
}

it('shifts extents into window coordinates', async () => {
  const open = await offsetWindow();
  expect(await mapOf(open)).toEqual([
    [0, 4096, 3],
    [4096, 4096, 0],
    [8192, 8192, 3],
  ]);
});

it('reads and writes at the shifted offset', async () => {
  const open = await offsetWindow();
  expect([...(await readAll(open, 4095, 2))]).toEqual([0, 0x5a]);
  expect(open.top.getSize()).toBe(16 * 1024);
});
