// A sparse byte store in 4 KiB pages, grouped 256 to a chunk so that extents walk only the
// chunks that exist (kept sorted), never every page of a huge, empty disk.
import { EXTENT_DATA, pushExtent, type Extent } from '../../../shared/extents.ts';
import { lowerBound } from '../../../shared/sorted.ts';
import { FLAG_REQ_ONE } from '../../backend/flags.ts';
import type { PluginHandle } from '../../backend/types.ts';

export const PAGE_SIZE = 4096;
const PAGES_PER_CHUNK = 256;
const CHUNK_SIZE = PAGE_SIZE * PAGES_PER_CHUNK;

type Chunk = (Buffer | undefined)[];

export class SparsePages {
  private readonly chunks = new Map<number, Chunk>();
  /** Indexes of `chunks`, ascending. */
  private readonly order: number[] = [];

  private chunkFor(index: number, create: boolean): Chunk | undefined {
    let chunk = this.chunks.get(index);
    if (!chunk && create) {
      chunk = new Array<Buffer | undefined>(PAGES_PER_CHUNK);
      this.chunks.set(index, chunk);
      this.order.splice(lowerBound(this.order, index), 0, index);
    }
    return chunk;
  }

  private dropChunkIfEmpty(index: number, chunk: Chunk): void {
    if (chunk.some((p) => p !== undefined)) return;
    this.chunks.delete(index);
    this.order.splice(lowerBound(this.order, index), 1);
  }

  /** Calls `fn` for each page piece of [offset, offset+length) with its page-relative span. */
  private static forEachPiece(offset: number, length: number, fn: (page: number, start: number, len: number, done: number) => void): void {
    let done = 0;
    while (done < length) {
      const pos = offset + done;
      const page = Math.floor(pos / PAGE_SIZE);
      const start = pos - page * PAGE_SIZE;
      const len = Math.min(PAGE_SIZE - start, length - done);
      fn(page, start, len, done);
      done += len;
    }
  }

  read(buf: Buffer, offset: number): void {
    SparsePages.forEachPiece(offset, buf.length, (page, start, len, done) => {
      const data = this.chunks.get(Math.floor(page / PAGES_PER_CHUNK))?.[page % PAGES_PER_CHUNK];
      if (data) data.copy(buf, done, start, start + len);
      else buf.fill(0, done, done + len);
    });
  }

  write(buf: Buffer, offset: number): void {
    SparsePages.forEachPiece(offset, buf.length, (page, start, len, done) => {
      const chunk = this.chunkFor(Math.floor(page / PAGES_PER_CHUNK), true)!;
      const slot = page % PAGES_PER_CHUNK;
      const data = (chunk[slot] ??= Buffer.alloc(PAGE_SIZE));
      buf.copy(data, start, done, done + len);
    });
  }

  /** Zero a range: whole pages are freed (they become holes), partial pages are zeroed. */
  zero(offset: number, length: number): void {
    SparsePages.forEachPiece(offset, length, (page, start, len) => {
      const index = Math.floor(page / PAGES_PER_CHUNK);
      const chunk = this.chunks.get(index);
      const slot = page % PAGES_PER_CHUNK;
      const data = chunk?.[slot];
      if (!chunk || !data) return;
      if (len === PAGE_SIZE) {
        chunk[slot] = undefined;
        this.dropChunkIfEmpty(index, chunk);
      } else {
        data.fill(0, start, start + len);
      }
    });
  }

  /** Allocated pages in [offset, offset+count) as data extents; the backend fills the gaps. */
  extents(offset: number, count: number, one: boolean): Extent[] {
    const out: Extent[] = [];
    const end = offset + count;
    const first = Math.floor(offset / CHUNK_SIZE);
    for (let i = lowerBound(this.order, first); i < this.order.length; i++) {
      const index = this.order[i]!;
      if (index * CHUNK_SIZE >= end) break;
      const chunk = this.chunks.get(index)!;
      for (let slot = 0; slot < PAGES_PER_CHUNK; slot++) {
        if (!chunk[slot]) continue;
        const at = (index * PAGES_PER_CHUNK + slot) * PAGE_SIZE;
        if (at + PAGE_SIZE <= offset || at >= end) continue;
        pushExtent(out, at, PAGE_SIZE, EXTENT_DATA);
        // With REQ_ONE, the first run is the answer once a second one starts.
        if (one && out.length > 1) return out.slice(0, 1);
      }
    }
    return out;
  }

  /** Bytes held in RAM. */
  get allocatedBytes(): number {
    let pages = 0;
    for (const chunk of this.chunks.values()) for (const p of chunk) if (p) pages++;
    return pages * PAGE_SIZE;
  }
}

/** A writable disk of `size` bytes kept in `pages`, shared by every connection that opens it. */
export function sparsePagesHandle(pages: SparsePages, size: number): PluginHandle {
  return {
    getSize: () => size,
    canMultiConn: () => true,
    canFua: () => 'native',
    canCache: () => 'native',
    pread: (buf, offset) => pages.read(buf, offset),
    pwrite: (buf, offset) => pages.write(buf, offset),
    flush: () => {},
    trim: (count, offset) => pages.zero(offset, count),
    zero: (count, offset) => pages.zero(offset, count),
    cache: () => {},
    extents: (count, offset, flags) => pages.extents(offset, count, (flags & FLAG_REQ_ONE) !== 0),
  };
}
