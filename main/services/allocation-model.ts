// The allocation of one disk as a sorted list of runs in parallel typed arrays: run i covers
// [starts[i], starts[i + 1]) and has one bin class (shared/bins.ts). A million runs take
// about 10 MB. Bytes per class are summed per block of BLOCK runs, so the bytes of each class
// before any offset cost one binary search and at most BLOCK additions: that is what makes
// a bins query independent of how many runs a bin spans.
import { BIN_STRIDE, BIN_UNKNOWN, binEdge } from '../../shared/bins.ts';

const BLOCK = 32;
const BLOCK_SHIFT = 5;

export interface Run {
  offset: number;
  length: number;
  /** A bin class: BIN_DATA, BIN_ZERO, BIN_HOLE, BIN_HOLE_UNDEFINED or BIN_UNKNOWN. */
  cls: number;
}

export class AllocationModel {
  readonly size: number;
  private starts: Float64Array;
  private classes: Uint8Array;
  private count: number;
  /** blockTotals[b * BIN_STRIDE + c]: bytes of class c in runs [0, b * BLOCK). */
  private blockTotals: Float64Array;
  private readonly scratchA = new Float64Array(BIN_STRIDE);
  private readonly scratchB = new Float64Array(BIN_STRIDE);

  /** The whole disk starts out unknown. */
  constructor(size: number) {
    this.size = size;
    this.starts = new Float64Array(16);
    this.classes = new Uint8Array(16);
    this.blockTotals = new Float64Array(4 * BIN_STRIDE);
    this.count = size > 0 ? 1 : 0;
    this.starts[0] = 0;
    this.starts[this.count] = size;
    this.classes[0] = BIN_UNKNOWN;
    this.recomputeBlocks(0);
  }

  get runCount(): number {
    return this.count;
  }

  /** Bytes held by the typed arrays, for the memory budget. */
  get byteLength(): number {
    return this.starts.byteLength + this.classes.byteLength + this.blockTotals.byteLength;
  }

  /**
   * Replace what the model knows about [start, end) with `runs`, which must be sorted and
   * contiguous from start to end (the backend's normalised extents are).
   */
  replace(start: number, end: number, runs: readonly Run[]): void {
    if (!(start >= 0 && end <= this.size && start < end)) {
      throw new RangeError(`allocation model: range [${start}, ${end}) is outside the disk (size ${this.size})`);
    }
    let pos = start;
    for (const r of runs) {
      if (r.offset !== pos || r.length <= 0) {
        throw new RangeError(`allocation model: runs must cover [${start}, ${end}) contiguously; got ${r.offset}+${r.length} at ${pos}`);
      }
      pos += r.length;
    }
    if (pos !== end) throw new RangeError(`allocation model: runs end at ${pos}, not ${end}`);

    const first = this.runIndex(start);
    let last = this.runIndex(end - 1);
    const newStarts: number[] = [];
    const newClasses: number[] = [];
    const push = (offset: number, cls: number) => {
      const prevCls = newClasses.length ? newClasses[newClasses.length - 1] : first > 0 ? this.classes[first - 1] : -1;
      if (prevCls === cls) return;
      newStarts.push(offset);
      newClasses.push(cls);
    };
    if (this.starts[first]! < start) push(this.starts[first]!, this.classes[first]!);
    for (const r of runs) push(r.offset, r.cls);
    if (end < this.starts[last + 1]!) push(end, this.classes[last]!);
    // The run after the replaced ones merges into the last new run when the classes match.
    const lastCls = newClasses.length ? newClasses[newClasses.length - 1] : first > 0 ? this.classes[first - 1] : -1;
    if (last + 1 < this.count && this.classes[last + 1] === lastCls) last++;

    this.splice(first, last + 1, newStarts, newClasses);
  }

  /** Runs [from, to) give way to the new ones; the sentinel start (size) moves with the tail. */
  private splice(from: number, to: number, newStarts: number[], newClasses: number[]): void {
    const newCount = this.count - (to - from) + newStarts.length;
    this.ensureCapacity(newCount + 1);
    const at = from + newStarts.length;
    this.starts.copyWithin(at, to, this.count + 1);
    this.classes.copyWithin(at, to, this.count);
    for (let k = 0; k < newStarts.length; k++) {
      this.starts[from + k] = newStarts[k]!;
      this.classes[from + k] = newClasses[k]!;
    }
    this.count = newCount;
    this.recomputeBlocks(from);
  }

