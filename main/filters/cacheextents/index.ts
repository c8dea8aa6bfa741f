// cacheextents: remember the last extents answer (nbdkit-cacheextents-filter), for clients
// that walk the disk one extent at a time (qemu-img sets REQ_ONE) over a plugin whose every
// extents call is slow but can describe a long stretch at once. A miss asks the layer below
// without REQ_ONE, so one slow call answers many of the client's questions.
import { FLAG_REQ_ONE } from '../../backend/flags.ts';
import { extentsEnd } from '../../backend/extents.ts';
import type { Extent } from '../../../shared/extents.ts';
import { defineFilter, type FilterHandle, type Next } from '../../backend/types.ts';

/** Shared by an export's connections: a write anywhere makes every cached answer stale. */
interface WriteClock {
  writes: number;
}

function cachingHandle(next: Next, clock: WriteClock): FilterHandle {
  // Per connection: a chain rebuilt under this filter must not be answered from an old cache.
  let cached: { list: Extent[]; start: number; end: number; writes: number } | null = null;
  const wrote = <T>(run: () => Promise<T>) => {
    clock.writes++;
    return run().finally(() => clock.writes++);
  };
  return {
    async extents(count, offset, flags) {
      if (cached && cached.writes === clock.writes && offset >= cached.start && offset < cached.end) return cached.list;
      const writes = clock.writes;
      const list = await next.extents(count, offset, flags & ~FLAG_REQ_ONE);
      cached = { list, start: offset, end: extentsEnd(list, offset), writes };
      return list;
    },
    pwrite: (buf, offset, flags) => wrote(() => next.pwrite(buf, offset, flags)),
    zero: (count, offset, flags) => wrote(() => next.zero(count, offset, flags)),
    trim: (count, offset, flags) => wrote(() => next.trim(count, offset, flags)),
  };
}

export const cacheextentsFilter = defineFilter({
  name: 'cacheextents',
  summary: 'remember the last extents answer, for clients that ask one extent at a time',
  params: [],
  create() {
    const clock: WriteClock = { writes: 0 };
    return { open: (next) => cachingHandle(next, clock) };
  },
});
