// What clients did to one served image, where and when: bytes read, written, zeroed and
// trimmed per fixed bucket of the disk (at most MAX_BUCKETS, each a power of two of at least
// MIN_BUCKET_BYTES) and per partition, kept twice: all-time totals and a ring of one-second
// slices for "the last N seconds". Counters live in flat Float64Arrays, partitions after the
// buckets, ACTIVITY_OPS.length numbers per cell; a request adds to the cells it overlaps and
// allocates nothing (a slice's array is reused when its second comes round again).
import { binEdge } from '../../shared/bins.ts';
import { ACTIVITY_OPS, ACTIVITY_WINDOW_MAX, type ActivityCounts, type ActivitySelection } from '../../shared/ipc.ts';
import type { RequestOp } from '../nbd/request-event.ts';

/** Counters per cell: read, write, zero, trim (ACTIVITY_OPS order). */
export const OPS = ACTIVITY_OPS.length;
export const MAX_BUCKETS = 4096;
export const MIN_BUCKET_BYTES = 4096;
export const SLICE_MS = 1000;
/** How far back windows can look: as far as the contract lets a window ask. */
export const DEFAULT_HISTORY_SECONDS = ACTIVITY_WINDOW_MAX;

/** The counter column of a request operation; -1 for operations that move no disk bytes. */
export function activityColumn(op: RequestOp): number {
  switch (op) {
    case 'read': return 0;
    case 'write': return 1;
    case 'zero': return 2;
    case 'trim': return 3;
    default: return -1;
  }
}

/** The bucket size for a disk of `size` bytes: the smallest power of two giving at most MAX_BUCKETS. */
export function bucketBytesFor(size: number): number {
  let bytes = MIN_BUCKET_BYTES;
  while (bytes * MAX_BUCKETS < size) bytes *= 2;
  return bytes;
}

/** A range counted on its own (a partition). */
export interface CountedRange {
  start: number;
  length: number;
}

export class ImageActivity {
  readonly bucketBytes: number;
  readonly buckets: number;
  private readonly partStart: Float64Array;
  private readonly partEnd: Float64Array;
  private readonly cells: number;
  private totals: Float64Array;
  private readonly ring: (Float64Array | null)[];
  /** The second each ring slot holds; -1 when empty. */
  private readonly ringSecond: Float64Array;
  private current: Float64Array | null = null;
  private currentSecond = -1;

  constructor(
    readonly size: number,
    partitions: readonly CountedRange[],
    private readonly now: () => number = Date.now,
    historySeconds = DEFAULT_HISTORY_SECONDS,
  ) {
    this.bucketBytes = bucketBytesFor(size);
    this.buckets = Math.ceil(size / this.bucketBytes);
    this.partStart = Float64Array.from(partitions, (p) => p.start);
    this.partEnd = Float64Array.from(partitions, (p) => p.start + p.length);
    this.cells = (this.buckets + partitions.length) * OPS;
    this.totals = new Float64Array(this.cells);
    this.ring = new Array<Float64Array | null>(Math.max(1, historySeconds)).fill(null);
    this.ringSecond = new Float64Array(this.ring.length).fill(-1);
  }

  /** Count `length` bytes at `offset` under counter `column` (activityColumn); the part past the disk's end is ignored. */
  record(column: number, offset: number, length: number): void {
    const end = Math.min(offset + length, this.size);
    if (column < 0 || end <= offset) return;
    const second = Math.floor(this.now() / SLICE_MS);
    if (second !== this.currentSecond) this.enterSecond(second);
    const slice = this.current!;
    const { totals, bucketBytes } = this;
    const last = Math.floor((end - 1) / bucketBytes);
    for (let b = Math.floor(offset / bucketBytes); b <= last; b++) {
      const bytes = Math.min(end, (b + 1) * bucketBytes) - Math.max(offset, b * bucketBytes);
      const cell = b * OPS + column;
      totals[cell] += bytes;
      slice[cell] += bytes;
    }
    for (let p = 0; p < this.partStart.length; p++) {
      const bytes = Math.min(end, this.partEnd[p]!) - Math.max(offset, this.partStart[p]!);
      if (bytes <= 0) continue;
      const cell = (this.buckets + p) * OPS + column;
      totals[cell] += bytes;
      slice[cell] += bytes;
    }
  }

