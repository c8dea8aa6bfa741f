import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { EXTENT_DATA as D, EXTENT_HOLE_ZERO as HZ } from '../../../shared/extents.ts';
import { mapOf, readAll } from '../../backend/testing.ts';
import { openTestChain } from '../../testing/chains.ts';
import { memoryPlugin } from '../../plugins/memory/index.ts';
import { filterInstance, sharedPlugin } from '../testing.ts';
import { truncatedSize, truncateFilter } from './index.ts';

const K = 1024;

describe('truncate filter', () => {
  it('grows the disk', async () => {
    const open = await openTestChain('memory', { size: '64K' }, [['truncate', { truncate: '100K' }]]);
    expect(open.top.getSize()).toBe(100 * K);
  });

  it('shrinks the disk', async () => {
    const open = await openTestChain('memory', { size: '64K' }, [['truncate', { truncate: '10000' }]]);
    expect(open.top.getSize()).toBe(10000);
  });

  it('rounds up and down', async () => {
    const up = await openTestChain('memory', { size: '1000' }, [['truncate', { 'round-up': '512' }]]);
    const down = await openTestChain('memory', { size: '1000' }, [['truncate', { 'round-down': '512' }]]);
    expect([up.top.getSize(), down.top.getSize()]).toEqual([1024, 512]);
  });

  it('refuses a rounding that is not a power of 2', async () => {
    await expect(openTestChain('memory', { size: '1000' }, [['truncate', { 'round-up': '3' }]])).rejects.toThrow(/round-up: 3 is not a power of 2/);
  });

  it('applies truncate, then round-up, then round-down (nbdkit as the oracle)', () => {
    const nbdkit = (args: string[]) =>
      Number(execFileSync('nbdkit', ['-U', '-', '--filter=truncate', 'null', '1000', ...args, '--run', 'nbdinfo --size "$uri"'], { encoding: 'utf8' }).trim());
    expect(truncatedSize(1000, 5000, 4096, 8192)).toBe(nbdkit(['truncate=5000', 'round-up=4096', 'round-down=8192']));
    expect(truncatedSize(1000, undefined, 512)).toBe(nbdkit(['round-up=512']));
  });

  it('reads the grown tail as zeroes, and the data below as it is', async () => {
    const open = await openTestChain('memory', { size: '8K' }, [['truncate', { truncate: '16K' }]]);
    await open.top.pwrite(Buffer.alloc(8 * K, 0xaa), 0);
    const buf = await readAll(open, 4 * K, 8 * K);
    expect([buf[0], buf[4 * K - 1], buf[4 * K], buf[8 * K - 1]]).toEqual([0xaa, 0xaa, 0, 0]);
  });

  it('maps the grown tail as a hole', async () => {
    const open = await openTestChain('memory', { size: '8K' }, [['truncate', { truncate: '16K' }]]);
    await open.top.pwrite(Buffer.alloc(8 * K, 1), 0);
    expect(await mapOf(open)).toEqual([[0, 8 * K, D], [8 * K, 8 * K, HZ]]);
  });

  it('clips the extents of a shrunk disk', async () => {
    const plugin = await sharedPlugin(memoryPlugin, { size: '64K' });
    await (await plugin.open()).top.pwrite(Buffer.alloc(8 * K, 1), 4 * K);
    const open = await plugin.open([await filterInstance(truncateFilter, { truncate: '6K' })]);
    expect(await mapOf(open)).toEqual([[0, 4 * K, HZ], [4 * K, 2 * K, D]]);
  });

  it('answers an extents query wholly in the tail with one hole', async () => {
    const open = await openTestChain('memory', { size: '8K' }, [['truncate', { truncate: '1M' }]]);
    expect(await open.top.extents(4096, 500 * K)).toEqual([{ offset: 500 * K, length: 4096, flags: HZ }]);
  });

  it('accepts zeroes written across the old end', async () => {
    const open = await openTestChain('memory', { size: '8K' }, [['truncate', { truncate: '16K' }]]);
    const buf = Buffer.alloc(4 * K);
    buf.fill(7, 0, 2 * K);
    await open.top.pwrite(buf, 6 * K);
    expect((await readAll(open, 6 * K, 4 * K)).equals(buf)).toBe(true);
  });

  it('refuses non-zero bytes in the tail with ENOSPC and leaves the part below alone', async () => {
    const open = await openTestChain('memory', { size: '8K' }, [['truncate', { truncate: '16K' }]]);
    await expect(open.top.pwrite(Buffer.alloc(4 * K, 9), 6 * K)).rejects.toMatchObject({ code: 'ENOSPC' });
    expect((await readAll(open, 6 * K, 2 * K)).equals(Buffer.alloc(2 * K))).toBe(true);
  });

  it('trims and zeroes only the part below', async () => {
    const open = await openTestChain('memory', { size: '8K' }, [['truncate', { truncate: '16K' }]]);
    await open.top.pwrite(Buffer.alloc(8 * K, 1), 0);
    await open.top.zero(8 * K, 4 * K);
    await open.top.trim(8 * K, 8 * K);
    expect(await mapOf(open)).toEqual([[0, 4 * K, D], [4 * K, 12 * K, HZ]]);
  });
});
