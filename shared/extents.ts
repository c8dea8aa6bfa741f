// NBD base:allocation bits, the one definition everything else uses: the backend normalises
// plugin extents into them, the wire encoder sends them, the map colours them.

/** Not allocated: a write there may need space (ENOSPC). */
export const EXTENT_HOLE = 1;
/** Reads as zero. */
export const EXTENT_ZERO = 2;
/** Allocated data (or unknown): always a safe answer. */
export const EXTENT_DATA = 0;
/** The usual unallocated region: not allocated and reads as zero (the seed's HOLE). */
export const EXTENT_HOLE_ZERO = EXTENT_HOLE | EXTENT_ZERO;
/**
 * The seed's NBDKIT_EXTENT_TYPE_NONE: an entry the backend drops. It is not a wire bit, so
 * filters can blank out entries of a list without moving the rest.
 */
export const EXTENT_NONE = 0x100;

export interface Extent {
  offset: number;
  length: number;
  /** EXTENT_HOLE / EXTENT_ZERO bits, or EXTENT_NONE. */
  flags: number;
}

/** The words nbdinfo --map prints for each flag combination ("hole,zero", "data", ...). */
export function describeExtentFlags(flags: number): string {
  switch (flags & 3) {
    case 0:
      return 'data';
    case EXTENT_HOLE:
      return 'hole';
    case EXTENT_ZERO:
      return 'zero';
    default:
      return 'hole,zero';
  }
}

/** The three kinds the map colours, plus HOLE-without-ZERO (undefined content). */
export type ExtentKind = 'data' | 'zero' | 'hole' | 'hole-undefined';

export function extentKind(flags: number): ExtentKind {
  switch (flags & 3) {
    case 0:
      return 'data';
    case EXTENT_ZERO:
      return 'zero';
    case EXTENT_HOLE_ZERO:
      return 'hole';
    default:
      return 'hole-undefined';
  }
}

/**
 * Append [offset, offset+length) with `flags` to a sorted list, extending the last extent
 * instead when it ends right there with the same flags: the one coalescer every map uses.
 */
export function pushExtent(list: Extent[], offset: number, length: number, flags: number): void {
  // pushRun's rule, written out for the hot path: every extents answer passes here (ten
  // million extents in a scan of a 1 TiB sparse-random disk), where pushRun's callback and the
  // object it takes even for a merge were measurable.
  const last = list[list.length - 1];
  if (last !== undefined && last.offset + last.length === offset && last.flags === flags) last.length += length;
  else list.push({ offset, length, flags });
}

/**
 * pushExtent for runs of any shape (layer runs, mapped runs, ...): `run` joins the last run
 * when it starts where that one ends and `same` says they may merge, else it is appended
 * (and may itself be extended later, so pass an object the list may own).
 */
export function pushRun<T extends { offset: number; length: number }>(list: T[], run: T, same: (last: T, run: T) => boolean): void {
  const last = list[list.length - 1];
  if (last && last.offset + last.length === run.offset && same(last, run)) last.length += run.length;
  else list.push(run);
}

/** Extents as [offset, length, flags] triples: easy to write out literally in tests and JSON. */
export function extentTriples(list: readonly Extent[]): [number, number, number][] {
  return list.map((e) => [e.offset, e.length, e.flags]);
}
