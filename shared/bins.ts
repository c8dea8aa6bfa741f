// How a byte range is cut into map bins, defined once so that main (which counts bytes per
// bin) and the renderer (which maps pixels and hover positions back to bytes) agree to the
// byte. Bin i of `bins` over [start, end) covers [edge(i), edge(i + 1)); edges are integers,
// so a bin narrower than one byte is empty rather than fractional.

/** The classes a bin counts, in the order of the counts array. */
export const BIN_CLASSES = ['data', 'zero', 'hole', 'hole-undefined', 'unknown'] as const;
/** Numbers per bin in MapBins.counts. */
export const BIN_STRIDE = BIN_CLASSES.length;
export const BIN_DATA = 0;
export const BIN_ZERO = 1;
/** HOLE|ZERO: unallocated, reads as zero. */
export const BIN_HOLE = 2;
/** HOLE alone: unallocated, contents undefined. */
export const BIN_HOLE_UNDEFINED = 3;
/** Not scanned yet. */
export const BIN_UNKNOWN = 4;

/** The bin class of an extent's NBD flags (bit 0 HOLE, bit 1 ZERO). */
export function binClassOfFlags(flags: number): number {
  switch (flags & 3) {
    case 0:
      return BIN_DATA;
    case 2:
      return BIN_ZERO;
    case 3:
      return BIN_HOLE;
    default:
      return BIN_HOLE_UNDEFINED;
  }
}

/** The NBD flags of a bin class, the inverse of binClassOfFlags; -1 for BIN_UNKNOWN. */
export function flagsOfBinClass(cls: number): number {
  switch (cls) {
    case BIN_DATA:
      return 0;
    case BIN_ZERO:
      return 2;
    case BIN_HOLE:
      return 3;
    case BIN_HOLE_UNDEFINED:
      return 1;
    default:
      return -1;
  }
}

/**
 * First byte of bin i. Computed without the product (end - start) * i, which can exceed
 * 2^53 for large disks and many bins.
 */
export function binEdge(start: number, end: number, bins: number, i: number): number {
  if (i <= 0) return start;
  if (i >= bins) return end;
  const span = end - start;
  const whole = Math.floor(span / bins);
  const rest = span - whole * bins;
  return start + whole * i + Math.floor((rest * i) / bins);
}

/** The bin holding byte `offset`, or -1 outside [start, end). */
export function binOf(start: number, end: number, bins: number, offset: number): number {
  if (offset < start || offset >= end || bins <= 0) return -1;
  let i = Math.min(bins - 1, Math.floor(((offset - start) / (end - start)) * bins));
  // Floating-point division can land one bin off; the integer edges decide.
  while (i > 0 && binEdge(start, end, bins, i) > offset) i--;
  while (i < bins - 1 && binEdge(start, end, bins, i + 1) <= offset) i++;
  return i;
}

// Allocation depth (qemu:allocation-depth): 0 = no layer holds the range, 1 = the image
// itself, 2 = its backing file, and so on. Map bins count the data each backing file holds
// separately, so the map can tint it per layer; backing layer k (1-based) is depth k + 1.

/** The image itself, not a backing file. */
export const DEPTH_TOP = 1;

/** Backing layer (1 = the first backing file) holding data at `depth`; 0 for the image itself or no layer. */
export function backingLayerOfDepth(depth: number): number {
  return depth > DEPTH_TOP ? depth - DEPTH_TOP : 0;
}
