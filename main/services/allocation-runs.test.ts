import { describe, expect, it } from 'vitest';
import { nativeIo } from '../native-io.ts';
import { RunColumns } from './allocation-runs.ts';

describe('RunColumns on huge pages', () => {
  it('keeps every run across a resize into arrays advised for 2 MiB pages', () => {
    const runs = new RunColumns();
    const n = 1_500_000; // 12 MB of starts: past the size that asks for huge pages
    for (let i = 0; i < n; i++) runs.push(i * 4096, i % 3, i % 7);
    runs.resize(2 * n);
    expect(runs.capacity).toBe(2 * n);
    let wrong = 0;
    for (let i = 0; i < n; i++) if (runs.starts[i] !== i * 4096 || runs.classes[i] !== i % 3 || runs.depths[i] !== i % 7) wrong++;
    expect(wrong).toBe(0);
  });

  it('the addon advises a large typed array without touching its bytes', (ctx) => {
    const advise = nativeIo()?.adviseHugePages;
    if (!advise) {
      const why = 'no native addon here (huge pages are only a speed-up)';
      console.warn(`allocation-runs: skipped: ${why}`);
      return ctx.skip(why);
    }
    const big = new Float64Array(4 * 2 ** 20).fill(7);
    expect(advise(big)).toBe(0);
    expect(advise(new Uint8Array(100))).toBe(0); // no whole 2 MiB page inside: nothing to do
    expect(big.every((v) => v === 7)).toBe(true);
    expect(() => advise({} as ArrayBufferView)).toThrow(/typed array/);
  });

  it('the addon faults an array in on a pool thread while the event loop fills it, and loses no byte', async (ctx) => {
    const populate = nativeIo()?.populateAsync;
    if (!populate) {
      const why = 'no native addon here (populating is only a speed-up)';
      console.warn(`allocation-runs: skipped: ${why}`);
      return ctx.skip(why);
    }
    const EINVAL = -22; // before Linux 5.14 there is no MADV_POPULATE_WRITE: the array fills as it would anyway
    const big = new Float64Array(8 * 2 ** 20);
    const unaligned = new Uint8Array(big.buffer, 4093, 3 * 2 ** 20 + 5);
    const done = [populate(big), populate(unaligned)];
    // Fill while the pool thread populates: values written before or after it reaches a page stay.
    for (let i = 0; i < big.length; i += 4096) {
      for (let j = i; j < i + 4096; j++) big[j] = j * 3 + 1;
      if (i % (64 * 4096) === 0) await new Promise((r) => setImmediate(r));
    }
    for (const result of await Promise.all(done)) expect([0, EINVAL]).toContain(result);
    let wrong = 0;
    for (let j = 0; j < big.length; j++) if (big[j] !== j * 3 + 1) wrong++;
    expect(wrong).toBe(0);
    expect(() => populate({} as ArrayBufferView)).toThrow(/typed array/);
  });
});
