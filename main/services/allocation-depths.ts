// Cutting an extents answer by allocation depth, so each run the allocation model stores
// carries one depth. A step before the model (allocation.ts feeds it), kept apart from the
// model's own bookkeeping; allocation-model.ts re-exports it for its callers.
import type { Run } from './allocation-model.ts';

/**
 * Runs of one extents answer cut where the allocation depth changes, each carrying its depth.
 * Both lists are sorted and contiguous from the same offset; what `depths` does not cover
 * keeps an unknown depth.
 */
export function withDepths(runs: readonly Run[], depths: readonly { offset: number; length: number; depth: number }[]): Run[] {
  const out: Run[] = [];
  let d = 0;
  for (const r of runs) {
    let pos = r.offset;
    const end = r.offset + r.length;
    while (pos < end) {
      while (d < depths.length && depths[d]!.offset + depths[d]!.length <= pos) d++;
      const cover = depths[d];
      if (!cover || cover.offset > pos) {
        const stop = cover ? Math.min(end, cover.offset) : end;
        out.push({ offset: pos, length: stop - pos, cls: r.cls });
        pos = stop;
        continue;
      }
      const stop = Math.min(end, cover.offset + cover.length);
      out.push({ offset: pos, length: stop - pos, cls: r.cls, depth: cover.depth });
      pos = stop;
    }
  }
  return out;
}
