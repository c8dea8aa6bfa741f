import { describe, expect, it } from 'vitest';
import { openTestChain } from '../../testing/chains.ts';
import { policySizes } from './index.ts';

const open = (params: Record<string, string>, below: [string, Record<string, string>][] = []) =>
  openTestChain('memory', { size: '1M' }, [['blocksize-policy', params], ...below]);

describe('blocksize-policy filter', () => {
  it('advertises what was configured, filling gaps as nbdkit does', async () => {
    expect((await open({})).top.blockSize()).toBe(null);
    expect((await open({ 'blocksize-preferred': '32k' })).top.blockSize()).toEqual({ minimum: 1, preferred: 32768, maximum: 0xffffffff });
    expect((await open({ 'blocksize-minimum': '512', 'blocksize-preferred': '4k', 'blocksize-maximum': '1M' })).top.blockSize())
      .toEqual({ minimum: 512, preferred: 4096, maximum: 1048576 });
    expect(policySizes(null, { minimum: 4096, disconnect: 10000 })).toEqual({ minimum: 4096, preferred: 4096, maximum: 8192 });
  });

  it('overrides only the configured values of a layer below that advertises its own', async () => {
    const sizes = (await open({ 'blocksize-maximum': '64k' }, [['blocksize', { minblock: '8k' }]])).top.blockSize();
    expect(sizes).toEqual({ minimum: 1, preferred: 8192, maximum: 65536 });
  });

  it('with error-policy=allow passes requests that break the limits on', async () => {
    const { top } = await open({ 'blocksize-minimum': '4k', 'blocksize-preferred': '4k', 'blocksize-maximum': '64k' });
    await top.pwrite(Buffer.from('x'), 3);
    const buf = Buffer.alloc(1);
    await top.pread(buf, 3);
    expect(buf.toString()).toBe('x');
  });

  it('with error-policy=error refuses small, large and unaligned requests with EINVAL', async () => {
    const { top } = await open({ 'blocksize-minimum': '4k', 'blocksize-preferred': '4k', 'blocksize-maximum': '64k', 'blocksize-error-policy': 'error' });
    await expect(top.pread(Buffer.alloc(512), 0)).rejects.toThrow('blocksize-policy: pread request refused: count 512 is smaller than the minimum size 4096');
    await expect(top.pread(Buffer.alloc(128 << 10), 0)).rejects.toThrow('count 131072 is larger than the maximum size 65536');
    await expect(top.pwrite(Buffer.alloc(4096), 512)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(top.zero(6144, 0)).rejects.toThrow('count 6144 is not a multiple of the minimum size 4096');
    // The maximum binds only requests that carry data.
    await top.zero(256 << 10, 0);
    await top.trim(8192, 4096);
    await top.pread(Buffer.alloc(8192), 4096);
  });

  it('refuses writes over blocksize-write-disconnect with ESHUTDOWN', async () => {
    const { top } = await open({ 'blocksize-write-disconnect': '64k' });
    await top.pwrite(Buffer.alloc(65536), 0);
    await expect(top.pwrite(Buffer.alloc(65537), 0)).rejects.toMatchObject({ code: 'ESHUTDOWN' });
  });

  it('checks the configuration as nbdkit does', async () => {
    await expect(open({ 'blocksize-minimum': '3000' })).rejects.toThrow('blocksize-policy: blocksize-minimum: 3000 is not a power of 2');
    await expect(open({ 'blocksize-minimum': '8k', 'blocksize-preferred': '4k' })).rejects.toThrow('blocksize-minimum: 8192 is larger than the preferred size 4096');
    await expect(open({ 'blocksize-preferred': '64k', 'blocksize-maximum': '32k' })).rejects.toThrow('blocksize-preferred: 65536 is larger than the maximum 32768');
    await expect(open({ 'blocksize-preferred': '256' })).rejects.toThrow(/blocksize-preferred: 256 is below the minimum 512/);
  });
});
