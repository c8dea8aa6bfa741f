// The cache filter's memory: whole blocks kept in least-recently-used order, each clean (the
// same bytes as below) or dirty (written here and not yet below). Dirty blocks are also kept
// in a BlockMap so extents and flush find them without walking every cached block.
import { BlockMap } from '../block-map.ts';
import { BlockLocks } from '../cow/block-locks.ts';

const DIRTY = 1;

export class CacheStore {
  /** Block -> its bytes; Map order is least recently used first. */
  private readonly blocks = new Map<number, Buffer>();
  private readonly dirty = new BlockMap();
  private dirtyBlocks = 0;
  /** Every connection takes a block's lock before touching it. */
  readonly locks = new BlockLocks();

  constructor(readonly blockSize: number) {}

  /** A cached block's bytes, marking it most recently used. */
  get(block: number): Buffer | undefined {
    const data = this.blocks.get(block);
    if (data) {
      this.blocks.delete(block);
      this.blocks.set(block, data);
    }
    return data;
  }

  put(block: number, data: Buffer, dirty: boolean): void {
    this.blocks.delete(block);
    this.blocks.set(block, data);
    this.setDirty(block, dirty);
  }

  remove(block: number): void {
    this.blocks.delete(block);
    this.setDirty(block, false);
  }

  isDirty(block: number): boolean {
    return this.dirty.get(block) === DIRTY;
  }

  setDirty(block: number, dirty: boolean): void {
    if (this.isDirty(block) === dirty) return;
    this.dirty.set(block, dirty ? DIRTY : 0);
    this.dirtyBlocks += dirty ? 1 : -1;
  }

  get dirtyCount(): number {
    return this.dirtyBlocks;
  }

  /** Bytes held (whole blocks, as nbdkit counts its cache file). */
  get bytes(): number {
    return this.blocks.size * this.blockSize;
  }

  /** The least recently used block, the first to reclaim. */
  oldest(): number | undefined {
    return this.blocks.keys().next().value;
  }

  /** Runs [first, end) of dirty blocks among blocks [first, end), ascending. */
  *dirtyRuns(first: number, end: number): Generator<{ first: number; end: number }> {
    if (this.dirtyBlocks === 0) return;
    for (const run of this.dirty.runs(first, end)) if (run.state === DIRTY) yield run;
  }
}

/** When to reclaim: above high% of the limit, down to below low% (nbdkit's thresholds). */
export interface CacheLimit {
  maxSize: number;
  high: number;
  low: number;
}

/** How many bytes to drop now: none until `bytes` passes the high mark, then down to the low. */
export function bytesToReclaim(bytes: number, limit: CacheLimit | null): number {
  if (!limit || bytes <= (limit.maxSize * limit.high) / 100) return 0;
  return bytes - Math.floor((limit.maxSize * limit.low) / 100);
}
