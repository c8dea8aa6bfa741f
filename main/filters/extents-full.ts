// Next.extents may stop short of the range (the backend caps a reply's length). A filter
// that returns the lower layer's extents as part of its own list must not let the
// uncovered rest become a "hole" when its own list is normalised, so it asks again from
// where the answer stopped (nbdkit_extents_full). With REQ_ONE one answer is enough: the
// backend keeps only the first extent anyway.
import type { Extent } from '../../shared/extents.ts';
import { MAX_EXTENTS } from '../backend/extents.ts';
import { FLAG_REQ_ONE } from '../backend/flags.ts';
import type { Next } from '../backend/types.ts';

export async function extentsFull(next: Next, count: number, offset: number, flags = 0, max = MAX_EXTENTS): Promise<Extent[]> {
  if (flags & FLAG_REQ_ONE) return next.extents(count, offset, flags);
  const end = offset + count;
  const out: Extent[] = [];
  // Extents that stay distinct after coalescing. Past `max` the backend cuts the reply
  // before any gap we leave, so asking further is wasted work.
  let distinct = 0;
  let pos = offset;
  while (pos < end && distinct <= max) {
    const list = await next.extents(end - pos, pos, flags);
    // A loop, not push(...list): a reply can hold a million entries, too many arguments.
    for (const e of list) {
      if (e.flags !== out[out.length - 1]?.flags) distinct++;
      out.push(e);
    }
    const last = list[list.length - 1];
    if (!last) break;
    pos = last.offset + last.length;
  }
  return out;
}
