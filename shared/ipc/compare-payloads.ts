// The contract's data for comparing two images (compare.run). (Part of the IPC contract:
// import it through shared/ipc.ts.)

/**
 * Compare (main/services/compare.ts): how a range of two images relates. `only-a`/`only-b`:
 * the same bytes, allocated on one side only (a hole or past the end on the other).
 */
export type CompareClass = 'identical' | 'differ' | 'only-a' | 'only-b';

export interface CompareRange {
  offset: number;
  length: number;
  class: CompareClass;
}

export interface CompareResult {
  sizeA: number;
  sizeB: number;
  /** --strict: allocation and size differences count as differences (qemu-img compare -s). */
  strict: boolean;
  /** The verdict qemu-img compare's exit code gives: true means exit 0. */
  identical: boolean;
  /** Where the first difference the verdict counts starts, or null. */
  firstDifference: number | null;
  /** Bytes of each class over [0, max(sizeA, sizeB)). */
  totals: Record<CompareClass, number>;
  /** Every range that is not identical, coalesced, in order. */
  ranges: CompareRange[];
}


/** compare.run's answer: the comparison of image `imageId` (A) with `otherId` (B, opened for it). */
export interface CompareRun extends CompareResult {
  imageId: string;
  otherId: string;
  otherTitle: string;
}
