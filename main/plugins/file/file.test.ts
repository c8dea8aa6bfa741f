import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FLAG_FUA, FLAG_MAY_TRIM, FLAG_REQ_ONE } from '../../backend/flags.ts';
import { mapOf, readAll } from '../../backend/testing.ts';
import { openTestChain } from '../../testing/chains.ts';
import type { OpenChain } from '../../backend/chain.ts';
import { nativeIo } from '../../native-io.ts';

const K = 1024;
let dir: string;
let counter = 0;
const open: OpenChain[] = [];

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'blockscope-file-'));
});
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
  delete process.env.BLOCKSCOPE_NO_NATIVE;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A sparse file of `size` bytes holding `fill` bytes at each [offset, length]. */
function sparseFile(size: number, writes: [offset: number, length: number, fill: number][] = []): string {
  const file = path.join(dir, `disk${counter++}.img`);
  closeSync(openSync(file, 'w'));
  truncateSync(file, size);
  const fd = openSync(file, 'r+');
  for (const [offset, length, fill] of writes) writeSync(fd, Buffer.alloc(length, fill), 0, length, offset);
  fsyncSync(fd);
  closeSync(fd);
  return file;
}

async function serve(file: string, options: { readonly?: boolean } = {}): Promise<OpenChain> {
  const o = await openTestChain('file', { file }, [], options);
  open.push(o);
  return o;
}

function filesystemOf(at: string): string {
  return execFileSync('stat', ['-f', '-c', '%T', at], { encoding: 'utf8' }).trim();
}

/** Hole detection and punching need the addon; without it these tests show as skipped. */
const hasNative = nativeIo() !== null;
/** ext4, xfs and btrfs keep fallocated ranges as unwritten extents that FIEMAP reports. */
const hasUnwrittenExtents = ['ext2/ext3', 'xfs', 'btrfs'].includes(filesystemOf(tmpdir())) && nativeIo()?.unwrittenRuns !== undefined;
const hasTmpfs = existsSync('/dev/shm') && filesystemOf('/dev/shm') === 'tmpfs' && nativeIo() !== null;

