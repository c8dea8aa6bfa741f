// How the blocksize filter cuts a request: partial blocks at either end, which need a whole
// block read (and, for writes, written back), and aligned runs of whole blocks in between,
// each at most `max` bytes.
import { FLAG_FUA } from '../../backend/flags.ts';
import type { Next } from '../../backend/types.ts';

export interface Piece {
  offset: number;
  length: number;
  /** Start of the block holding a partial piece; null for a run of whole blocks. */
  block: number | null;
}

export function* pieces(offset: number, count: number, block: number, max: number): Generator<Piece> {
  const end = offset + count;
  for (let pos = offset; pos < end;) {
    const into = pos % block;
    let piece: Piece;
    if (into !== 0 || end - pos < block) {
      piece = { offset: pos, length: Math.min(block - into, end - pos), block: pos - into };
    } else {
      const whole = end - pos - ((end - pos) % block);
      piece = { offset: pos, length: Math.min(max, whole), block: null };
    }
    yield piece;
    pos += piece.length;
  }
}

/**
 * Run a request that goes down as several pieces. Where the layer below would emulate FUA
 * with a flush per piece, send the pieces without FUA and flush once at the end instead.
 */
export async function withOneFlush(next: Next, flags: number, run: (flags: number) => Promise<void>): Promise<void> {
  if (flags & FLAG_FUA && next.canFua() === 'emulate') {
    await run(flags & ~FLAG_FUA);
    await next.flush();
  } else {
    await run(flags);
  }
}
