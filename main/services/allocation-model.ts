// The allocation of one disk as a sorted list of runs in parallel typed arrays: run i covers
// [starts[i], starts[i + 1]) and has one bin class (shared/bins.ts) and, for image chains
// with backing files, one allocation depth. A million runs take about 10 MB. Bytes are
// summed per block of BLOCK runs into slots (one per class, then one per backing file for
// data held there), so the bytes of each slot before any offset cost one binary search and
// at most BLOCK additions: that is what makes a bins query independent of how many runs a
// bin spans.
import { BIN_DATA, BIN_STRIDE, BIN_UNKNOWN, backingLayerOfDepth, binEdge } from '../../shared/bins.ts';

export { withDepths } from './allocation-depths.ts';

const BLOCK = 32;
const BLOCK_SHIFT = 5;
/** A run whose depth the chain did not report (no allocation depth, or not scanned yet). */
const DEPTH_UNKNOWN = 255;

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
  private starts: Float64Array;
  private classes: Uint8Array;
  private depths: Uint8Array;
  private count: number;
  /** Backing files whose data has a slot: the deepest depth seen, less the image itself. */
  private layers = 0;
  /** Numbers per block in blockTotals: BIN_STRIDE classes, then one per backing file. */
  private stride: number = BIN_STRIDE;
  /** blockTotals[b * stride + s]: bytes of slot s in runs [0, b * BLOCK). */
  private blockTotals: Float64Array;
  private scratchA = new Float64Array(BIN_STRIDE);
  private scratchB = new Float64Array(BIN_STRIDE);

  /** The whole disk starts out unknown. */
  constructor(size: number) {
    this.size = size;
    this.starts = new Float64Array(16);
    this.classes = new Uint8Array(16);
    this.depths = new Uint8Array(16);
    this.blockTotals = new Float64Array(4 * BIN_STRIDE);
    this.count = size > 0 ? 1 : 0;
    this.starts[0] = 0;
    this.starts[this.count] = size;
    this.classes[0] = BIN_UNKNOWN;
    this.depths[0] = DEPTH_UNKNOWN;
    this.recomputeBlocks(0);
  }

  get runCount(): number {
    return this.count;
  }

  /** Backing files that held data in some run seen so far. */
  get backingLayers(): number {
    return this.layers;
  }

  /** Bytes held by the typed arrays, for the memory budget. */
  get byteLength(): number {
    return this.starts.byteLength + this.classes.byteLength + this.depths.byteLength + this.blockTotals.byteLength;
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
    let deepest = 0;
    for (const r of runs) {
      if (r.offset !== pos || r.length <= 0) {
        throw new RangeError(`allocation model: runs must cover [${start}, ${end}) contiguously; got ${r.offset}+${r.length} at ${pos}`);
      }
      if (r.depth !== undefined && !(Number.isInteger(r.depth) && r.depth >= 0 && r.depth < DEPTH_UNKNOWN)) {
        throw new RangeError(`allocation model: depth ${r.depth} at ${r.offset} is not a layer number`);
      }
      if (r.cls === BIN_DATA && r.depth !== undefined) deepest = Math.max(deepest, backingLayerOfDepth(r.depth));
      pos += r.length;
    }
    if (pos !== end) throw new RangeError(`allocation model: runs end at ${pos}, not ${end}`);
    const restride = deepest > this.layers;
    if (restride) this.setLayers(deepest);

    const first = this.runIndex(start);
    let last = this.runIndex(end - 1);
    const newStarts: number[] = [];
    const newClasses: number[] = [];
    const newDepths: number[] = [];
    const keyBefore = first > 0 ? keyOf(this.classes[first - 1]!, this.depths[first - 1]!) : -1;
    const lastKey = () => (newClasses.length ? keyOf(newClasses[newClasses.length - 1]!, newDepths[newDepths.length - 1]!) : keyBefore);
    const push = (offset: number, cls: number, depth: number) => {
      if (lastKey() === keyOf(cls, depth)) return;
      newStarts.push(offset);
      newClasses.push(cls);
      newDepths.push(depth);
    };
    if (this.starts[first]! < start) push(this.starts[first]!, this.classes[first]!, this.depths[first]!);
    for (const r of runs) push(r.offset, r.cls, r.depth ?? DEPTH_UNKNOWN);
    if (end < this.starts[last + 1]!) push(end, this.classes[last]!, this.depths[last]!);
    // The run after the replaced ones merges into the last new run when they match.
    if (last + 1 < this.count && keyOf(this.classes[last + 1]!, this.depths[last + 1]!) === lastKey()) last++;

    this.splice(first, last + 1, newStarts, newClasses, newDepths, restride ? 0 : first);
  }

  /** Room for `layers` backing files in every block; the totals are recomputed by the caller. */
  private setLayers(layers: number): void {
    this.layers = layers;
    this.stride = BIN_STRIDE + layers;
    this.blockTotals = new Float64Array(((this.count >> BLOCK_SHIFT) + 2) * this.stride);
    this.scratchA = new Float64Array(this.stride);
    this.scratchB = new Float64Array(this.stride);
  }

  /** Runs [from, to) give way to the new ones; the sentinel start (size) moves with the tail. */
  private splice(from: number, to: number, newStarts: number[], newClasses: number[], newDepths: number[], staleFrom: number): void {
    const newCount = this.count - (to - from) + newStarts.length;
    this.ensureCapacity(newCount + 1);
    const at = from + newStarts.length;
    this.starts.copyWithin(at, to, this.count + 1);
    this.classes.copyWithin(at, to, this.count);
    this.depths.copyWithin(at, to, this.count);
    for (let k = 0; k < newStarts.length; k++) {
      this.starts[from + k] = newStarts[k]!;
      this.classes[from + k] = newClasses[k]!;
      this.depths[from + k] = newDepths[k]!;
    }
    this.count = newCount;
    // A run's length is the next run's start minus its own: when the first new run merges
    // into run from - 1 (or starts elsewhere), run from - 1 grew, and its block sum with it.
    this.recomputeBlocks(Math.max(0, Math.min(from, staleFrom) - 1));
  }

  private ensureCapacity(runs: number): void {
    if (runs <= this.starts.length) return;
    let cap = this.starts.length;
    while (cap < runs) cap *= 2;
    const starts = new Float64Array(cap);
    starts.set(this.starts.subarray(0, this.count + 1));
    const classes = new Uint8Array(cap);
    classes.set(this.classes.subarray(0, this.count));
    const depths = new Uint8Array(cap);
    depths.set(this.depths.subarray(0, this.count));
    this.starts = starts;
    this.classes = classes;
    this.depths = depths;
  }

  /** Block totals are prefix sums, so everything from the block holding run `from` on is stale. */
  private recomputeBlocks(from: number): void {
    const stride = this.stride;
    const blocks = (this.count >> BLOCK_SHIFT) + 1;
    if (this.blockTotals.length < (blocks + 1) * stride) {
      const grown = new Float64Array(Math.max((blocks + 1) * stride, this.blockTotals.length * 2));
      grown.set(this.blockTotals);
      this.blockTotals = grown;
    }
    const t = this.blockTotals;
    const firstBlock = Math.max(1, (from >> BLOCK_SHIFT) + 1);
    if (from === 0) t.fill(0, 0, stride);
    for (let b = firstBlock; b <= blocks; b++) {
      const base = b * stride;
      t.copyWithin(base, base - stride, base);
      const hi = Math.min(b * BLOCK, this.count);
      for (let r = (b - 1) * BLOCK; r < hi; r++) t[base + slotOf(this.classes[r]!, this.depths[r]!)]! += this.starts[r + 1]! - this.starts[r]!;
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

  /** Bytes of each slot in [0, offset), into `out`. */
  private bytesBefore(offset: number, out: Float64Array): void {
    if (this.count === 0 || offset <= 0) {
      out.fill(0);
      return;
    }
    const stride = this.stride;
    const idx = offset >= this.size ? this.count : this.runIndex(offset);
    const block = idx >> BLOCK_SHIFT;
    for (let s = 0; s < stride; s++) out[s] = this.blockTotals[block * stride + s]!;
    for (let r = block * BLOCK; r < idx; r++) out[slotOf(this.classes[r]!, this.depths[r]!)]! += this.starts[r + 1]! - this.starts[r]!;
    if (idx < this.count) out[slotOf(this.classes[idx]!, this.depths[idx]!)]! += offset - this.starts[idx]!;
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
    const depth = this.depths[i]!;
    const run: Run = { offset: start, length: end - start, cls: this.classes[i]! };
    if (depth !== DEPTH_UNKNOWN) run.depth = depth;
    return run;
  }

  /** The run holding `offset`. */
  runAt(offset: number): Run {
    const i = this.runIndex(offset);
    return this.runOf(i, this.starts[i]!, this.starts[i + 1]!);
  }

  /** Runs overlapping [start, end), clipped to it. */
  *runs(start = 0, end = this.size): Generator<Run> {
    if (this.count === 0 || start >= end) return;
    for (let i = this.runIndex(start); i < this.count && this.starts[i]! < end; i++) {
      yield this.runOf(i, Math.max(this.starts[i]!, start), Math.min(this.starts[i + 1]!, end));
    }
  }
}
