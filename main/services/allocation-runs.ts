// Runs in columns: what a scan slice hands the allocation model. A 1 TiB disk can have ten
// million extents; one object per run on the way into the model costs more time (and garbage)
// than everything else the model does, so runs travel as three typed arrays that one buffer
// reuses from slice to slice.
import { BIN_DATA, backingLayerOfDepth } from '../../shared/bins.ts';
import { hugePaged } from '../native-io.ts';

/** A run whose depth the chain did not report (no allocation depth, or not scanned yet). */
export const DEPTH_UNKNOWN = 255;

export class RunColumns {
  /** Run i covers [starts[i], starts[i + 1]); the last run ends where its holder says. */
  starts: Float64Array;
  /** A bin class per run (shared/bins.ts). */
  classes: Uint8Array;
  /** An allocation depth per run, DEPTH_UNKNOWN when not known. */
  depths: Uint8Array;
  count = 0;

  constructor(capacity = 1024) {
    this.starts = new Float64Array(capacity);
    this.classes = new Uint8Array(capacity);
    this.depths = new Uint8Array(capacity);
  }

  clear(): void {
    this.count = 0;
  }

  /** Append a run starting at `offset`; its start is the previous run's end. */
  push(offset: number, cls: number, depth: number = DEPTH_UNKNOWN): void {
    if (this.count === this.starts.length) this.grow(this.count + 1);
    this.starts[this.count] = offset;
    this.classes[this.count] = cls;
    this.depths[this.count] = depth;
    this.count++;
  }

  /** Room for at least `runs` runs, keeping what is stored (a holder's end marker after `count` too). */
  grow(runs: number): void {
    // 1.5x rather than 2x: at ten million runs the slack and the copy's peak both matter.
    if (runs > this.starts.length) this.resize(Math.max(runs, Math.ceil(this.starts.length * 1.5), 16));
  }

  /** Room for `runs` runs exactly, at least `count` (and one more, for a holder's end marker). */
  resize(runs: number): void {
    const cap = Math.max(runs, this.count + 1);
    const keep = Math.min(cap, this.starts.length);
    const starts = hugePaged(new Float64Array(cap));
    starts.set(this.starts.subarray(0, keep));
    const classes = hugePaged(new Uint8Array(cap));
    classes.set(this.classes.subarray(0, keep));
    const depths = hugePaged(new Uint8Array(cap));
    depths.set(this.depths.subarray(0, keep));
    this.starts = starts;
    this.classes = classes;
    this.depths = depths;
  }

  get capacity(): number {
    return this.starts.length;
  }

  get byteLength(): number {
    return this.starts.byteLength + this.classes.byteLength + this.depths.byteLength;
  }
}

/** Throws unless `runs` rise from `start` and stay below `end`; returns the deepest backing file holding data. */
export function checkColumns(start: number, end: number, runs: RunColumns): number {
  const { starts, classes, depths, count } = runs;
  if (count === 0 || starts[0] !== start || !(starts[count - 1]! < end)) {
    throw new RangeError(`allocation model: runs must cover [${start}, ${end}) contiguously; got ${count} runs from ${starts[0]} to ${count ? starts[count - 1] : NaN}`);
  }
  let deepest = 0;
  for (let i = 0; i < count; i++) {
    if (i > 0 && !(starts[i]! > starts[i - 1]!)) throw new RangeError(`allocation model: runs must cover [${start}, ${end}) contiguously; run ${i} starts at ${starts[i]}`);
    if (classes[i] === BIN_DATA && depths[i] !== DEPTH_UNKNOWN) deepest = Math.max(deepest, backingLayerOfDepth(depths[i]!));
  }
  return deepest;
}

