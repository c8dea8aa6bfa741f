// Where a sparse-random disk holds data: a two-state (data/hole) Markov chain over 4 KiB
// blocks. Leaving the data state has probability 1/runlength-in-blocks per block, and leaving
// the hole state is scaled so the chain spends `fraction` of its blocks in data. Run lengths
// of such a chain are geometric, so they are drawn directly, one draw per run rather than per
// block: a 64 GiB disk with a million extents is laid out in milliseconds. Data runs are kept
// as one flat, sorted array of byte boundaries.
import { Prng, seedWords } from './prng.ts';

export const BLOCK_SIZE = 4096;

export interface LayoutOptions {
  size: number;
  seed: number;
  /** Share of blocks holding data, 0..1. */
  fraction: number;
  /** Average length of a data run in bytes. */
  runLength: number;
}

export class SparseLayout {
  readonly size: number;
  /** [start0, end0, start1, end1, ...] in bytes, sorted and disjoint; the last end is clipped to size. */
  private readonly runs: Float64Array;

  private constructor(size: number, runs: Float64Array) {
    this.size = size;
    this.runs = runs;
  }

  static generate(options: LayoutOptions): SparseLayout {
    const { size, fraction } = options;
    const blocks = Math.ceil(size / BLOCK_SIZE);
    if (fraction <= 0 || blocks === 0) return new SparseLayout(size, new Float64Array(0));
    if (fraction >= 1) return new SparseLayout(size, Float64Array.of(0, size));
    const runBlocks = Math.max(1, options.runLength / BLOCK_SIZE);
    let leaveData = 1 / runBlocks;
    let leaveHole = (leaveData * fraction) / (1 - fraction);
    if (leaveHole > 1) {
      // Holes cannot be shorter than a block: keep the share of data, lengthen the data runs.
      leaveHole = 1;
      leaveData = (1 - fraction) / fraction;
    }
    const rng = new Prng(...seedWords(options.seed));
    let runs: Float64Array = new Float64Array(initialCapacity(blocks, fraction, runBlocks));
    let n = 0;
    let inData = rng.nextUnit() <= fraction;
    for (let block = 0; block < blocks; inData = !inData) {
      const length = geometric(rng, inData ? leaveData : leaveHole);
      const stop = Math.min(blocks, block + length);
      if (inData) {
        if (n + 2 > runs.length) runs = grow(runs);
        runs[n++] = block * BLOCK_SIZE;
        runs[n++] = Math.min(stop * BLOCK_SIZE, size);
      }
      block = stop;
    }
    return new SparseLayout(size, runs.slice(0, n));
  }

  get runCount(): number {
    return this.runs.length / 2;
  }

  runStart(i: number): number {
    return this.runs[2 * i]!;
  }

  runEnd(i: number): number {
    return this.runs[2 * i + 1]!;
  }

  /** The index of the first data run ending after `offset` (runCount if none). */
  firstRunEndingAfter(offset: number): number {
    return this.firstRunWhere((i) => this.runEnd(i) > offset);
  }

  /** The index of the first data run starting at or after `offset` (runCount if none). */
  firstRunStartingAtOrAfter(offset: number): number {
    return this.firstRunWhere((i) => this.runStart(i) >= offset);
  }

  /** The first run for which `after` holds; it must hold for every run after that one too. */
  private firstRunWhere(after: (i: number) => boolean): number {
    let lo = 0;
    let hi = this.runCount;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (after(mid)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  get dataBytes(): number {
    let total = 0;
    for (let i = 0; i < this.runCount; i++) total += this.runEnd(i) - this.runStart(i);
    return total;
  }
}

/** Trials up to and including the first success of probability p (p in (0, 1]). */
function geometric(rng: Prng, p: number): number {
  if (p >= 1) return 1;
  return 1 + Math.floor(Math.log(rng.nextUnit()) / Math.log1p(-p));
}

function initialCapacity(blocks: number, fraction: number, runBlocks: number): number {
  const expectedRuns = (blocks * fraction) / runBlocks;
  return 2 * Math.min(Math.ceil(expectedRuns * 1.1) + 16, blocks);
}

function grow(runs: Float64Array): Float64Array {
  const bigger = new Float64Array(Math.max(16, runs.length * 2));
  bigger.set(runs);
  return bigger;
}
