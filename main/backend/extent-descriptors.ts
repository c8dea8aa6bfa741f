// Extents in the wire's own form: NBD BLOCK_STATUS descriptors, big-endian (length, flags)
// pairs of u32 laid end to end from an offset. A remote export's answer can travel this way
// from the NBD client into the allocation map with no object per extent: on a disk of ten
// million extents the objects, not the work, were most of a scan (their garbage collection
// alone a quarter of it), and they kept each query to a few thousand extents.
//
// The backend passes such an answer on only where extents() would have passed the same answer
// unchanged (descriptorsAreClean); anywhere else the caller asks extents(), which normalises.
import type { Extent } from '../../shared/extents.ts';
import { MAX_EXTENTS } from './extents.ts';
import { SECTOR } from './sector-align.ts';

export interface ExtentDescriptors {
  /** Where the first descriptor starts. */
  offset: number;
  /** 8 bytes per extent: its length, then its flags, each a big-endian u32. */
  bytes: Uint8Array;
}

export const DESCRIPTOR_LENGTH = 8;
/** The longest extent one descriptor holds (its u32), kept on the sector grid. */
export const MAX_DESCRIPTOR_EXTENT = 2 ** 32 - SECTOR;

/** Builds an answer in descriptor form, one extent at a time (a plugin's side of the capability). */
export class DescriptorWriter {
  private bytes: Uint8Array;
  /** A DataView: Buffer's writeUInt32BE checks its arguments and cost a third of a map reply. */
  private view: DataView;
  private used = 0;
  readonly offset: number;

  constructor(offset: number, expected = 256) {
    this.offset = offset;
    this.bytes = new Uint8Array(Math.max(1, expected) * DESCRIPTOR_LENGTH);
    this.view = new DataView(this.bytes.buffer);
  }

  /** Append the next extent (at most MAX_DESCRIPTOR_EXTENT long). */
  push(length: number, flags: number): void {
    if (this.used === this.bytes.length) {
      const bigger = new Uint8Array(this.bytes.length * 2);
      bigger.set(this.bytes);
      this.bytes = bigger;
      this.view = new DataView(bigger.buffer);
    }
    this.view.setUint32(this.used, length);
    this.view.setUint32(this.used + 4, flags);
    this.used += DESCRIPTOR_LENGTH;
  }

  get count(): number {
    return this.used / DESCRIPTOR_LENGTH;
  }

  finish(): ExtentDescriptors {
    return { offset: this.offset, bytes: this.bytes.subarray(0, this.used) };
  }
}

/** Calls `each` for every descriptor with the offset it starts at; returns where the last ends. */
export function forEachDescriptor(d: ExtentDescriptors, each: (offset: number, length: number, flags: number) => void): number {
  const { bytes } = d;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = d.offset;
  for (let at = 0; at + DESCRIPTOR_LENGTH <= bytes.length; at += DESCRIPTOR_LENGTH) {
    const length = view.getUint32(at);
    each(pos, length, view.getUint32(at + 4));
    pos += length;
  }
  return pos;
}

/** The descriptors as a list of extents (tests, and callers that want objects after all). */
export function descriptorsToExtents(d: ExtentDescriptors): Extent[] {
  const out: Extent[] = [];
  forEachDescriptor(d, (offset, length, flags) => out.push({ offset, length, flags }));
  return out;
}

/**
 * True when `d`, an answer for [offset, offset+count), is what normalising would leave as it
 * is (isNormalized without a hole claimed for the tail): it starts at `offset`, holds whole
 * descriptors (no more than MAX_EXTENTS), no empty extent, no flags beyond the two wire bits,
 * no two neighbours with the same flags, and ends inside the range. With `size` (the outermost
 * layer) every boundary is also on a sector or at the disk's end, as sector alignment would
 * leave it (isSectorAligned).
 */
export function descriptorsAreClean(d: ExtentDescriptors, offset: number, count: number, size: number | null): boolean {
  const { bytes } = d;
  if (d.offset !== offset || bytes.length === 0 || bytes.length % DESCRIPTOR_LENGTH !== 0 || bytes.length > MAX_EXTENTS * DESCRIPTOR_LENGTH) return false;
  if (size !== null && !Number.isInteger(offset / SECTOR)) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = offset + count;
  let pos = offset;
  let prevFlags = -1;
  for (let at = 0; at < bytes.length; at += DESCRIPTOR_LENGTH) {
    const length = view.getUint32(at);
    const flags = view.getUint32(at + 4);
    pos += length;
    if (length === 0 || flags > 3 || flags === prevFlags || pos > end) return false;
    // `x / SECTOR` rather than `%`: exact, and far cheaper on offsets past 2^31.
    if (size !== null && !Number.isInteger(pos / SECTOR) && pos !== size) return false;
    prevFlags = flags;
  }
  return true;
}

/**
 * `d`, an answer that starts at or before `offset`, cut to [offset, end): the extents wholly
 * outside dropped, the first and last shortened to the range. A copy; `d` is left as it was.
 */
export function clipDescriptors(d: ExtentDescriptors, offset: number, end: number): ExtentDescriptors {
  const { bytes } = d;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let first = -1;
  let firstStart = 0;
  let last = -1;
  let lastStart = 0;
  let pos = d.offset;
  for (let at = 0; at + DESCRIPTOR_LENGTH <= bytes.length && pos < end; at += DESCRIPTOR_LENGTH) {
    const length = view.getUint32(at);
    if (first < 0 && pos + length > offset) {
      first = at;
      firstStart = pos;
    }
    last = at;
    lastStart = pos;
    pos += length;
  }
  if (first < 0) return { offset, bytes: new Uint8Array(0) };
  const out = bytes.slice(first, last + DESCRIPTOR_LENGTH);
  const outView = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const lastAt = last - first;
  const lastEnd = Math.min(pos, end);
  // The first and last may be one descriptor: the last is written with the clipped start too.
  outView.setUint32(0, Math.min(firstStart + view.getUint32(first), end) - offset);
  outView.setUint32(lastAt, lastEnd - Math.max(lastStart, offset));
  return { offset, bytes: out };
}
