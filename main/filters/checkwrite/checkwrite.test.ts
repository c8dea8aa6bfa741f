import { describe, expect, it } from 'vitest';
import { openTestChain } from '../../testing/chains.ts';

describe('checkwrite filter', () => {
  it('is writable above a layer opened read-only, with every write-like operation offered', async () => {
    const { top } = await openTestChain('pattern', { size: '1M' }, [['checkwrite']]);
    expect([top.canWrite(), top.canTrim(), top.canZero(), top.canFastZero(), top.canFua(), top.canMultiConn()]).toEqual([true, true, true, true, 'native', true]);
  });

  it('accepts a write of the bytes already there and refuses any other with EIO', async () => {
    const { top } = await openTestChain('pattern', { size: '1M' }, [['checkwrite']]);
    const same = Buffer.alloc(4096);
    await top.pread(same, 8192);
    await top.pwrite(same, 8192);
    same[100] ^= 1;
    await expect(top.pwrite(same, 8192)).rejects.toThrow('checkwrite: pwrite of 4096 bytes at 8192 differs from what the disk holds');
  });

  it('accepts trim and zero only where the disk reads as zero', async () => {
    const sparse = await openTestChain('memory', { size: '1M' }, [['checkwrite']]);
    await sparse.top.zero(1 << 20, 0);
    await sparse.top.trim(4096, 4096);
    const pattern = await openTestChain('pattern', { size: '1M' }, [['checkwrite']]);
    await expect(pattern.top.zero(512, 512)).rejects.toMatchObject({ code: 'EIO' });
    await expect(pattern.top.trim(512, 512)).rejects.toMatchObject({ code: 'EIO' });
  });

  it('never writes below: a refused write leaves the disk as it was', async () => {
    const open = await openTestChain('memory', { size: '1M' }, [['checkwrite']]);
    await expect(open.top.pwrite(Buffer.from('x'), 0)).rejects.toMatchObject({ code: 'EIO' });
    const buf = Buffer.alloc(1, 9);
    await open.top.pread(buf, 0);
    expect(buf[0]).toBe(0);
  });
});