  clear(): void {
    this.totals = new Float64Array(this.cells);
    this.ring.fill(null);
    this.ringSecond.fill(-1);
    this.current = null;
    this.currentSecond = -1;
  }

  /** Every counter over the last `windowSeconds` seconds (this one included); all time when null. */
  counters(windowSeconds: number | null): Float64Array {
    if (windowSeconds === null) return this.totals;
    const sum = new Float64Array(this.cells);
    const newest = Math.floor(this.now() / SLICE_MS);
    for (let k = 0; k < this.ring.length; k++) {
      const slice = this.ring[k];
      const second = this.ringSecond[k]!;
      if (!slice || second <= newest - windowSeconds || second > newest) continue;
      for (let c = 0; c < this.cells; c++) sum[c] += slice[c]!;
    }
    return sum;
  }

  /** Bucket b's bytes of each operation in `counters`. */
  bucketCounts(counters: Float64Array, b: number): ActivityCounts {
    return countsAt(counters, b * OPS);
  }

  /** Partition p's bytes of each operation in `counters`. */
  partitionCounts(counters: Float64Array, p: number): ActivityCounts {
    return countsAt(counters, (this.buckets + p) * OPS);
  }

  /** The bytes `selection` counts in bucket b. */
  selected(counters: Float64Array, b: number, selection: ActivitySelection): number {
    const i = b * OPS;
    const reads = counters[i]!;
    const writes = counters[i + 1]! + counters[i + 2]! + counters[i + 3]!;
    return selection === 'reads' ? reads : selection === 'writes' ? writes : reads + writes;
  }

  /**
   * `selection`'s bytes per bin of [start, end) cut by binEdge. A bucket split between bins
   * is shared in proportion to its bytes in each (its requests are taken as spread evenly),
   * so bins whose edges fall on bucket edges get exact counts.
   */
  bins(counters: Float64Array, start: number, end: number, bins: number, selection: ActivitySelection): number[] {
    const out = new Array<number>(bins).fill(0);
    const stop = Math.min(end, this.size);
    let bin = 0;
    for (let b = Math.floor(start / this.bucketBytes); b * this.bucketBytes < stop; b++) {
      const value = this.selected(counters, b, selection);
      if (value === 0) continue;
      const b0 = b * this.bucketBytes;
      const b1 = Math.min(this.size, b0 + this.bucketBytes);
      while (bin < bins - 1 && binEdge(start, end, bins, bin + 1) <= Math.max(b0, start)) bin++;
      for (let i = bin; i < bins; i++) {
        const lo = Math.max(b0, binEdge(start, end, bins, i));
        const hi = Math.min(b1, binEdge(start, end, bins, i + 1));
        if (lo >= b1) break;
        if (hi > lo) out[i]! += hi - lo === b1 - b0 ? value : (value * (hi - lo)) / (b1 - b0);
      }
    }
    return out;
  }

  /** Starts the slice of `second`, reusing the array of the second it replaces. */
  private enterSecond(second: number): void {
    const k = second % this.ring.length;
    let slice = this.ring[k];
    if (slice) slice.fill(0);
    else slice = this.ring[k] = new Float64Array(this.cells);
    this.ringSecond[k] = second;
    this.current = slice;
    this.currentSecond = second;
  }
}

function countsAt(counters: Float64Array, i: number): ActivityCounts {
  return { read: counters[i]!, written: counters[i + 1]!, zeroed: counters[i + 2]!, trimmed: counters[i + 3]! };
}
