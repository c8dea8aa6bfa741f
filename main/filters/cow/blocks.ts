// The cow overlay's block walking for one connection: which blocks a request touches and in
// what state, a block's current bytes wherever they live, copy-up and zeroing. The filter's
// callbacks (index.ts) are written in these terms.
import type { Next } from '../../backend/types.ts';
import type { BlockRun } from '../block-map.ts';
import { BELOW, DATA, type CowOverlay } from './overlay.ts';

export class CowBlocks {
  private readonly bs: number;
  private readonly size: number;

  constructor(private readonly next: Next, private readonly overlay: CowOverlay) {
    this.bs = overlay.blockSize;
    this.size = next.getSize();
  }

  blockLength(block: number): number {
    return Math.min(this.bs, this.size - block * this.bs);
  }

  /** The blocks a byte range touches, as runs of equal state. */
  runsOf(count: number, offset: number): BlockRun[] {
    return [...this.overlay.map.runs(Math.floor(offset / this.bs), Math.ceil((offset + count) / this.bs))];
  }

  /** A run's bytes clipped to the request. */
  span(run: BlockRun, count: number, offset: number): { from: number; length: number } {
    const from = Math.max(offset, run.first * this.bs);
    return { from, length: Math.min(offset + count, run.end * this.bs) - from };
  }

  private isWhole(block: number, offset: number, end: number): boolean {
    return block * this.bs >= offset && block * this.bs + this.blockLength(block) <= end;
  }

  /**
   * Walk the blocks a request touches, under their locks: runs of blocks it covers
   * completely go to `whole(first, stop)` together (one overlay write for a long run);
   * each partly covered block goes to `partial(block, from, to)` with the request's piece
   * relative to the block.
   */
  async eachPiece(
    count: number,
    offset: number,
    whole: (first: number, stop: number) => Promise<void>,
    partial: (block: number, from: number, to: number) => Promise<void>,
  ): Promise<void> {
    const bs = this.bs;
    const end = offset + count;
    for (let block = Math.floor(offset / bs); block * bs < end; ) {
      const start = block * bs;
      if (this.isWhole(block, offset, end)) {
        let stop = block + 1;
        while (stop * bs < end && this.isWhole(stop, offset, end)) stop++;
        const first = block;
        await this.overlay.locks.withRange(first, stop, () => whole(first, stop));
        block = stop;
      } else {
        const from = Math.max(offset, start) - start;
        const to = Math.min(end, start + this.blockLength(block)) - start;
        const at = block;
        await this.overlay.locks.with(at, () => partial(at, from, to));
        block++;
      }
    }
  }

  /** A block's current contents wherever they live, zero-padded to a full block. */
  async load(block: number): Promise<Buffer> {
    const buf = Buffer.alloc(this.bs);
    const piece = buf.subarray(0, this.blockLength(block));
    const state = this.overlay.map.get(block);
    if (state === DATA) await this.overlay.read(piece, block * this.bs);
    else if (state === BELOW) await this.next.pread(piece, block * this.bs);
    return buf;
  }

  async store(block: number, buf: Buffer): Promise<void> {
    await this.overlay.write(buf.subarray(0, this.blockLength(block)), block * this.bs);
    this.overlay.map.set(block, DATA);
  }

  /**
   * Copy-up (cow-on-read, cow-on-cache): blocks still below move into the overlay; if
   * `buf` is given, the requested bytes are served from the copies.
   */
  async copyUp(count: number, offset: number, buf?: Buffer): Promise<void> {
    const one = async (block: number, from: number, to: number) => {
      const wasBelow = this.overlay.map.get(block) === BELOW;
      if (!wasBelow && !buf) return;
      const data = await this.load(block);
      if (wasBelow) await this.store(block, data);
      if (buf) data.copy(buf, block * this.bs + from - offset, from, to);
    };
    await this.eachPiece(count, offset, async (first, stop) => {
      for (let block = first; block < stop; block++) await one(block, 0, this.blockLength(block));
    }, one);
  }

  /** Zero a range: whole blocks just change state; partial blocks are rewritten. */
  async zero(count: number, offset: number, wholeState: number): Promise<void> {
    this.overlay.written = true;
    await this.eachPiece(count, offset, async (first, stop) => {
      for (let block = first; block < stop; block++) this.overlay.map.set(block, wholeState);
    }, async (block, from, to) => {
      const state = this.overlay.map.get(block);
      if (state !== BELOW && state !== DATA) return;
      const data = await this.load(block);
      data.fill(0, from, to);
      await this.store(block, data);
    });
  }
}