describe('file plugin', () => {
  it.runIf(hasUnwrittenExtents)('maps data, preallocated zeroes and holes of a sparse file', async () => {
    const file = sparseFile(1024 * K, [[64 * K, 4 * K, 0x61], [512 * K, 8 * K, 0x62]]);
    execFileSync('fallocate', ['-o', String(256 * K), '-l', String(128 * K), file]);
    expect(await mapOf(await serve(file))).toEqual([
      [0, 64 * K, 3],
      [64 * K, 4 * K, 0],
      [68 * K, 188 * K, 3],
      [256 * K, 128 * K, 2],
      [384 * K, 128 * K, 3],
      [512 * K, 8 * K, 0],
      [520 * K, 504 * K, 3],
    ]);
  });

  it.runIf(hasUnwrittenExtents)('answers REQ_ONE inside a preallocated range with the zero extent there', async () => {
    const file = sparseFile(1024 * K, [[512 * K, 4 * K, 1]]);
    execFileSync('fallocate', ['-o', String(256 * K), '-l', String(128 * K), file]);
    const o = await serve(file);
    expect(await o.top.extents(512 * K, 260 * K, FLAG_REQ_ONE)).toEqual([{ offset: 260 * K, length: 124 * K, flags: 2 }]);
  });

  it.runIf(hasNative)('gives the same map as nbdkit\'s file plugin seen by nbdinfo', async () => {
    const file = sparseFile(2048 * K, [[0, 4 * K, 1], [100 * K, 12 * K, 2], [1024 * K, 64 * K, 3], [2044 * K, 4 * K, 4]]);
    const json = execFileSync('nbdinfo', ['--map', '--json', '--', '[', 'nbdkit', '-r', 'file', file, ']'], { encoding: 'utf8' });
    const expected = (JSON.parse(json) as { offset: number; length: number; type: number }[]).map((e) => [e.offset, e.length, e.type]);
    expect(await mapOf(await serve(file))).toEqual(expected);
    expect(expected.length).toBe(7);
  });

  it.runIf(hasNative)('answers REQ_ONE with the single extent at the offset', async () => {
    const file = sparseFile(1024 * K, [[64 * K, 4 * K, 1], [512 * K, 4 * K, 1]]);
    const o = await serve(file);
    expect(await o.top.extents(1024 * K - 8 * K, 8 * K, FLAG_REQ_ONE)).toEqual([{ offset: 8 * K, length: 56 * K, flags: 3 }]);
    expect(await o.top.extents(1024 * K - 64 * K, 64 * K, FLAG_REQ_ONE)).toEqual([{ offset: 64 * K, length: 4 * K, flags: 0 }]);
  });

  it('reads what is in the file, holes as zeroes', async () => {
    const file = sparseFile(64 * K, [[4 * K, 4 * K, 0x5a]]);
    const buf = await readAll(await serve(file), 4 * K - 2, 4);
    expect([...buf]).toEqual([0, 0, 0x5a, 0x5a]);
  });

  it('writes land on disk after a flush', async () => {
    const file = sparseFile(64 * K);
    const o = await serve(file);
    await o.top.pwrite(Buffer.from('blockscope'), 1000);
    await o.top.pwrite(Buffer.from('fua'), 5000, FLAG_FUA);
    await o.top.flush();
    const onDisk = readFileSync(file);
    expect(onDisk.subarray(1000, 1010).toString()).toBe('blockscope');
    expect(onDisk.subarray(5000, 5003).toString()).toBe('fua');
  });

  it.runIf(hasNative)('trim punches a hole', async () => {
    const file = sparseFile(1024 * K, [[0, 1024 * K, 0x77]]);
    const o = await serve(file);
    const before = statSync(file).blocks;
    await o.top.trim(256 * K, 256 * K);
    expect(statSync(file).blocks).toBe(before - (256 * K) / 512);
    expect(await mapOf(o)).toEqual([[0, 256 * K, 0], [256 * K, 256 * K, 3], [512 * K, 512 * K, 0]]);
  });

  it.runIf(hasUnwrittenExtents)('zero leaves allocated space that maps as zero', async () => {
    const file = sparseFile(256 * K, [[0, 256 * K, 0x77]]);
    const o = await serve(file);
    await o.top.zero(64 * K, 64 * K);
    // Mapped before any read: reading caches pages, and SEEK_DATA then (rightly) calls them data.
    expect(await mapOf(o)).toEqual([[0, 64 * K, 0], [64 * K, 64 * K, 2], [128 * K, 128 * K, 0]]);
  });

  it('zero reads back zeroes', async () => {
    const file = sparseFile(256 * K, [[0, 256 * K, 0x77]]);
    const o = await serve(file);
    await o.top.zero(64 * K + 200, 64 * K - 100);
    const buf = await readAll(o);
    expect(buf.subarray(64 * K - 100, 128 * K + 100).equals(Buffer.alloc(64 * K + 200))).toBe(true);
    expect(buf[64 * K - 101]).toBe(0x77);
    expect(buf[128 * K + 100]).toBe(0x77);
  });

  it.runIf(hasNative)('zero with MAY_TRIM punches a hole', async () => {
    const file = sparseFile(256 * K, [[0, 256 * K, 0x77]]);
    const o = await serve(file);
    await o.top.zero(128 * K, 128 * K, FLAG_MAY_TRIM);
    expect(await mapOf(o)).toEqual([[0, 128 * K, 0], [128 * K, 128 * K, 3]]);
  });

  it.runIf(hasTmpfs)('zeroes on tmpfs, which has no ZERO_RANGE, and keeps the blocks', async () => {
    const file = path.join(mkdtempSync('/dev/shm/blockscope-file-'), 'disk.img');
    try {
      writeFileSync(file, Buffer.alloc(256 * K, 0x55));
      const o = await serve(file);
      await o.top.zero(64 * K, 64 * K);
      expect(statSync(file).blocks).toBe((256 * K) / 512);
      expect([...(await readAll(o, 64 * K - 1, 2))]).toEqual([0x55, 0]);
      expect((await readAll(o, 64 * K, 64 * K)).equals(Buffer.alloc(64 * K))).toBe(true);
    } finally {
      rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });

  it('refuses writes on a read-only connection', async () => {
    const file = sparseFile(64 * K);
    const o = await serve(file, { readonly: true });
    expect(o.top.canWrite()).toBe(false);
    await expect(o.top.pwrite(Buffer.alloc(512, 1), 0)).rejects.toMatchObject({ code: 'EPERM' });
  });

  it('refuses a path that does not exist', async () => {
    await expect(serve(path.join(dir, 'missing.img'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('file plugin without the native addon', () => {
  it('reads and writes through fs alone', async () => {
    process.env.BLOCKSCOPE_NO_NATIVE = '1';
    const file = sparseFile(128 * K, [[0, 4 * K, 9]]);
    const o = await serve(file);
    await o.top.pwrite(Buffer.alloc(3 * K, 0xab), 10 * K);
    await o.top.flush();
    expect(readFileSync(file).subarray(10 * K, 13 * K).equals(Buffer.alloc(3 * K, 0xab))).toBe(true);
    expect((await readAll(o, 4 * K - 1, 2)).toJSON().data).toEqual([9, 0]);
  });

  it('maps the whole file as data and cannot trim', async () => {
    process.env.BLOCKSCOPE_NO_NATIVE = '1';
    const o = await serve(sparseFile(128 * K, [[64 * K, 4 * K, 1]]));
    expect(await mapOf(o)).toEqual([[0, 128 * K, 0]]);
    expect(o.top.canTrim()).toBe(false);
  });

  it('zeroes by writing zeroes', async () => {
    process.env.BLOCKSCOPE_NO_NATIVE = '1';
    const file = sparseFile(64 * K, [[0, 64 * K, 0x11]]);
    const o = await serve(file);
    await o.top.zero(8 * K, 4 * K);
    const onDisk = readFileSync(file);
    expect(onDisk.subarray(8 * K, 12 * K).equals(Buffer.alloc(4 * K))).toBe(true);
    expect(onDisk[12 * K]).toBe(0x11);
  });
});

describe('file plugin on a full filesystem', () => {
  /** A 64 KiB tmpfs mounted for the test, or why there is none (mount needs root). */
  function smallFilesystem(): { dir: string; unmount: () => void } | string {
    const mountPoint = mkdtempSync(path.join(tmpdir(), 'blockscope-full-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mountPoint], { stdio: 'pipe' });
    } catch (err) {
      rmSync(mountPoint, { recursive: true, force: true });
      return `cannot mount a small tmpfs here (${(err as Error).message.split('\n')[0]})`;
    }
    return {
      dir: mountPoint,
      unmount: () => {
        execFileSync('umount', ['-l', mountPoint]);
        rmSync(mountPoint, { recursive: true, force: true });
      },
    };
  }

  for (const native of [true, false]) {
    it(`fails a write that does not fit with ENOSPC and keeps what fitted (${native ? 'writer thread' : 'thread pool'})`, async (ctx) => {
      const skipBecause = (why: string): void => {
        console.warn(`file.test: skipped: ${why}`);
        ctx.skip(why);
      };
      if (native && !hasNative) return skipBecause('no native addon here (npm run build:native), so no writer thread; the pool case runs');
      const fs = smallFilesystem();
      if (typeof fs === 'string') return skipBecause(fs);
      try {
        if (!native) process.env.BLOCKSCOPE_NO_NATIVE = '1';
        const file = path.join(fs.dir, 'disk.img');
        closeSync(openSync(file, 'w'));
        truncateSync(file, 1024 * K);
        const o = await serve(file);
        await o.top.pwrite(Buffer.alloc(16 * K, 0x5a), 0);
        await expect(o.top.pwrite(Buffer.alloc(256 * K, 0x6b), 512 * K)).rejects.toMatchObject({ code: 'ENOSPC' });
        // The connection still serves: the first write reads back, and rewriting blocks the
        // file already has needs no space.
        expect((await readAll(o, 0, 16 * K)).equals(Buffer.alloc(16 * K, 0x5a))).toBe(true);
        await o.top.pwrite(Buffer.alloc(4 * K, 0x7c), 4 * K);
        await o.top.flush();
        await o.close();
        open.splice(open.indexOf(o), 1);
        const onDisk = readFileSync(file);
        expect([onDisk[0], onDisk[4 * K], onDisk[8 * K]]).toEqual([0x5a, 0x7c, 0x5a]);
      } finally {
        fs.unmount();
      }
    });
  }
});
