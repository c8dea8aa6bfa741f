// The allocation of one disk as a sorted list of runs in parallel typed arrays: run i covers
// [starts[i], starts[i + 1]) and has one bin class (shared/bins.ts) and, for image chains
// with backing files, one allocation depth. A million runs take about 10 MB. Bytes are
// summed per block of BLOCK runs into slots (one per class, then one per backing file for
// data held there), so the bytes of each slot before any offset cost one binary search and
// at most BLOCK additions: that is what makes a bins query independent of how many runs a
// bin spans.
import { BIN_DATA, BIN_STRIDE, BIN_UNKNOWN, backingLayerOfDepth, binEdge } from '../../shared/bins.ts';
import { hugePaged } from '../native-io.ts';
import { DEPTH_UNKNOWN, RunColumns, checkColumns } from './allocation-runs.ts';

export { withDepths } from './allocation-depths.ts';
export { RunColumns } from './allocation-runs.ts';

const BLOCK = 32;
const BLOCK_SHIFT = 5;

export interface Run {
  offset: number;
  length: number;
  /** A bin class: BIN_DATA, BIN_ZERO, BIN_HOLE, BIN_HOLE_UNDEFINED or BIN_UNKNOWN. */
  cls: number;
  /** Allocation depth (0 = no layer, 1 = the image, 2 = its backing file, ...), when known. */
  depth?: number;
}

/** Per-bin counts in the contract's layout (ipc.ts MapBins). */
export interface LayeredBins {
  /** BIN_STRIDE numbers per bin; data includes what backing files hold. */
  counts: number[];
  /** Backing files counted in `backing`. */
  backingLayers: number;
  /** backingLayers numbers per bin: data held by backing file k + 1; empty when backingLayers is 0. */
  backing: number[];
}

/** The slot a run's bytes are summed in: its class, or its backing file for data held there. */
function slotOf(cls: number, depth: number): number {
  const layer = cls === BIN_DATA && depth !== DEPTH_UNKNOWN ? backingLayerOfDepth(depth) : 0;
  return layer > 0 ? BIN_STRIDE + layer - 1 : cls;
}

/** One number that is equal for two runs exactly when they may merge. */
function keyOf(cls: number, depth: number): number {
  return cls | (depth << 8);
}

export class AllocationModel {
  readonly size: number;
  /** The runs; starts[count] is the end marker, `size`. */
  private cols: RunColumns;
  /** Backing files whose data has a slot: the deepest depth seen, less the image itself. */
  private layers = 0;
  /** Numbers per block in blockTotals: BIN_STRIDE classes, then one per backing file. */
  private stride: number = BIN_STRIDE;
  /** blockTotals[b * stride + s]: bytes of slot s in runs [0, b * BLOCK). */
  private blockTotals: Float64Array;
  private scratchA = new Float64Array(BIN_STRIDE);
  private scratchB = new Float64Array(BIN_STRIDE);
  /** replace()'s runs, in columns. */
  private incoming = new RunColumns(16);
  /** What a replace puts in place of the runs it covers, merged with their neighbours. */
  private spliced = new RunColumns(16);

  /** The whole disk starts out unknown. */
  constructor(size: number) {
    this.size = size;
    this.cols = new RunColumns(16);
    this.blockTotals = new Float64Array(4 * BIN_STRIDE);
    if (size > 0) this.cols.push(0, BIN_UNKNOWN, DEPTH_UNKNOWN);
    this.cols.starts[this.cols.count] = size;
    this.recomputeBlocks(0);
  }

  private get count(): number {
    return this.cols.count;
  }

  get runCount(): number {
    return this.count;
  }

  /** Backing files that held data in some run seen so far. */
  get backingLayers(): number {
    return this.layers;
  }

  /** Runs the model has room for before it must copy them all into bigger arrays. */
  get capacity(): number {
    return this.cols.capacity - 1;
  }

  /** Room for exactly `runs` runs: a scan that can tell how many are coming saves the copies. */
  reserve(runs: number): void {
    if (runs > this.capacity) this.cols.resize(runs + 1);
  }

  /** Give back room well beyond the runs there are (a reserve that guessed high); a little slack is cheaper than a copy. */
  trim(): void {
    if (this.capacity > this.count * 1.5) this.cols.resize(this.count + 1);
  }

  /** Bytes held by the typed arrays, for the memory budget. */
  get byteLength(): number {
    return this.cols.byteLength + this.blockTotals.byteLength + this.incoming.byteLength + this.spliced.byteLength;
  }

