import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXTENT_DATA as D, EXTENT_HOLE_ZERO as HZ } from '../../../shared/extents.ts';
import { FLAG_FAST_ZERO, FLAG_FUA } from '../../backend/flags.ts';
import { mapOf, readAll } from '../../backend/testing.ts';
import { openClientChain } from '../log/testing.ts';
import { tempDir } from '../../temp-dir.ts';
import { bytesToReclaim } from './store.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;
const K = 1024;

/** The cache over a log filter: `below()` lists the requests that reached the disk, as "Op offset count". */
async function cached(params: Record<string, string> = {}) {
  const logfile = path.join(tmp.dir, `below-${n++}.log`);
  const open = await openClientChain('memory', { size: '1M' }, [['cache', params], ['log', { logfile }]]);
  const below = () => readFileSync(logfile, 'utf8').split('\n')
    .map((l) => / connection=1 (Read|Write|Flush|Zero|Trim) id=\d+ (?:offset=(\w+) count=(\w+))?/.exec(l))
    .filter((m) => m !== null).map((m) => [m[1], m[2], m[3]].filter(Boolean).join(' '));
  return { open, top: open.top, below };
}

describe('cache filter', () => {
  it('writeback keeps writes until a flush, then writes whole blocks below', async () => {
    const { open, top, below } = await cached();
    await top.pwrite(Buffer.alloc(512, 7), 64 * K);
    expect(below()).toEqual(['Read 0x10000 0x10000']);
    expect((await readAll(open, 64 * K, 1024)).subarray(510, 514)).toEqual(Buffer.from([7, 7, 0, 0]));
    await top.flush();
    expect(below()).toEqual(['Read 0x10000 0x10000', 'Write 0x10000 0x10000', 'Flush']);
  });

  it('writeback writes a FUA write through at once', async () => {
    const { top, below } = await cached();
    await top.pwrite(Buffer.alloc(64 * K, 1), 0, FLAG_FUA);
    expect(below()).toEqual(['Write 0x0 0x10000']);
  });

  it('writethrough writes every write below at once', async () => {
    const { top, below } = await cached({ cache: 'writethrough' });
    await top.pwrite(Buffer.alloc(128 * K, 1), 0);
    expect(below()).toEqual(['Write 0x0 0x10000', 'Write 0x10000 0x10000']);
  });

  it('unsafe ignores flush', async () => {
    const { top, below } = await cached({ cache: 'unsafe' });
    await top.pwrite(Buffer.alloc(64 * K, 1), 0);
    await top.flush();
    expect(below()).toEqual([]);
  });

  it('reads go below every time unless cache-on-read', async () => {
    const plain = await cached();
    await readAll(plain.open, 0, 4096);
    await readAll(plain.open, 0, 4096);
    expect(plain.below()).toEqual(['Read 0x0 0x10000', 'Read 0x0 0x10000']);
    const onRead = await cached({ 'cache-on-read': 'true' });
    await readAll(onRead.open, 0, 4096);
    await readAll(onRead.open, 100, 4096);
    expect(onRead.below()).toEqual(['Read 0x0 0x10000']);
  });

  it('cache-on-read=/PATH caches only while the file exists', async () => {
    const { open, below } = await cached({ 'cache-on-read': path.join(tmp.dir, 'absent') });
    await readAll(open, 0, 512);
    await readAll(open, 0, 512);
    expect(below()).toHaveLength(2);
    await expect(cached({ 'cache-on-read': 'maybe' })).rejects.toThrow(/neither a boolean nor an absolute path/);
  });

  it('CACHE requests load blocks that reads then find', async () => {
    const { open, top, below } = await cached();
    await top.cache(100 * K, 0);
    await readAll(open, 0, 128 * K);
    expect(below()).toEqual(['Read 0x0 0x10000', 'Read 0x10000 0x10000']);
  });

  it('shows unflushed blocks as data in the map', async () => {
    const { open, top } = await cached();
    await top.pwrite(Buffer.alloc(512, 1), 192 * K);
    expect(await mapOf(open)).toEqual([[0, 192 * K, HZ], [192 * K, 64 * K, D], [256 * K, 768 * K, HZ]]);
  });

  it('zeroes through the cache, and refuses fast zero', async () => {
    const { open, top } = await cached();
    await top.pwrite(Buffer.alloc(8192, 9), 0);
    await top.zero(4096, 1024);
    const bytes = await readAll(open, 0, 8192);
    expect([bytes[1023], bytes[1024], bytes[5119], bytes[5120]]).toEqual([9, 0, 0, 9]);
    await expect(top.zero(4096, 0, FLAG_FAST_ZERO)).rejects.toMatchObject({ code: 'ENOTSUP' });
  });

  it('past the high threshold drops least recently used blocks, writing dirty ones back', async () => {
    const { open, top, below } = await cached({ 'cache-max-size': '1M', 'cache-on-read': 'true' });
    for (let b = 0; b < 16; b++) await top.pwrite(Buffer.alloc(64 * K, b + 1), b * 64 * K);
    // 16 blocks = 1M > 95%: down to 80% (819.2K) drops the 4 oldest blocks.
    expect(below()).toEqual(['Write 0x0 0x10000', 'Write 0x10000 0x10000', 'Write 0x20000 0x10000', 'Write 0x30000 0x10000']);
    expect((await readAll(open, 0, 1))[0]).toBe(1);
  });

  it('counts what to reclaim from the thresholds', () => {
    const limit = { maxSize: 1000, high: 95, low: 80 };
    expect(bytesToReclaim(950, limit)).toBe(0);
    expect(bytesToReclaim(951, limit)).toBe(151);
    expect(bytesToReclaim(10 ** 6, null)).toBe(0);
  });

  it('refuses thresholds out of order and a block size not a power of 2', async () => {
    await expect(cached({ 'cache-low-threshold': '95', 'cache-high-threshold': '90' })).rejects.toThrow(/must be below/);
    await expect(cached({ 'cache-min-block-size': '12K' })).rejects.toThrow(/not a power of 2/);
  });
});
