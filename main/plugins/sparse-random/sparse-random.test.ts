import { afterEach, describe, expect, it } from 'vitest';
import type { OpenChain } from '../../backend/chain.ts';
import { FLAG_REQ_ONE } from '../../backend/flags.ts';
import { mapOf, readAll } from '../../backend/testing.ts';
import { openTestChain } from '../../testing/chains.ts';
import { parsePercentOfData } from './index.ts';
import { SparseLayout } from './layout.ts';

const opened: OpenChain[] = [];
afterEach(async () => {
  for (const o of opened.splice(0)) await o.close();
});

async function disk(params: Record<string, string>): Promise<OpenChain> {
  const o = await openTestChain('sparse-random', params);
  opened.push(o);
  return o;
}

const small = { size: '4M', runlength: '16K', percent: '30' };

describe('sparse-random layout', () => {
  it('is the same for the same seed', async () => {
    const a = await mapOf(await disk({ ...small, seed: '42' }));
    const b = await mapOf(await disk({ ...small, seed: '42' }));
    expect(a.length).toBeGreaterThan(20);
    expect(a).toEqual(b);
  });

  it('differs for a different seed', async () => {
    const a = await mapOf(await disk({ ...small, seed: '42' }));
    const b = await mapOf(await disk({ ...small, seed: '43' }));
    expect(a).not.toEqual(b);
  });

  it('puts about `percent` of a large disk in data', () => {
    const layout = SparseLayout.generate({ size: 2 ** 36, seed: 7, fraction: 0.1, runLength: 2 ** 20 });
    expect(layout.dataBytes / 2 ** 36).toBeGreaterThan(0.09);
    expect(layout.dataBytes / 2 ** 36).toBeLessThan(0.11);
  });

  it('keeps `percent` when runs are too short for it', () => {
    const layout = SparseLayout.generate({ size: 2 ** 30, seed: 7, fraction: 0.9, runLength: 4096 });
    expect(layout.dataBytes / 2 ** 30).toBeGreaterThan(0.88);
    expect(layout.dataBytes / 2 ** 30).toBeLessThan(0.92);
  });

  it('averages `runlength` per data run', () => {
    const layout = SparseLayout.generate({ size: 2 ** 36, seed: 7, fraction: 0.1, runLength: 2 ** 20 });
    const mean = layout.dataBytes / layout.runCount;
    expect(mean).toBeGreaterThan(0.9 * 2 ** 20);
    expect(mean).toBeLessThan(1.1 * 2 ** 20);
  });

  // Timing belongs to benchmarks: this prints it and checks only the result.
  it('lays out 64 GiB with about a million extents', () => {
    const t0 = performance.now();
    const layout = SparseLayout.generate({ size: 2 ** 36, seed: 1, fraction: 0.5, runLength: 65536 });
    const ms = performance.now() - t0;
    expect(layout.runCount).toBeGreaterThan(450_000);
    console.log(`sparse-random layout of 64 GiB: ${layout.runCount} runs in ${ms.toFixed(0)} ms`);
  });

  it('starts every run on a 4 KiB block and ends the last one at the disk size', () => {
    const layout = SparseLayout.generate({ size: 1_000_001, seed: 3, fraction: 0.99, runLength: 2 ** 20 });
    for (let i = 0; i < layout.runCount; i++) expect(layout.runStart(i) % 4096).toBe(0);
    expect(layout.runEnd(layout.runCount - 1)).toBe(1_000_001);
  });

  it('is all hole at 0 % and all data at 100 %', async () => {
    expect(await mapOf(await disk({ size: '1M', percent: '0' }))).toEqual([[0, 2 ** 20, 3]]);
    expect(await mapOf(await disk({ size: '1M', percent: '100' }))).toEqual([[0, 2 ** 20, 0]]);
  });
});

describe('sparse-random content', () => {
  for (const randomContent of ['false', 'true']) {
    it(`has non-zero data blocks and zero holes, as the map says (random-content=${randomContent})`, async () => {
      const o = await disk({ ...small, seed: '5', 'random-content': randomContent });
      const bytes = await readAll(o);
      const map = await mapOf(o);
      expect(map.some(([, , f]) => f === 0)).toBe(true);
      for (const [offset, length, flags] of map) {
        const part = bytes.subarray(offset, offset + length);
        if (flags === 3) expect(part.equals(Buffer.alloc(length))).toBe(true);
        else for (let b = 0; b < length; b += 4096) expect(part.subarray(b, b + 4096).some((x) => x !== 0)).toBe(true);
      }
    });
  }

  it('repeats one byte per block by default, a different one in different blocks', async () => {
    const o = await disk({ size: '1M', percent: '100' });
    const bytes = await readAll(o);
    const firstBytes = new Set<number>();
    for (let b = 0; b < 2 ** 20; b += 4096) {
      expect(bytes.subarray(b, b + 4096).equals(Buffer.alloc(4096, bytes[b]))).toBe(true);
      firstBytes.add(bytes[b]!);
    }
    expect(firstBytes.size).toBeGreaterThan(100);
  });

  it('varies bytes within a block with random-content', async () => {
    const bytes = await readAll(await disk({ size: '4K', percent: '100', 'random-content': 'true' }));
    expect(new Set(bytes).size).toBeGreaterThan(200);
  });

  it('reads the same bytes in pieces as in one go', async () => {
    const o = await disk({ ...small, seed: '9', 'random-content': 'true' });
    const whole = await readAll(o);
    const pieces = Buffer.concat([await readAll(o, 0, 12345), await readAll(o, 12345, 2 ** 22 - 12345)]);
    expect(pieces.equals(whole)).toBe(true);
  });

  it('accepts a write of the same bytes and refuses a different one', async () => {
    const o = await disk({ ...small, seed: '5' });
    const [offset] = (await mapOf(o)).find(([, , f]) => f === 0)!;
    const same = await readAll(o, offset, 4096);
    await o.top.pwrite(same, offset);
    same[100] ^= 1;
    await expect(o.top.pwrite(same, offset)).rejects.toMatchObject({ code: 'EIO' });
  });

  it('answers REQ_ONE with the extent at the offset', async () => {
    const o = await disk({ ...small, seed: '5' });
    const map = await mapOf(o);
    const [offset, length, flags] = map[1]!;
    expect(await o.top.extents(2 ** 22 - offset - 4096, offset + 4096, FLAG_REQ_ONE)).toEqual([
      { offset: offset + 4096, length: length - 4096, flags },
    ]);
  });
});

describe('parsePercentOfData', () => {
  it('reads nbdkit\'s percent: 0.5 is half a percent', () => {
    expect(parsePercentOfData('0.5')).toBe(0.005);
    expect(parsePercentOfData('25%')).toBe(0.25);
  });

  it('refuses values outside 0..100', () => {
    expect(() => parsePercentOfData('101')).toThrow(/between 0 and 100/);
    expect(() => parsePercentOfData('-1')).toThrow(/between 0 and 100/);
  });
});
