// Keeping a comparison current while clients write: the last compare.run of each image is
// remembered, and compare.refresh compares again only the ranges that changed since (what the
// renderer hears in map.changed, which every write, trim and zero through a served export
// raises) and splices the answer into the remembered run. compare.ts compares whole images;
// here its compareImages sees each changed range as a small image of its own.
import { pushRun } from '../../shared/extents.ts';
import type { CompareClass, CompareRange, CompareResult, CompareRun } from '../../shared/ipc.ts';
import type { Chain } from '../backend/chain.ts';
import { mergeRange } from './allocation.ts';
import { compareImages, layerSide, type CompareSide } from './compare.ts';
import { ServiceError } from './errors.ts';

export type Window = [start: number, end: number];

/** `side` through [start, end): offsets shifted to start at 0, nothing past `end`. */
export function windowSide(side: CompareSide, start: number, end: number): CompareSide {
  return {
    size: Math.max(0, Math.min(side.size, end) - start),
    extents: async (count, offset) => (await side.extents(count, offset + start)).map((e) => ({ ...e, offset: e.offset - start })),
    pread: (buf, offset) => side.pread(buf, offset + start),
  };
}

/** Sorted, merged, clipped to [0, size): what a list of changed ranges asks to compare again. */
export function normaliseWindows(windows: readonly Window[], size: number): Window[] {
  let merged: Window[] = [];
  for (const [s, e] of windows) if (Math.min(e, size) > s) merged = mergeRange(merged, s, Math.min(e, size));
  return merged;
}

/** The ranges of `windows` (normalised) that are not identical, as the images read now. */
export async function compareWindows(a: CompareSide, b: CompareSide, windows: readonly Window[], strict: boolean): Promise<CompareRange[]> {
  const fresh: CompareRange[] = [];
  for (const [start, end] of windows) {
    const r = await compareImages(windowSide(a, start, end), windowSide(b, start, end), { strict });
    for (const x of r.ranges) fresh.push({ ...x, offset: x.offset + start });
  }
  return fresh;
}

/** `ranges` less what lies inside `windows` (normalised), cut at the windows' edges. */
function outside(ranges: readonly CompareRange[], windows: readonly Window[]): CompareRange[] {
  const kept: CompareRange[] = [];
  for (const r of ranges) {
    let pos = r.offset;
    const end = r.offset + r.length;
    for (const [s, e] of windows) {
      if (e <= pos || s >= end) continue;
      if (s > pos) kept.push({ ...r, offset: pos, length: s - pos });
      pos = Math.max(pos, e);
    }
    if (pos < end) kept.push({ ...r, offset: pos, length: end - pos });
  }
  return kept;
}

/**
 * `run` with what `windows` (normalised) held replaced by `fresh`, its totals and verdict
 * worked out again by compare.ts's rules (the property test holds the two to each other).
 */
export function spliceWindows<T extends CompareResult>(run: T, windows: readonly Window[], fresh: readonly CompareRange[]): T {
  const pieces = [...outside(run.ranges, windows), ...fresh].sort((x, y) => x.offset - y.offset);
  const ranges: CompareRange[] = [];
  for (const p of pieces) pushRun(ranges, { ...p }, (x, y) => x.class === y.class);
  const totals: Record<CompareClass, number> = { identical: Math.max(run.sizeA, run.sizeB), differ: 0, 'only-a': 0, 'only-b': 0 };
  for (const r of ranges) {
    totals[r.class] += r.length;
    totals.identical -= r.length;
  }
  const counted = run.strict ? ranges : ranges.filter((r) => r.class === 'differ');
  const sizeDiffers = run.strict && run.sizeA !== run.sizeB;
  const firstDifference = counted[0]?.offset ?? (sizeDiffers ? Math.min(run.sizeA, run.sizeB) : null);
  return { ...run, ranges, totals, firstDifference, identical: firstDifference === null };
}

/** Opens both chains read-only (as compare.run does), compares the windows, closes them. */
async function compareChainWindows(a: Chain, b: Chain, windows: readonly Window[], strict: boolean): Promise<CompareRange[]> {
  const opened = await Promise.allSettled([a.open({ readonly: true, exportName: '' }), b.open({ readonly: true, exportName: '' })]);
  try {
    const [ca, cb] = opened.map((o) => {
      if (o.status === 'rejected') throw o.reason;
      return o.value;
    });
    return await compareWindows(layerSide(ca!.top), layerSide(cb!.top), windows, strict);
  } finally {
    await Promise.allSettled(opened.map((o) => (o.status === 'fulfilled' ? o.value.close() : undefined)));
  }
}

/** The last comparison of each image (as A), kept current range by range. */
export class LiveCompares {
  private readonly runs = new Map<string, CompareRun>();
  /** Refreshes of one image run one after another, so each splices into the one before. */
  private readonly queues = new Map<string, Promise<unknown>>();

  remember(run: CompareRun): CompareRun {
    this.runs.set(run.imageId, run);
    return run;
  }

  /** An image closed: comparisons with it on either side are gone. */
  forget(imageId: string): void {
    for (const [id, run] of this.runs) if (id === imageId || run.otherId === imageId) this.runs.delete(id);
    this.queues.delete(imageId);
  }

  /** compare.refresh: `imageId`'s comparison with `otherId`, `changed` ranges compared again. */
  refresh(imageId: string, otherId: string, changed: readonly Window[], chainOf: (id: string) => Chain): Promise<CompareRun> {
    const work = (this.queues.get(imageId) ?? Promise.resolve()).then(async () => {
      const run = this.current(imageId, otherId);
      const windows = normaliseWindows(changed, Math.max(run.sizeA, run.sizeB));
      const fresh = await compareChainWindows(chainOf(imageId), chainOf(otherId), windows, run.strict);
      // A compare.run that finished meanwhile has read the images after these changes.
      if (this.runs.get(imageId) !== run) return this.current(imageId, otherId);
      return this.remember(spliceWindows(run, windows, fresh));
    });
    this.queues.set(imageId, work.catch(() => undefined));
    return work;
  }

  private current(imageId: string, otherId: string): CompareRun {
    const run = this.runs.get(imageId);
    if (!run || run.otherId !== otherId) throw new ServiceError('not-found', `no comparison of image '${imageId}' with '${otherId}' to refresh: compare them again`);
    return run;
  }
}