  /**
   * Replace what the model knows about [start, end) with `runs`, which must be sorted and
   * contiguous from start to end (the backend's normalised extents are).
   */
  replace(start: number, end: number, runs: readonly Run[]): void {
    let pos = start;
    const cols = this.incoming;
    cols.clear();
    for (const r of runs) {
      if (r.offset !== pos || r.length <= 0) {
        throw new RangeError(`allocation model: runs must cover [${start}, ${end}) contiguously; got ${r.offset}+${r.length} at ${pos}`);
      }
      if (r.depth !== undefined && !(Number.isInteger(r.depth) && r.depth >= 0 && r.depth < DEPTH_UNKNOWN)) {
        throw new RangeError(`allocation model: depth ${r.depth} at ${r.offset} is not a layer number`);
      }
      cols.push(r.offset, r.cls, r.depth ?? DEPTH_UNKNOWN);
      pos += r.length;
    }
    if (pos !== end) throw new RangeError(`allocation model: runs end at ${pos}, not ${end}`);
    this.replaceColumns(start, end, cols);
  }

  /**
   * replace() for runs in columns, the scan's way in (no object per run): run i of `runs`
   * covers [starts[i], starts[i + 1]), the last one up to `end`; starts rise from `start`.
   */
  replaceColumns(start: number, end: number, runs: RunColumns): void {
    if (!(start >= 0 && end <= this.size && start < end)) {
      throw new RangeError(`allocation model: range [${start}, ${end}) is outside the disk (size ${this.size})`);
    }
    const deepest = checkColumns(start, end, runs);
    const restride = deepest > this.layers;
    if (restride) this.setLayers(deepest);

    const { starts, classes, depths } = this.cols;
    const first = this.runIndex(start);
    let last = this.runIndex(end - 1);
    const out = this.spliced;
    out.clear();
    let lastKey = first > 0 ? keyOf(classes[first - 1]!, depths[first - 1]!) : -1;
    const put = (offset: number, cls: number, depth: number): void => {
      const key = keyOf(cls, depth);
      if (key === lastKey) return;
      lastKey = key;
      out.push(offset, cls, depth);
    };
    if (starts[first]! < start) put(starts[first]!, classes[first]!, depths[first]!);
    for (let i = 0; i < runs.count; i++) put(runs.starts[i]!, runs.classes[i]!, runs.depths[i]!);
    if (end < starts[last + 1]!) put(end, classes[last]!, depths[last]!);
    // The run after the replaced ones merges into the last new run when they match.
    if (last + 1 < this.count && keyOf(classes[last + 1]!, depths[last + 1]!) === lastKey) last++;

    this.splice(first, last + 1, out, restride ? 0 : first);
  }

  /** Room for `layers` backing files in every block; the totals are recomputed by the caller. */
  private setLayers(layers: number): void {
    this.layers = layers;
    this.stride = BIN_STRIDE + layers;
    this.blockTotals = new Float64Array(((this.count >> BLOCK_SHIFT) + 2) * this.stride);
    this.scratchA = new Float64Array(this.stride);
    this.scratchB = new Float64Array(this.stride);
  }

  /** Runs [from, to) give way to `ins`; the end marker (size) moves with the tail. */
  private splice(from: number, to: number, ins: RunColumns, staleFrom: number): void {
    const c = this.cols;
    const n = ins.count;
    const newCount = c.count - (to - from) + n;
    c.grow(newCount + 1);
    const at = from + n;
    c.starts.copyWithin(at, to, c.count + 1);
    c.classes.copyWithin(at, to, c.count);
    c.depths.copyWithin(at, to, c.count);
    c.starts.set(ins.starts.subarray(0, n), from);
    c.classes.set(ins.classes.subarray(0, n), from);
    c.depths.set(ins.depths.subarray(0, n), from);
    c.count = newCount;
    // A run's length is the next run's start minus its own: when the first new run merges
    // into run from - 1 (or starts elsewhere), run from - 1 grew, and its block sum with it.
    this.recomputeBlocks(Math.max(0, Math.min(from, staleFrom) - 1));
  }

