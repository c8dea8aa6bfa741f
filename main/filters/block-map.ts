// A small state per fixed-size block (cow's overlay map, and any later cache-like filter).
// Blocks live in lazily allocated chunks with a sorted chunk index, so asking about a huge,
// mostly untouched disk walks only the chunks that exist, never every block.
import { lowerBound } from '../../shared/sorted.ts';

/** State 0 is "untouched": a block nobody has set reads as 0. */
export const BLOCK_UNTOUCHED = 0;

const BLOCKS_PER_CHUNK = 4096;

/** Blocks [first, end) that share `state`. */
export interface BlockRun {
  first: number;
  end: number;
  state: number;
}

export class BlockMap {
  private readonly chunks = new Map<number, Uint8Array>();
  /** Keys of `chunks`, ascending. */
  private readonly order: number[] = [];

  get(block: number): number {
    return this.chunks.get(Math.floor(block / BLOCKS_PER_CHUNK))?.[block % BLOCKS_PER_CHUNK] ?? BLOCK_UNTOUCHED;
  }

  set(block: number, state: number): void {
    const index = Math.floor(block / BLOCKS_PER_CHUNK);
    let chunk = this.chunks.get(index);
    if (!chunk) {
      if (state === BLOCK_UNTOUCHED) return;
      chunk = new Uint8Array(BLOCKS_PER_CHUNK);
      this.chunks.set(index, chunk);
      this.order.splice(lowerBound(this.order, index), 0, index);
    }
    chunk[block % BLOCKS_PER_CHUNK] = state;
  }

  /** Runs of equal state covering exactly [first, end), in order, neighbours coalesced. */
  *runs(first: number, end: number): Generator<BlockRun> {
    let run: BlockRun | null = null;
    for (const piece of this.pieces(first, end)) {
      if (run && run.state === piece.state) {
        run.end = piece.end;
      } else {
        if (run) yield run;
        run = piece;
      }
    }
    if (run) yield run;
  }

  /** Runs within each chunk, and one run per gap between chunks; not coalesced across. */
  private *pieces(first: number, end: number): Generator<BlockRun> {
    let pos = first;
    for (let i = lowerBound(this.order, Math.floor(first / BLOCKS_PER_CHUNK)); i < this.order.length && pos < end; i++) {
      const index = this.order[i]!;
      const chunkStart = index * BLOCKS_PER_CHUNK;
      if (chunkStart >= end) break;
      if (chunkStart > pos) {
        yield { first: pos, end: chunkStart, state: BLOCK_UNTOUCHED };
        pos = chunkStart;
      }
      const chunk = this.chunks.get(index)!;
      const stop = Math.min(chunkStart + BLOCKS_PER_CHUNK, end);
      while (pos < stop) {
        const state = chunk[pos - chunkStart]!;
        let next = pos + 1;
        while (next < stop && chunk[next - chunkStart] === state) next++;
        yield { first: pos, end: next, state };
        pos = next;
      }
    }
    if (pos < end) yield { first: pos, end, state: BLOCK_UNTOUCHED };
  }

  /** Blocks in any state other than untouched. */
  get touchedBlocks(): number {
    let n = 0;
    for (const chunk of this.chunks.values()) for (const s of chunk) if (s !== BLOCK_UNTOUCHED) n++;
    return n;
  }
}
