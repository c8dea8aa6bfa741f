// Latency of one kind of operation: count, sum, min, max and a log2 histogram, which is
// small, never grows, and is good enough for percentiles (p50, p99) within a factor of 2.

/** Bucket i holds latencies in [2^(i-1), 2^i) microseconds; bucket 0 everything under 1us. */
export const LATENCY_BUCKETS = 40;

export interface LatencySnapshot {
  count: number;
  sumMs: number;
  minMs: number;
  maxMs: number;
  p50Ms: number;
  p99Ms: number;
  /** Counts per bucket (see LATENCY_BUCKETS). */
  histogram: number[];
}

export function bucketOf(ms: number): number {
  const us = ms * 1000;
  return us < 1 ? 0 : Math.min(LATENCY_BUCKETS - 1, Math.floor(Math.log2(us)) + 1);
}

/** The upper edge of a bucket, in milliseconds. */
export function bucketLimitMs(bucket: number): number {
  return 2 ** bucket / 1000;
}

export class LatencyRecorder {
  private count = 0;
  private sum = 0;
  private min = Infinity;
  private max = 0;
  private readonly histogram = new Array<number>(LATENCY_BUCKETS).fill(0);

  record(ms: number): void {
    this.count++;
    this.sum += ms;
    this.min = Math.min(this.min, ms);
    this.max = Math.max(this.max, ms);
    this.histogram[bucketOf(ms)]!++;
  }

  /** The upper edge of the bucket holding the p-th fraction, clamped to [min, max]. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(p * this.count));
    let seen = 0;
    for (let b = 0; b < LATENCY_BUCKETS; b++) {
      seen += this.histogram[b]!;
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, bucketLimitMs(b)));
    }
    return this.max;
  }

  snapshot(): LatencySnapshot {
    return {
      count: this.count,
      sumMs: this.sum,
      minMs: this.count ? this.min : 0,
      maxMs: this.max,
      p50Ms: this.percentile(0.5),
      p99Ms: this.percentile(0.99),
      histogram: [...this.histogram],
    };
  }
}
