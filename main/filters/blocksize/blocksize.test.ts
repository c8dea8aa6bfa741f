import { describe, expect, it } from 'vitest';
import { FLAG_FAST_ZERO } from '../../backend/flags.ts';
import { readAll } from '../../backend/testing.ts';
import { openTestChain } from '../../testing/chains.ts';
import { probedChain } from '../fua/probed-chain.ts';
import { blocksizeFilter } from './index.ts';
import { pieces } from './pieces.ts';

const ALL = ['pread', 'pwrite', 'zero', 'trim', 'cache', 'extents'];

describe('blocksize pieces', () => {
  it('cuts a request into a partial head, whole-block runs of at most max, and a partial tail', () => {
    expect([...pieces(100, 2000, 512, 1024)]).toEqual([
      { offset: 100, length: 412, block: 0 },
      { offset: 512, length: 1024, block: null },
      { offset: 1536, length: 512, block: null },
      { offset: 2048, length: 52, block: 2048 },
    ]);
    expect([...pieces(10, 5, 512, 1024)]).toEqual([{ offset: 10, length: 5, block: 0 }]);
  });
});

describe('blocksize filter', () => {
  it('rounds the size down to whole blocks and advertises that any request is fine', async () => {
    const { top } = await probedChain(blocksizeFilter, { minblock: '4k' }, '10000');
    expect(top.getSize()).toBe(8192);
    expect(top.blockSize()).toEqual({ minimum: 1, preferred: 4096, maximum: 0xffffffff });
  });

  it('reads unaligned ranges as whole blocks below, split at maxdata', async () => {
    const { opened, top, seen } = await probedChain(blocksizeFilter, { minblock: '512', maxdata: '1k' }, '1M', ALL);
    await top.pwrite(Buffer.from('hello, world'), 508);
    seen();
    expect((await readAll(opened, 508, 12)).toString()).toBe('hello, world');
    expect(seen()).toEqual([['pread', 512, 0, 0], ['pread', 512, 512, 0]]);
    await readAll(opened, 0, 2560);
    expect(seen()).toEqual([['pread', 1024, 0, 0], ['pread', 1024, 1024, 0], ['pread', 512, 2048, 0]]);
  });

  it('writes a partial block by read-modify-write and keeps the bytes around it', async () => {
    const { opened, top, seen } = await probedChain(blocksizeFilter, { minblock: '512' }, '1M', ALL);
    await top.pwrite(Buffer.alloc(1024, 0xee), 0);
    seen();
    await top.pwrite(Buffer.from([1, 2, 3]), 510);
    expect(seen()).toEqual([['pread', 512, 0, 0], ['pwrite', 512, 0, 0], ['pread', 512, 512, 0], ['pwrite', 512, 512, 0]]);
    expect([...(await readAll(opened, 508, 6))]).toEqual([0xee, 0xee, 1, 2, 3, 0xee]);
  });

  it('zeroes whole blocks with zero and partial ones by read-modify-write; an unaligned fast zero is ENOTSUP', async () => {
    const { opened, top, seen } = await probedChain(blocksizeFilter, { minblock: '512' }, '1M', ALL);
    await top.pwrite(Buffer.alloc(2048, 0xee), 0);
    seen();
    await top.zero(1024, 256, 0);
    expect(seen()).toEqual([['pread', 512, 0, 0], ['pwrite', 512, 0, 0], ['zero', 512, 512, 0], ['pread', 512, 1024, 0], ['pwrite', 512, 1024, 0]]);
    expect([...(await readAll(opened, 254, 4)), ...(await readAll(opened, 1278, 4))]).toEqual([0xee, 0xee, 0, 0, 0, 0, 0xee, 0xee]);
    await expect(top.zero(512, 256, FLAG_FAST_ZERO)).rejects.toMatchObject({ code: 'ENOTSUP' });
  });

  it('trims only the whole blocks of a request, split at maxlen', async () => {
    const { top, seen } = await probedChain(blocksizeFilter, { minblock: '4k', maxlen: '8k' }, '1M', ALL);
    await top.trim(30000, 100, 0);
    expect(seen()).toEqual([['trim', 8192, 4096, 0], ['trim', 8192, 12288, 0], ['trim', 8192, 20480, 0]]);
  });

  it('answers extents from whole blocks, clipped back to the request (the write made its whole 64K block data)', async () => {
    const open = await openTestChain('memory', { size: '1M' }, [['blocksize', { minblock: '64k' }]]);
    await open.top.pwrite(Buffer.alloc(10, 1), 70000);
    expect(await open.top.extents(100000, 1000)).toEqual([
      { offset: 1000, length: 64536, flags: 3 },
      { offset: 65536, length: 35464, flags: 0 },
    ]);
  });

  it('refuses a minblock that is not a power of 2, and a maxdata that is not a multiple of it', async () => {
    await expect(openTestChain('memory', { size: '1M' }, [['blocksize', { minblock: '3000' }]])).rejects.toThrow('blocksize: minblock: 3000 is not a power of 2');
    await expect(openTestChain('memory', { size: '1M' }, [['blocksize', { minblock: '4k', maxdata: '5k' }]])).rejects.toThrow('blocksize: maxdata: 5120 is not a multiple of minblock (4096)');
  });
});
