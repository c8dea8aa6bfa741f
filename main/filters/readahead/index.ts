// readahead: when the client reads sequentially, ask the layer below to prefetch what it will
// read next (nbdkit-readahead-filter), with a window that doubles while the reads stay
// sequential and starts again small when they jump. Prefetching is a CACHE request sent in
// the background after the read; it only helps where a layer below keeps data warm (a cache
// or cow filter with cow-on-cache, a plugin with its own cache).
import { defineFilter, type FilterHandle, type Next } from '../../backend/types.ts';

export const READAHEAD_MIN = 32 * 1024;
export const READAHEAD_MAX = 4 * 1024 * 1024;

/** Where the next prefetch goes, given the reads so far: a small adaptive model, no I/O. */
export class ReadaheadWindow {
  private lastEnd: number | null = null;
  private window = READAHEAD_MIN;
  /** Prefetches already asked for cover up to here. */
  private prefetchedTo = 0;

  constructor(private readonly size: number) {}

  /** After a read of [offset, offset+count): the range to prefetch, or null if already asked for. */
  afterRead(count: number, offset: number): { offset: number; count: number } | null {
    const sequential = offset === this.lastEnd;
    this.window = sequential ? Math.min(this.window * 2, READAHEAD_MAX) : READAHEAD_MIN;
    const end = offset + count;
    this.lastEnd = end;
    if (!sequential) this.prefetchedTo = end;
    const from = Math.max(end, this.prefetchedTo);
    const to = Math.min(this.size, end + this.window);
    if (to <= from) return null;
    this.prefetchedTo = to;
    return { offset: from, count: to - from };
  }
}

function readaheadHandle(next: Next): FilterHandle {
  const model = new ReadaheadWindow(next.getSize());
  // One prefetch at a time, after the read that asked for it; errors only cost the prefetch.
  let background: Promise<void> = Promise.resolve();
  const prefetch = next.canCache() !== 'none';
  return {
    async pread(buf, offset, flags) {
      await next.pread(buf, offset, flags);
      const ahead = prefetch ? model.afterRead(buf.length, offset) : null;
      if (ahead) background = background.then(() => next.cache(ahead.count, ahead.offset)).catch(() => {});
    },
    // The layers below close after this handle: no prefetch may still be running then.
    close: () => background,
  };
}

export const readaheadFilter = defineFilter({
  name: 'readahead',
  summary: 'prefetch ahead of sequential reads (put a cache filter below it)',
  params: [],
  create: () => ({ open: (next) => readaheadHandle(next) }),
});
