import { describe, expect, it } from 'vitest';
import { bucketLimitMs, bucketOf, LatencyRecorder } from './latency.ts';
import { humanBytes } from './report.ts';

describe('latency histogram', () => {
  it('puts latencies in log2 microsecond buckets', () => {
    expect([bucketOf(0), bucketOf(0.0009), bucketOf(0.001), bucketOf(0.0015), bucketOf(0.002), bucketOf(1), bucketOf(1e9)]).toEqual([0, 0, 1, 1, 2, 10, 39]);
  });

  it('bucket edges are powers of 2 microseconds', () => {
    expect([bucketLimitMs(0), bucketLimitMs(1), bucketLimitMs(10)]).toEqual([0.001, 0.002, 1.024]);
  });

  it('percentiles are bucket edges clamped to the observed range', () => {
    const r = new LatencyRecorder();
    for (let i = 0; i < 98; i++) r.record(0.1);
    r.record(5);
    r.record(50);
    const s = r.snapshot();
    expect([s.count, s.minMs, s.maxMs]).toEqual([100, 0.1, 50]);
    expect(s.p50Ms).toBe(0.128);
    expect(s.p99Ms).toBe(8.192);
  });

  it('an empty recorder reports zeroes', () => {
    expect(new LatencyRecorder().snapshot()).toMatchObject({ count: 0, minMs: 0, maxMs: 0, p50Ms: 0, p99Ms: 0 });
  });
});

describe('humanBytes', () => {
  it('prints nbdkit-style sizes', () => {
    expect([humanBytes(0), humanBytes(512), humanBytes(1024), humanBytes(1.5 * 2 ** 30)]).toEqual(['0 bytes', '512 bytes', '1.00 KiB', '1.50 GiB']);
  });
});
