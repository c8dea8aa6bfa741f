// Next.extents may stop short of the range (a reply cap, REQ_ONE). A filter that stitches
// the lower layer's extents into its own list asks again from where the answer stopped
// (nbdkit_extents_full), and wherever the lower answer still ends short it must end its own
// list there too: anything it put after a gap would make the gap read as a hole. With
// REQ_ONE one answer is enough: the backend keeps only the first extent anyway.
import type { Extent } from '../../shared/extents.ts';
import { MAX_EXTENTS } from '../backend/extents.ts';
export { extentsEnd } from '../backend/extents.ts';
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
