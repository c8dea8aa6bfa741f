import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { OpenChain } from '../../backend/chain.ts';
import { mapOf, readAll } from '../../backend/testing.ts';
import { openTestChain } from '../../testing/chains.ts';
import { fillPattern, patternByte } from './pattern-fill.ts';

let open: OpenChain | null = null;
afterEach(async () => {
  await open?.close();
  open = null;
});

describe('pattern plugin', () => {
  it('holds each word\'s offset, big-endian', async () => {
    open = await openTestChain('pattern', { size: '64K' });
    expect([...(await readAll(open, 0, 24))]).toEqual([
      0, 0, 0, 0, 0, 0, 0, 0,
      0, 0, 0, 0, 0, 0, 0, 8,
      0, 0, 0, 0, 0, 0, 0, 0x10,
    ]);
  });

  it('reads a range that starts and ends mid-word', async () => {
    open = await openTestChain('pattern', { size: '1M' });
    // Words at 0x1f8 and 0x200 and 0x208; the read covers 0x1fd..0x20a.
    expect([...(await readAll(open, 0x1fd, 14))]).toEqual([
      0, 0x01, 0xf8,
      0, 0, 0, 0, 0, 0, 0x02, 0x00,
      0, 0, 0,
    ]);
  });

  it('carries offsets above 4 GiB into the high word', () => {
    const buf = Buffer.alloc(16);
    fillPattern(buf, 0x1_0000_0000 - 8);
    expect([...buf]).toEqual([0, 0, 0, 0, 0xff, 0xff, 0xff, 0xf8, 0, 0, 0, 1, 0, 0, 0, 0]);
  });

  it('agrees with the byte-at-a-time definition across a large odd read', () => {
    const offset = 2 ** 40 + 3;
    const buf = Buffer.alloc(1021);
    fillPattern(buf, offset);
    const slow = Buffer.from(Array.from({ length: buf.length }, (_, i) => patternByte(offset + i)));
    expect(buf.equals(slow)).toBe(true);
    expect(patternByte(2 ** 40 + 2)).toBe(0x01);
  });

  it('matches nbdkit\'s pattern plugin byte for byte', async () => {
    const size = 65536 + 40;
    const nbdkit = execFileSync('nbdcopy', ['--', '[', 'nbdkit', 'pattern', `size=${size}`, ']', '-'], { maxBuffer: 1 << 20 });
    open = await openTestChain('pattern', { size: String(size) });
    expect((await readAll(open)).equals(nbdkit)).toBe(true);
  });

  it('is read-only and all data', async () => {
    open = await openTestChain('pattern', { size: '1M' });
    expect(open.top.canWrite()).toBe(false);
    expect(await mapOf(open)).toEqual([[0, 2 ** 20, 0]]);
    await expect(open.top.pwrite(Buffer.alloc(8), 0)).rejects.toMatchObject({ code: 'EPERM' });
  });
});
