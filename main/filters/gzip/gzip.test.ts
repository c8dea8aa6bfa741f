import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { OpenChain } from '../../backend/chain.ts';
import { mapOf, readAll } from '../../backend/testing.ts';
import { openTestChain } from '../../testing/chains.ts';
import { tempDir } from '../../temp-dir.ts';

const K = 1024;
const { dir, cleanup } = tempDir('blockscope-gzip-test-');
afterAll(cleanup);
let open: OpenChain | null = null;
afterEach(async () => {
  await open?.close();
  open = null;
});

/** 3 MiB: a pattern, then 1 MiB of zeroes, then a different pattern (zeroes end not on a chunk). */
function image(): Buffer {
  const raw = Buffer.alloc(3 * 1024 * K);
  for (let i = 0; i < K * K; i++) raw[i] = (i * 7) & 0xff;
  for (let i = 2 * K * K; i < raw.length - 100; i++) raw[i] = (i >> 9) & 0xff;
  return raw;
}

describe('gzip filter', () => {
  it('serves the uncompressed bytes, read-only, as one data extent', async () => {
    const raw = image();
    const file = path.join(dir, 'disk.gz');
    writeFileSync(file, gzipSync(raw));
    open = await openTestChain('file', { file }, [['gzip']]);
    expect(open.top.getSize()).toBe(raw.length);
    expect((await readAll(open)).equals(raw)).toBe(true);
    expect((await readAll(open, 1024 * K - 3, 10)).equals(raw.subarray(1024 * K - 3, 1024 * K + 7))).toBe(true);
    expect(open.top.canWrite()).toBe(false);
    expect(await mapOf(open)).toEqual([[0, raw.length, 0]]);
  });

  it('reads concatenated gzip members as one stream', async () => {
    const file = path.join(dir, 'two.gz');
    writeFileSync(file, Buffer.concat([gzipSync(Buffer.from('hello ')), gzipSync(Buffer.from('world'))]));
    open = await openTestChain('file', { file }, [['gzip']]);
    expect((await readAll(open)).toString()).toBe('hello world');
  });

  it('refuses a layer that is not gzip with EIO', async () => {
    await expect(openTestChain('pattern', { size: '1M' }, [['gzip']])).rejects.toThrow(/not a valid gzip stream/);
  });

  it('keeps trailing zeroes at their full size', async () => {
    const raw = Buffer.concat([Buffer.from('x'), Buffer.alloc(300 * K)]);
    const file = path.join(dir, 'tail.gz');
    writeFileSync(file, gzipSync(raw));
    open = await openTestChain('file', { file }, [['gzip']]);
    expect((await readAll(open)).equals(raw)).toBe(true);
  });
});
