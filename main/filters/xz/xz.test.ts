import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { OpenChain } from '../../backend/chain.ts';
import { mapOf, readAll } from '../../backend/testing.ts';
import { openTestChain } from '../../testing/chains.ts';
import { tempDir } from '../../temp-dir.ts';
import { readXzIndex } from './xz-index.ts';

const K = 1024;
const { dir, cleanup } = tempDir('blockscope-xz-test-');
afterAll(cleanup);
let open: OpenChain | null = null;
afterEach(async () => {
  await open?.close();
  open = null;
});

let counter = 0;
/** Compresses `raw` with the xz tool (fixtures only: the filter itself never runs it). */
function xzFile(raw: Buffer, args: string[]): string {
  const file = path.join(dir, `img${counter++}.xz`);
  writeFileSync(file, execFileSync('xz', ['-c', ...args], { input: raw, maxBuffer: 1 << 28 }));
  return file;
}

function pattern(length: number, salt: number): Buffer {
  const raw = Buffer.alloc(length);
  for (let i = 0; i < length; i++) raw[i] = ((i >> 3) * 31 + salt + (i & 7)) & 0xff;
  return raw;
}

describe('xz index', () => {
  it('lists every block with its uncompressed span', async () => {
    const file = xzFile(pattern(250 * K, 1), ['--block-size=100KiB', '-C', 'crc64']);
    const data = readFileSync(file);
    const blocks = await readXzIndex(async (o, n) => data.subarray(o, o + n), data.length);
    expect(blocks.map((b) => [b.offset, b.length])).toEqual([[0, 100 * K], [100 * K, 100 * K], [200 * K, 50 * K]]);
    expect(blocks[0]!.compressedOffset).toBe(12);
  });
});

describe('xz filter', () => {
  it('serves the uncompressed bytes of a multi-block file, across block boundaries', async () => {
    const raw = pattern(300 * K + 123, 2);
    open = await openTestChain('file', { file: xzFile(raw, ['--block-size=64KiB']) }, [['xz']]);
    expect(open.top.getSize()).toBe(raw.length);
    expect((await readAll(open)).equals(raw)).toBe(true);
    expect((await readAll(open, 64 * K - 5, 64 * K + 10)).equals(raw.subarray(64 * K - 5, 128 * K + 5))).toBe(true);
    expect(open.top.canWrite()).toBe(false);
    expect(await mapOf(open)).toEqual([[0, raw.length, 0]]);
  });

  it('reads concatenated streams with stream padding, and every check type', async () => {
    const a = readFileSync(xzFile(pattern(70 * K, 3), ['--block-size=32KiB', '-C', 'crc32']));
    const b = readFileSync(xzFile(pattern(10 * K, 4), ['-C', 'sha256']));
    const c = readFileSync(xzFile(pattern(5 * K, 5), ['-C', 'none']));
    const file = path.join(dir, 'multi.xz');
    writeFileSync(file, Buffer.concat([a, Buffer.alloc(8), b, c, Buffer.alloc(4)]));
    open = await openTestChain('file', { file }, [['xz']]);
    expect((await readAll(open)).equals(Buffer.concat([pattern(70 * K, 3), pattern(10 * K, 4), pattern(5 * K, 5)]))).toBe(true);
  });

  it('decompresses only the blocks a read needs (a damaged far block does not matter)', async () => {
    const raw = pattern(256 * K, 6);
    const file = xzFile(raw, ['--block-size=64KiB', '-0']);
    const data = readFileSync(file);
    const blocks = await readXzIndex(async (o, n) => data.subarray(o, o + n), data.length);
    const last = blocks[3]!;
    data.fill(0x33, last.compressedOffset + 20, last.compressedOffset + 40);
    writeFileSync(file, data);
    open = await openTestChain('file', { file }, [['xz']]);
    expect((await readAll(open, 70 * K, 1000)).equals(raw.subarray(70 * K, 70 * K + 1000))).toBe(true);
    await expect(readAll(open, 200 * K, 10)).rejects.toMatchObject({ code: 'EIO' });
  });

  it('checks SHA-256 blocks itself (the decoder has no SHA-256)', async () => {
    const raw = pattern(100 * K, 8);
    const file = xzFile(raw, ['-C', 'sha256', '-0']);
    const data = readFileSync(file);
    const [block] = await readXzIndex(async (o, n) => data.subarray(o, o + n), data.length);
    data[block!.compressedOffset + block!.paddedSize - 1] ^= 0xff; // the check's last byte
    writeFileSync(file, data);
    open = await openTestChain('file', { file }, [['xz']]);
    await expect(readAll(open, 0, 10)).rejects.toThrow(/SHA-256/);
  });

  it('refuses a block larger than xz-max-block', async () => {
    const file = xzFile(pattern(200 * K, 7), ['--block-size=128KiB']);
    await expect(openTestChain('file', { file }, [['xz', { 'xz-max-block': '64K' }]])).rejects.toThrow(/larger than xz-max-block=65536/);
  });

  it('refuses a layer that is not xz', async () => {
    await expect(openTestChain('pattern', { size: '1M' }, [['xz']])).rejects.toThrow(/not a valid \.xz file/);
  });
});
