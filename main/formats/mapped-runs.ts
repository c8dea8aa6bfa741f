// Formats whose data is stored raw at host offsets (VHD, VHDX, VDI) describe a guest range
// as mapped runs: one table walk serves both the layer's status and its reads, so the two
// can never disagree about where a byte lives.
import { EXTENT_DATA, EXTENT_HOLE_ZERO, EXTENT_ZERO, pushRun } from '../../shared/extents.ts';
import type { HostAllocation } from './host-allocation.ts';
import type { ImageFile } from './image-file.ts';
import { RunBuilder, type LayerRun } from './layer.ts';
import { hostStatus } from './raw-layer.ts';
import { bitRuns, type BitOrder } from './sector-bitmap.ts';

export type MappedRun =
  /** Stored raw in the layer's file at `hostOffset`. */
  | { kind: 'data'; offset: number; length: number; hostOffset: number }
  /** The layer says "reads as zero" and hides its parent; `allocated` if space is reserved. */
  | { kind: 'zero'; offset: number; length: number; allocated: boolean }
  /** Not held here: the parent's bytes, or zeroes when there is no parent. */
  | { kind: 'absent'; offset: number; length: number };

/** Adds `run`, merging it into the previous run when it continues it exactly. */
export function appendMapped(runs: MappedRun[], run: MappedRun): void {
  if (run.length > 0) pushRun(runs, run, continuesMapped);
}

/** Same kind, and for data the next host bytes, for zero the same reservation. */
function continuesMapped(last: MappedRun, run: MappedRun): boolean {
  return (
    last.kind === run.kind &&
    (last.kind !== 'data' || run.kind !== 'data' || last.hostOffset + last.length === run.hostOffset) &&
    (last.kind !== 'zero' || run.kind !== 'zero' || last.allocated === run.allocated)
  );
}

/** A sector bitmap as the block formats store it (VHD msb-first, VHDX lsb-first). */
export interface SectorBitmap {
  bits: Buffer;
  order: BitOrder;
  sectorSize: number;
}

/**
 * [from, to) of the block at `blockStart` by its sector bitmap: a set bit means the sector
 * is stored here, at its place in the block's data from `hostStart`; a clear one, absent.
 */
export function appendBitmapRuns(runs: MappedRun[], span: { blockStart: number; from: number; to: number }, bitmap: SectorBitmap, hostStart: number): void {
  const { blockStart, from, to } = span;
  const sector = bitmap.sectorSize;
  const first = Math.floor((from - blockStart) / sector);
  const last = Math.ceil((to - blockStart) / sector);
  for (const [s0, s1, present] of bitRuns(bitmap.bits, first, last, bitmap.order)) {
    const a = Math.max(from, blockStart + s0 * sector);
    const b = Math.min(to, blockStart + s1 * sector);
    if (present) appendMapped(runs, { kind: 'data', offset: a, length: b - a, hostOffset: hostStart + (a - blockStart) });
    else appendMapped(runs, { kind: 'absent', offset: a, length: b - a });
  }
}

/**
 * The layer status the chain composes: allocated zero 2, unallocated zero 3, data 0. With
 * `host`, data stored over a hole of the host file is reported as allocated zero, as qemu
 * does for formats that store guest data raw (qemu asks the host file too).
 */
export function statusOf(runs: readonly MappedRun[], host?: HostAllocation): LayerRun[] {
  const b = new RunBuilder();
  for (const r of runs) {
    if (r.kind === 'absent') b.absent(r.offset, r.length);
    else if (r.kind === 'zero') b.push(r.offset, r.length, true, r.allocated ? EXTENT_ZERO : EXTENT_HOLE_ZERO);
    else if (host) for (const h of hostStatus(host, r.offset, r.length, r.hostOffset, EXTENT_ZERO)) b.push(h.offset, h.length, true, h.flags);
    else b.push(r.offset, r.length, true, EXTENT_DATA);
  }
  return b.runs;
}

/** Fill `buf` (guest bytes from `offset`) from the data runs; anything else reads as zero. */
export async function readMapped(file: ImageFile, runs: readonly MappedRun[], buf: Buffer, offset: number): Promise<void> {
  for (const r of runs) {
    const part = buf.subarray(r.offset - offset, r.offset - offset + r.length);
    if (r.kind === 'data') await file.readExact(part, r.hostOffset, 'guest data');
    else part.fill(0);
  }
}
