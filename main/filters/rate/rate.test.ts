import { utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readAll } from '../../backend/testing.ts';
import { openTestChain } from '../../testing/chains.ts';
import { tempDir } from '../../temp-dir.ts';
import { RATE_FILE_CHECK_MS, RateSetting, TokenBucket } from './bucket.ts';
import { RateLimit } from './index.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

function manualClock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe('token bucket', () => {
  it('lets a burst through, then makes the rest wait for the refill', () => {
    const clock = manualClock();
    const b = new TokenBucket(1000, 2, clock.now);
    expect(b.take(1500)).toEqual({ owed: 0, waitMs: 0 });
    expect(b.take(1000)).toEqual({ owed: 500, waitMs: 500 });
    clock.advance(500);
    expect(b.take(500)).toEqual({ owed: 0, waitMs: 0 });
  });

  it('refills at the rate, never past its capacity', () => {
    const clock = manualClock();
    const b = new TokenBucket(1000, 2, clock.now);
    b.take(2000);
    clock.advance(60_000);
    expect(b.take(2000)).toEqual({ owed: 0, waitMs: 0 });
    expect(b.take(1)).toEqual({ owed: 1, waitMs: 1 });
  });

  it('rate 0 is unlimited', () => {
    expect(new TokenBucket(0, 2, () => 0).take(1e12)).toEqual({ owed: 0, waitMs: 0 });
  });

  it('a limit sleeps for exactly what is missing', async () => {
    const clock = manualClock();
    const limit = new RateLimit(new RateSetting(8000, undefined, clock.now), 1, clock.now);
    const slept: number[] = [];
    const sleep = async (ms: number) => {
      slept.push(ms);
      clock.advance(ms);
    };
    await limit.pass('read', 1000, sleep); // 8000 bits: the whole bucket
    await limit.pass('read', 500, sleep); // 4000 bits more: half a second
    await limit.pass('write', 1000, sleep); // writes have their own bucket
    expect(slept).toEqual([500]);
  });
});

describe('rate file', () => {
  it('is re-read when it changes, at most once a check interval, keeping the last good rate', () => {
    const clock = manualClock();
    const file = path.join(tmp.dir, 'rate');
    const setting = new RateSetting(1000, file, clock.now);
    expect(setting.current()).toBe(1000);
    writeFileSync(file, '2K\n');
    expect(setting.current()).toBe(1000);
    clock.advance(RATE_FILE_CHECK_MS);
    expect(setting.current()).toBe(2048);
    writeFileSync(file, 'fast');
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    clock.advance(RATE_FILE_CHECK_MS);
    expect(setting.current()).toBe(2048);
  });
});

describe('rate filter', () => {
  it('passes the bytes through unchanged', async () => {
    const open = await openTestChain('memory', { size: '1M' }, [['rate', { rate: '1G', 'connection-rate': '1G' }]]);
    await open.top.pwrite(Buffer.alloc(4096, 6), 4096);
    expect(await readAll(open, 4096, 4096)).toEqual(Buffer.alloc(4096, 6));
  });

  it('refuses a burstiness that is not a positive number', async () => {
    await expect(openTestChain('memory', { size: '1M' }, [['rate', { burstiness: '0' }]])).rejects.toThrow(/burstiness/);
  });
});
