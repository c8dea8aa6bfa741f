// One connection's view of the export's cache: every request is cut into cache blocks, each
// handled under its block lock so a read-modify-write never interleaves with another request
// on the same block.
import { EXTENT_DATA, pushExtent, type Extent } from '../../../shared/extents.ts';
import { BlockError } from '../../backend/errors.ts';
import { FLAG_FAST_ZERO, FLAG_FUA } from '../../backend/flags.ts';
import type { FilterHandle, Next } from '../../backend/types.ts';
import { bytesToReclaim, type CacheLimit, type CacheStore } from './store.ts';

export type CacheMode = 'writeback' | 'writethrough' | 'unsafe';

export interface CacheSettings {
  mode: CacheMode;
  cacheOnRead: () => boolean;
  limit: CacheLimit | null;
}

/** Copies part of a request into (or zeroes part of) a block: (block bytes, at in block, at in request, length). */
type Fill = (data: Buffer, inBlock: number, inRequest: number, length: number) => void;

/** One connection's requests, block by block, against the export's store. */
class CacheConnection {
  private readonly bs: number;
  private readonly size: number;

  constructor(private readonly next: Next, private readonly store: CacheStore, private readonly settings: CacheSettings) {
    this.bs = store.blockSize;
    this.size = next.getSize();
  }

  private lengthOf(block: number): number {
    return Math.min(this.bs, this.size - block * this.bs);
  }

  /** The block's bytes: from the cache, or read from below (and kept if `keep`). */
  async load(block: number, keep: boolean): Promise<Buffer> {
    const cached = this.store.get(block);
    if (cached) return cached;
    const data = Buffer.alloc(this.lengthOf(block));
    await this.next.pread(data, block * this.bs);
    if (keep) this.store.put(block, data, false);
    return data;
  }

  /** Run `each` over the blocks of [offset, offset+count), each under its lock, then shrink if due. */
  async eachBlock(count: number, offset: number, each: (block: number, inBlock: number, inRequest: number, length: number) => Promise<void>): Promise<void> {
    for (let pos = offset; pos < offset + count;) {
      const block = Math.floor(pos / this.bs);
      const stop = Math.min(offset + count, block * this.bs + this.lengthOf(block));
      await this.store.locks.with(block, () => each(block, pos - block * this.bs, pos - offset, stop - pos));
      pos = stop;
    }
    await this.reclaim();
  }

  private async writeBack(block: number, data: Buffer, flags: number): Promise<void> {
    await this.next.pwrite(data, block * this.bs, flags);
    this.store.setDirty(block, false);
  }

  /** A write (or zero, or trim) through the cache: `fill` puts the new bytes into each block. */
  write(count: number, offset: number, flags: number, fill: Fill): Promise<void> {
    const mode = this.settings.mode;
    const through = mode === 'writethrough' || (mode === 'writeback' && (flags & FLAG_FUA) !== 0);
    return this.eachBlock(count, offset, async (block, inBlock, inRequest, length) => {
      const whole = length === this.lengthOf(block);
      const data = this.store.get(block) ?? (whole ? Buffer.alloc(length) : await this.load(block, false));
      fill(data, inBlock, inRequest, length);
      this.store.put(block, data, true);
      if (through) await this.writeBack(block, data, flags & FLAG_FUA);
    });
  }

  /** Drop least recently used blocks while the cache is over its high mark, writing dirty ones back. */
  private async reclaim(): Promise<void> {
    for (let excess = bytesToReclaim(this.store.bytes, this.settings.limit); excess > 0; excess -= this.bs) {
      const block = this.store.oldest();
      if (block === undefined) return;
      await this.store.locks.with(block, async () => {
        const data = this.store.get(block);
        if (data && this.store.isDirty(block)) await this.writeBack(block, data, 0);
        this.store.remove(block);
      });
    }
  }

  /** Write every dirty block below, in disk order. */
  async flushDirty(): Promise<void> {
    for (const run of [...this.store.dirtyRuns(0, Math.ceil(this.size / this.bs))]) {
      for (let block = run.first; block < run.end; block++) {
        await this.store.locks.with(block, async () => {
          const data = this.store.get(block);
          if (data && this.store.isDirty(block)) await this.writeBack(block, data, 0);
        });
      }
    }
  }
}

const zeroFill: Fill = (data, inBlock, _inRequest, length) => void data.fill(0, inBlock, inBlock + length);

export function cachingHandle(next: Next, store: CacheStore, settings: CacheSettings): FilterHandle {
  const c = new CacheConnection(next, store, settings);
  return {
    canCache: () => 'native',
    canFua: () => 'native',
    canFlush: () => settings.mode === 'unsafe' || next.canFlush(),
    pread: (buf, offset) =>
      c.eachBlock(buf.length, offset, async (block, inBlock, inRequest, length) => {
        const data = await c.load(block, settings.cacheOnRead());
        data.copy(buf, inRequest, inBlock, inBlock + length);
      }),
    pwrite: (buf, offset, flags) => c.write(buf.length, offset, flags, (data, inBlock, inRequest, length) => {
      buf.copy(data, inBlock, inRequest, inRequest + length);
    }),
    // Zeroing and trimming go through the cache like writes, as nbdkit's do: so never fast.
    async zero(count, offset, flags) {
      if (flags & FLAG_FAST_ZERO) throw new BlockError('ENOTSUP', 'cache: zeroing through the cache is not faster than writing');
      await c.write(count, offset, flags, zeroFill);
    },
    trim: (count, offset, flags) => c.write(count, offset, flags, zeroFill),
    cache: (count, offset) => c.eachBlock(count, offset, async (block) => void (await c.load(block, true))),
    async flush(flags) {
      if (settings.mode === 'unsafe') return;
      await c.flushDirty();
      await next.flush(flags);
    },
    extents: async (count, offset, flags) => withDirtyAsData(await next.extents(count, offset, flags), store, offset),
  };
}

/** The lower layer's extents with blocks dirty in the cache shown as data: they hold writes it lacks. */
function withDirtyAsData(list: Extent[], store: CacheStore, offset: number): Extent[] {
  const last = list[list.length - 1];
  if (store.dirtyCount === 0 || !last) return list;
  const bs = store.blockSize;
  const end = last.offset + last.length;
  const dirty = [...store.dirtyRuns(Math.floor(offset / bs), Math.ceil(end / bs))].map((r) => [r.first * bs, r.end * bs] as const);
  const out: Extent[] = [];
  for (const e of list) {
    let pos = e.offset;
    const eEnd = e.offset + e.length;
    for (const [from, to] of dirty) {
      if (to <= pos || from >= eEnd) continue;
      if (from > pos) pushExtent(out, pos, from - pos, e.flags);
      const stop = Math.min(to, eEnd);
      pushExtent(out, Math.max(from, pos), stop - Math.max(from, pos), EXTENT_DATA);
      pos = stop;
    }
    if (pos < eEnd) pushExtent(out, pos, eEnd - pos, e.flags);
  }
  return out;
}
