import { describe, expect, it } from 'vitest';
import { EXTENT_DATA as D, EXTENT_HOLE_ZERO as HZ, EXTENT_ZERO as Z } from '../../../shared/extents.ts';
import { FLAG_MAY_TRIM } from '../../backend/flags.ts';
import { mapOf, readAll } from '../../backend/testing.ts';
import { openTestChain } from '../../testing/chains.ts';
import { Registry } from '../../backend/registry.ts';
import { memoryPlugin } from '../../plugins/memory/index.ts';
import { probePlugin, type ProbeCall } from '../probe/index.ts';
import { filterInstance, sharedPlugin } from '../testing.ts';
import { cowFilter, type CowInstance } from './index.ts';

const K = 1024;
const M = 1024 * K;

/** A 1M memory export with 8K of 0x11 at 64K, and a cow (block size 4K) over it. */
async function cowOverMemory(params: Record<string, string> = { 'cow-block-size': '4K' }) {
  const plugin = await sharedPlugin(memoryPlugin, { size: '1M' });
  const base = await plugin.open();
  await base.top.pwrite(Buffer.alloc(8 * K, 0x11), 64 * K);
  const cow = await filterInstance<CowInstance>(cowFilter, params);
  const top = await plugin.open([cow]);
  return { plugin, base, cow: cow.instance, top };
}