  /** Block totals are prefix sums, so everything from the block holding run `from` on is stale. */
  private recomputeBlocks(from: number): void {
    const stride = this.stride;
    const blocks = (this.count >> BLOCK_SHIFT) + 1;
    if (this.blockTotals.length < (blocks + 1) * stride) {
      // Sized for the runs the columns have room for, so it grows when they do (a scan reserves
      // once) rather than doubling by itself: each new array's first touch costs page faults.
      // (The columns always have room for the runs and the end marker, so this covers `blocks`.)
      const grown = hugePaged(new Float64Array(((this.cols.capacity >> BLOCK_SHIFT) + 2) * stride));
      grown.set(this.blockTotals);
      this.blockTotals = grown;
    }
    const t = this.blockTotals;
    const { starts, classes, depths } = this.cols;
    const firstBlock = Math.max(1, (from >> BLOCK_SHIFT) + 1);
    const count = this.count;
    // Without backing files a run's slot is its class: the loop that ten million runs go
    // through on a scan skips slotOf.
    const byClass = this.layers === 0;
    if (from === 0) t.fill(0, 0, stride);
    for (let b = firstBlock; b <= blocks; b++) {
      const base = b * stride;
      // A loop, not copyWithin: a few numbers per block, and copyWithin is a call into the
      // runtime each time (a tenth of a 10 M-extent scan).
      for (let s = 0; s < stride; s++) t[base + s] = t[base - stride + s]!;
      const hi = Math.min(b * BLOCK, count);
      if (byClass) {
        for (let r = (b - 1) * BLOCK; r < hi; r++) t[base + classes[r]!]! += starts[r + 1]! - starts[r]!;
      } else {
        for (let r = (b - 1) * BLOCK; r < hi; r++) t[base + slotOf(classes[r]!, depths[r]!)]! += starts[r + 1]! - starts[r]!;
      }
    }
  }

  /** The run holding `offset` (the last run for offset >= size). */
  runIndex(offset: number): number {
    const starts = this.cols.starts;
    let lo = 0;
    let hi = this.count - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Bytes of each slot in [0, offset), into `out`. */
  private bytesBefore(offset: number, out: Float64Array): void {
    if (this.count === 0 || offset <= 0) {
      out.fill(0);
      return;
    }
    const stride = this.stride;
    const idx = offset >= this.size ? this.count : this.runIndex(offset);
    const block = idx >> BLOCK_SHIFT;
    const { starts, classes, depths } = this.cols;
    for (let s = 0; s < stride; s++) out[s] = this.blockTotals[block * stride + s]!;
    for (let r = block * BLOCK; r < idx; r++) out[slotOf(classes[r]!, depths[r]!)]! += starts[r + 1]! - starts[r]!;
    if (idx < this.count) out[slotOf(classes[idx]!, depths[idx]!)]! += offset - starts[idx]!;
  }

  /** Bytes of each class per bin, BIN_STRIDE numbers per bin (see shared/bins.ts). */
  bins(start: number, end: number, bins: number): number[] {
    return this.layeredBins(start, end, bins).counts;
  }

  /** Bytes of each class per bin, and of the data in each bin that each backing file holds. */
  layeredBins(start: number, end: number, bins: number): LayeredBins {
    const layers = this.layers;
    const counts = new Array<number>(bins * BIN_STRIDE);
    const backing = new Array<number>(bins * layers);
    let before = this.scratchA;
    let after = this.scratchB;
    this.bytesBefore(Math.min(start, this.size), before);
    for (let i = 0; i < bins; i++) {
      this.bytesBefore(Math.min(binEdge(start, end, bins, i + 1), this.size), after);
      for (let c = 0; c < BIN_STRIDE; c++) counts[i * BIN_STRIDE + c] = after[c]! - before[c]!;
      for (let k = 0; k < layers; k++) {
        const held = after[BIN_STRIDE + k]! - before[BIN_STRIDE + k]!;
        backing[i * layers + k] = held;
        counts[i * BIN_STRIDE + BIN_DATA]! += held;
      }
      [before, after] = [after, before];
    }
    return { counts, backingLayers: layers, backing };
  }

  /** Bytes of each class over the whole disk. */
  totals(): number[] {
    return this.bins(0, Math.max(this.size, 1), 1);
  }

  /** Bytes of each class over the whole disk, and the data each backing file holds. */
  layeredTotals(): LayeredBins {
    return this.layeredBins(0, Math.max(this.size, 1), 1);
  }

  private runOf(i: number, start: number, end: number): Run {
    const depth = this.cols.depths[i]!;
    const run: Run = { offset: start, length: end - start, cls: this.cols.classes[i]! };
    if (depth !== DEPTH_UNKNOWN) run.depth = depth;
    return run;
  }

  /** The run holding `offset`. */
  runAt(offset: number): Run {
    const i = this.runIndex(offset);
    return this.runOf(i, this.cols.starts[i]!, this.cols.starts[i + 1]!);
  }

  /** Runs overlapping [start, end), clipped to it. */
  *runs(start = 0, end = this.size): Generator<Run> {
    if (this.count === 0 || start >= end) return;
    for (let i = this.runIndex(start); i < this.count && this.cols.starts[i]! < end; i++) {
      yield this.runOf(i, Math.max(this.cols.starts[i]!, start), Math.min(this.cols.starts[i + 1]!, end));
    }
  }
}
