// Filters that watch or disturb requests without changing them (delay, error, stats,
// probe) wrap every data operation the same way: one function runs around the call to the
// layer below. Zero must be wrapped too: a filter with pwrite but no zero would have the
// backend emulate zeroing through its pwrite.
import type { DataOp } from '../../shared/ops.ts';
import type { FilterHandle, Next } from '../backend/types.ts';

export interface OpRequest {
  op: DataOp;
  /** Bytes the request covers (0 for flush). */
  count: number;
  offset: number;
  flags: number;
}

/** Runs around one request: may wait, throw instead of calling `run`, or time it. */
export type Around = <T>(request: OpRequest, run: () => Promise<T>) => Promise<T>;

export function interceptDataOps(next: Next, around: Around): FilterHandle {
  return {
    pread: (buf, offset, flags) => around({ op: 'pread', count: buf.length, offset, flags }, () => next.pread(buf, offset, flags)),
    pwrite: (buf, offset, flags) => around({ op: 'pwrite', count: buf.length, offset, flags }, () => next.pwrite(buf, offset, flags)),
    trim: (count, offset, flags) => around({ op: 'trim', count, offset, flags }, () => next.trim(count, offset, flags)),
    zero: (count, offset, flags) => around({ op: 'zero', count, offset, flags }, () => next.zero(count, offset, flags)),
    extents: (count, offset, flags) => around({ op: 'extents', count, offset, flags }, () => next.extents(count, offset, flags)),
    cache: (count, offset, flags) => around({ op: 'cache', count, offset, flags }, () => next.cache(count, offset, flags)),
    flush: (flags) => around({ op: 'flush', count: 0, offset: 0, flags }, () => next.flush(flags)),
  };
}