describe('cow filter', () => {
  it('is writable over a read-only layer, with trim, zero, FUA and multi-conn', async () => {
    const { top } = await cowOverMemory();
    expect([top.top.canWrite(), top.top.canTrim(), top.top.canZero(), top.top.canFua(), top.top.canMultiConn()]).toEqual([true, true, true, 'native', true]);
  });

  it('shows the layer below until something is written', async () => {
    const { top } = await cowOverMemory();
    expect(await mapOf(top)).toEqual([[0, 64 * K, HZ], [64 * K, 8 * K, D], [72 * K, M - 72 * K, HZ]]);
  });

  it('maps written blocks as data and reads them back', async () => {
    const { top } = await cowOverMemory();
    await top.top.pwrite(Buffer.alloc(4 * K, 0xee), 512 * K);
    expect(await mapOf(top)).toEqual([[0, 64 * K, HZ], [64 * K, 8 * K, D], [72 * K, 440 * K, HZ], [512 * K, 4 * K, D], [516 * K, 508 * K, HZ]]);
    expect((await readAll(top, 512 * K, 4 * K)).equals(Buffer.alloc(4 * K, 0xee))).toBe(true);
  });

  it('never writes to the layer below', async () => {
    const { top, plugin } = await cowOverMemory();
    await top.top.pwrite(Buffer.alloc(8 * K, 0xee), 64 * K);
    await top.top.trim(4 * K, 0);
    const plain = await plugin.open();
    expect((await readAll(plain, 64 * K, 8 * K)).equals(Buffer.alloc(8 * K, 0x11))).toBe(true);
    expect(await mapOf(plain)).toEqual([[0, 64 * K, HZ], [64 * K, 8 * K, D], [72 * K, M - 72 * K, HZ]]);
  });

  it('merges an unaligned write with the block below (read-modify-write)', async () => {
    const { top } = await cowOverMemory();
    await top.top.pwrite(Buffer.from('hello'), 64 * K + 100);
    const block = await readAll(top, 64 * K, 4 * K);
    const want = Buffer.alloc(4 * K, 0x11);
    want.write('hello', 100);
    expect(block.equals(want)).toBe(true);
  });

  it('maps an unaligned write as its whole block', async () => {
    const { top } = await cowOverMemory();
    await top.top.pwrite(Buffer.from('x'), 10 * K + 5);
    expect(await mapOf(top)).toEqual([[0, 8 * K, HZ], [8 * K, 4 * K, D], [12 * K, 52 * K, HZ], [64 * K, 8 * K, D], [72 * K, M - 72 * K, HZ]]);
  });

  it('writes spanning blocks land in every block', async () => {
    const { top } = await cowOverMemory();
    const buf = Buffer.alloc(10 * K, 0x5a);
    await top.top.pwrite(buf, 2 * K);
    expect((await readAll(top, 0, 14 * K)).equals(Buffer.concat([Buffer.alloc(2 * K), buf, Buffer.alloc(2 * K)]))).toBe(true);
    expect(await mapOf(top)).toEqual([[0, 12 * K, D], [12 * K, 52 * K, HZ], [64 * K, 8 * K, D], [72 * K, M - 72 * K, HZ]]);
  });

  it('trimmed blocks read as zeroes and map as holes', async () => {
    const { top } = await cowOverMemory();
    await top.top.trim(8 * K, 64 * K);
    expect((await readAll(top, 64 * K, 8 * K)).equals(Buffer.alloc(8 * K))).toBe(true);
    expect(await mapOf(top)).toEqual([[0, M, HZ]]);
  });

  it('zeroed blocks read as zeroes and map as allocated zeroes', async () => {
    const { top } = await cowOverMemory();
    await top.top.zero(4 * K, 64 * K);
    expect((await readAll(top, 64 * K, 4 * K)).equals(Buffer.alloc(4 * K))).toBe(true);
    expect(await mapOf(top)).toEqual([[0, 64 * K, HZ], [64 * K, 4 * K, Z], [68 * K, 4 * K, D], [72 * K, M - 72 * K, HZ]]);
  });

  it('zeroing with MAY_TRIM maps as a hole', async () => {
    const { top } = await cowOverMemory();
    await top.top.zero(4 * K, 64 * K, FLAG_MAY_TRIM);
    expect(await mapOf(top)).toEqual([[0, 68 * K, HZ], [68 * K, 4 * K, D], [72 * K, M - 72 * K, HZ]]);
  });

  it('a partial trim zeroes just its bytes and keeps the rest of the block', async () => {
    const { top } = await cowOverMemory();
    await top.top.trim(1 * K, 65 * K);
    const block = await readAll(top, 64 * K, 4 * K);
    expect([block[K - 1], block[K], block[2 * K - 1], block[2 * K]]).toEqual([0x11, 0, 0, 0x11]);
    expect(await mapOf(top)).toEqual([[0, 64 * K, HZ], [64 * K, 8 * K, D], [72 * K, M - 72 * K, HZ]]);
  });

  it('writing after a trim brings the block back as data with zeroes around the write', async () => {
    const { top } = await cowOverMemory();
    await top.top.trim(4 * K, 64 * K);
    await top.top.pwrite(Buffer.from('z'), 64 * K + 1);
    expect([...(await readAll(top, 64 * K, 3))]).toEqual([0, 0x7a, 0]);
    expect(await mapOf(top)).toEqual([[0, 64 * K, HZ], [64 * K, 8 * K, D], [72 * K, M - 72 * K, HZ]]);
  });

  it('two overlapping unaligned writes in flight to one block both survive', async () => {
    const { top } = await cowOverMemory();
    await Promise.all([top.top.pwrite(Buffer.alloc(100, 0xa1), 64 * K), top.top.pwrite(Buffer.alloc(100, 0xb2), 64 * K + 200)]);
    const got = await readAll(top, 64 * K, 300);
    expect([got[0], got[99], got[100], got[199], got[200], got[299]]).toEqual([0xa1, 0xa1, 0x11, 0x11, 0xb2, 0xb2]);
  });

  it('connections share one overlay', async () => {
    const plugin = await sharedPlugin(memoryPlugin, { size: '1M' });
    const cow = await filterInstance(cowFilter);
    const a = await plugin.open([cow]);
    const b = await plugin.open([cow]);
    await a.top.pwrite(Buffer.from('shared'), 0);
    expect((await readAll(b, 0, 6)).toString()).toBe('shared');
  });

  it('reports unsaved data once something is written', async () => {
    const { top, cow } = await cowOverMemory();
    expect(cow.hasUnsavedData!()).toBe(false);
    await readAll(top, 0, 4096);
    expect(cow.hasUnsavedData!()).toBe(false);
    await top.top.pwrite(Buffer.from('x'), 0);
    expect(cow.hasUnsavedData!()).toBe(true);
  });

  it('cow-on-read copies blocks into the overlay but does not count as unsaved', async () => {
    const { top, cow } = await cowOverMemory({ 'cow-block-size': '4K', 'cow-on-read': 'true' });
    const got = await readAll(top, 64 * K + 10, 5000);
    expect(got.equals(Buffer.alloc(5000, 0x11))).toBe(true);
    expect(cow.overlay.map.touchedBlocks).toBe(2);
    expect(cow.hasUnsavedData!()).toBe(false);
  });

  it('cow-on-cache copies the cached blocks into the overlay', async () => {
    const { top, cow } = await cowOverMemory({ 'cow-block-size': '4K', 'cow-on-cache': 'true' });
    await top.top.cache(8 * K, 64 * K);
    expect(cow.overlay.map.touchedBlocks).toBe(2);
    expect((await readAll(top, 64 * K, 8 * K)).equals(Buffer.alloc(8 * K, 0x11))).toBe(true);
  });

  it('cache leaves the overlay alone by default', async () => {
    const { top, cow } = await cowOverMemory();
    await top.top.cache(8 * K, 64 * K);
    expect(cow.overlay.map.touchedBlocks).toBe(0);
  });

  it('handles a disk whose size is not a multiple of the block size', async () => {
    const plugin = await sharedPlugin(memoryPlugin, { size: '10000' });
    const top = await plugin.open([await filterInstance(cowFilter, { 'cow-block-size': '4K' })]);
    await top.top.pwrite(Buffer.alloc(100, 3), 9900);
    expect(await mapOf(top)).toEqual([[0, 8192, HZ], [8192, 1808, D]]);
    expect([...(await readAll(top, 9898, 4))]).toEqual([0, 0, 3, 3]);
  });

  it('uses 64K blocks by default', async () => {
    const open = await openTestChain('memory', { size: '1M' }, [['cow']]);
    await open.top.pwrite(Buffer.from('x'), 70 * K);
    expect(await mapOf(open)).toEqual([[0, 64 * K, HZ], [64 * K, 64 * K, D], [128 * K, 896 * K, HZ]]);
  });

  it('refuses a block size that is not a power of 2', async () => {
    await expect(filterInstance(cowFilter, { 'cow-block-size': '12K' })).rejects.toThrow(/cow-block-size: 12288 is not a power of 2/);
  });

  it('refuses a block size under 4K', async () => {
    await expect(filterInstance(cowFilter, { 'cow-block-size': '2K' })).rejects.toThrow(/below the minimum/);
  });

  it('unload closes the overlay', async () => {
    const { top, cow } = await cowOverMemory();
    await top.top.pwrite(Buffer.from('x'), 0);
    await cow.unload!();
    await expect(top.top.pwrite(Buffer.from('y'), 0)).rejects.toThrow(/overlay is closed/);
  });

  it('opens the layer below read-only', async () => {
    const log: ProbeCall[] = [];
    const registry = new Registry([probePlugin(memoryPlugin, log)], [cowFilter]);
    const chain = await registry.build({ plugin: { name: 'memory', params: { size: '1M' } }, filters: [{ name: 'cow', params: {}, enabled: true }] });
    const open = await chain.open({ readonly: false, exportName: '' });
    await open.top.pwrite(Buffer.from('x'), 0);
    expect(log.find((c) => c.call === 'open')?.args[0]).toMatchObject({ readonly: true });
    expect(log.filter((c) => c.call === 'pwrite' || c.call === 'zero' || c.call === 'trim')).toEqual([]);
  });
});