  private ensureCapacity(runs: number): void {
    if (runs <= this.starts.length) return;
    let cap = this.starts.length;
    while (cap < runs) cap *= 2;
    const starts = new Float64Array(cap);
    starts.set(this.starts.subarray(0, this.count + 1));
    const classes = new Uint8Array(cap);
    classes.set(this.classes.subarray(0, this.count));
    this.starts = starts;
    this.classes = classes;
  }

  /** Block totals are prefix sums, so everything from the block holding run `from` on is stale. */
  private recomputeBlocks(from: number): void {
    const blocks = (this.count >> BLOCK_SHIFT) + 1;
    if (this.blockTotals.length < (blocks + 1) * BIN_STRIDE) {
      const grown = new Float64Array(Math.max((blocks + 1) * BIN_STRIDE, this.blockTotals.length * 2));
      grown.set(this.blockTotals);
      this.blockTotals = grown;
    }
    const t = this.blockTotals;
    const firstBlock = Math.max(1, (from >> BLOCK_SHIFT) + 1);
    if (from === 0) t.fill(0, 0, BIN_STRIDE);
    for (let b = firstBlock; b <= blocks; b++) {
      const base = b * BIN_STRIDE;
      t.copyWithin(base, base - BIN_STRIDE, base);
      const hi = Math.min(b * BLOCK, this.count);
      for (let r = (b - 1) * BLOCK; r < hi; r++) t[base + this.classes[r]!]! += this.starts[r + 1]! - this.starts[r]!;
    }
  }

  /** The run holding `offset` (the last run for offset >= size). */
  runIndex(offset: number): number {
    let lo = 0;
    let hi = this.count - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Bytes of each class in [0, offset), into `out`. */
  private bytesBefore(offset: number, out: Float64Array): void {
    if (this.count === 0 || offset <= 0) {
      out.fill(0);
      return;
    }
    const idx = offset >= this.size ? this.count : this.runIndex(offset);
    const block = idx >> BLOCK_SHIFT;
    for (let c = 0; c < BIN_STRIDE; c++) out[c] = this.blockTotals[block * BIN_STRIDE + c]!;
    for (let r = block * BLOCK; r < idx; r++) out[this.classes[r]!]! += this.starts[r + 1]! - this.starts[r]!;
    if (idx < this.count) out[this.classes[idx]!]! += offset - this.starts[idx]!;
  }

  /** Bytes of each class per bin, BIN_STRIDE numbers per bin (see shared/bins.ts). */
  bins(start: number, end: number, bins: number): number[] {
    const counts = new Array<number>(bins * BIN_STRIDE);
    let before = this.scratchA;
    let after = this.scratchB;
    this.bytesBefore(Math.min(start, this.size), before);
    for (let i = 0; i < bins; i++) {
      this.bytesBefore(Math.min(binEdge(start, end, bins, i + 1), this.size), after);
      for (let c = 0; c < BIN_STRIDE; c++) counts[i * BIN_STRIDE + c] = after[c]! - before[c]!;
      [before, after] = [after, before];
    }
    return counts;
  }

  /** Bytes of each class over the whole disk. */
  totals(): number[] {
    return this.bins(0, Math.max(this.size, 1), 1);
  }

  /** The run holding `offset`. */
  runAt(offset: number): Run {
    const i = this.runIndex(offset);
    return { offset: this.starts[i]!, length: this.starts[i + 1]! - this.starts[i]!, cls: this.classes[i]! };
  }

  /** Runs overlapping [start, end), clipped to it. */
  *runs(start = 0, end = this.size): Generator<Run> {
    if (this.count === 0 || start >= end) return;
    for (let i = this.runIndex(start); i < this.count && this.starts[i]! < end; i++) {
      const s = Math.max(this.starts[i]!, start);
      const e = Math.min(this.starts[i + 1]!, end);
      yield { offset: s, length: e - s, cls: this.classes[i]! };
    }
  }
}
