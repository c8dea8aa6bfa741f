// Compare two images to the end, the way `qemu-img compare` compares them up to the first
// difference. The maps decide what is read: a range both sides report as reading zero is
// never read, a range one side reports as zero is read on the other side only and checked
// against zeroes, and the rest is read from both: long runs in large reads, a few in flight,
// the short extents of a fragmented map in short reads (see SHORT_READ). Past the
// end of the smaller image everything reads as zero and nothing is allocated, so the tail of
// the larger one is compared against zeroes, as qemu-img does. Long stretches that both
// sides hold as plain files' bytes (a layer's fileRange) are compared by the native addon on
// pool threads, the bytes never copied into JavaScript; a stretch it finds different is read
// again the ordinary way, so the differing runs stay byte-exact.
import { EXTENT_HOLE, EXTENT_ZERO, pushRun, type Extent } from '../../shared/extents.ts';
import type { CompareClass, CompareRange, CompareResult } from '../../shared/ipc.ts';
import type { Chain } from '../backend/chain.ts';
import type { LayerContext } from '../backend/context.ts';
import { differingRuns, nativeFileCompare, sameFileBytes, type FileCompare } from './compare-bytes.ts';

/** What compare needs of an image: an open chain's top layer, an NBD client, a CLI target. */
export interface CompareSide {
  size: number;
  extents(count: number, offset: number): Promise<Extent[]>;
  pread(buf: Buffer, offset: number): Promise<void>;
  /** A local chain's top layer (layerSide and the CLI's targets carry it): where it says its bytes lie unchanged in a file, the files are compared natively. */
  top?: Pick<LayerContext, 'fileRange'>;
}

export interface CompareOptions {
  /** Allocation and size differences make the images different (qemu-img compare -s). */
  strict?: boolean;
  /** Bytes per read (default 2 MiB, as qemu-img: both sides of a read still sit in the CPU cache when compared). */
  chunk?: number;
  /** Full-size reads in flight per side (default 2); small pieces of a fragmented map share that budget, up to 16 reads. */
  parallel?: number;
  /** Bytes per read of a stretch shorter than `chunk`, such as a sparse map's extents (default 64 KiB). */
  shortRead?: number;
}

const MiB = 1024 * 1024;
/** How far ahead one block-status question reaches: well inside NBD's 32-bit lengths. */
const MAP_WINDOW = 1024 * MiB;
const PAST_END = EXTENT_HOLE | EXTENT_ZERO;
/** Reads in flight at most, however small the pieces of a fragmented map are. */
const MAX_PIECES = 16;
/**
 * A sparse image's data is thousands of short extents. Read in pieces this small, cached
 * data comes back at once (the file plugin reads up to 64 KiB with RWF_NOWAIT, no thread-pool
 * round trip) into buffers that stay in the CPU cache for the comparison: on the 64 GiB bench
 * image (8750 extents) about a fifth less CPU than one read per extent. Long runs still use `chunk`.
 */
const SHORT_READ = 64 * 1024;

interface Run {
  flags: number;
  end: number;
}

/** One side's map, walked forwards, asking for more only when the walk gets there. */
class MapCursor {
  private list: Extent[] = [];
  private index = 0;
  private fetchedTo = 0;
  private readonly side: CompareSide;

  constructor(side: CompareSide) {
    this.side = side;
  }

  /**
   * The run holding `pos` if the window fetched so far holds it, else undefined: then fetch().
   * Synchronous, so the walk costs no promise per extent (a sparse image has thousands).
   * Never called with a smaller `pos` than before.
   */
  known(pos: number): Run | undefined {
    const size = this.side.size;
    if (pos >= size) return { flags: PAST_END, end: Infinity };
    for (;;) {
      const e = this.list[this.index];
      if (!e) return undefined;
      if (pos < e.offset + e.length) return { flags: e.flags, end: Math.min(e.offset + e.length, size) };
      this.index++;
    }
  }

  /** The next window of the map. */
  async fetch(): Promise<void> {
    const from = this.fetchedTo;
    const list = await this.side.extents(Math.min(this.side.size - from, MAP_WINDOW), from);
    const last = list[list.length - 1];
    if (!last || last.offset + last.length <= from) throw new Error(`no extents returned at offset ${from}`);
    this.list = list;
    this.index = 0;
    this.fetchedTo = Math.min(last.offset + last.length, this.side.size);
  }
}

const allocated = (flags: number): boolean => (flags & EXTENT_HOLE) === 0;

/** The class of bytes that read the same on both sides: which side, if any, allocated them. */
function sameBytesClass(flagsA: number, flagsB: number): CompareClass {
  const a = allocated(flagsA);
  const b = allocated(flagsB);
  return a === b ? 'identical' : a ? 'only-a' : 'only-b';
}

/** A stretch where both maps keep their flags, at most one read long. */
interface Piece {
  offset: number;
  length: number;
  readA: boolean;
  readB: boolean;
  sameClass: CompareClass;
}

/**
 * Both maps walked together: the pieces of every stretch where neither side's flags change,
 * handed to `each` in order. `each` may wait (for reads in flight to drain); the maps are
 * fetched a window at a time, both sides at once when both need one.
 */
async function walkPieces(a: CompareSide, b: CompareSide, chunk: number, shortRead: number, each: (p: Piece) => Promise<void> | void): Promise<void> {
  const ca = new MapCursor(a);
  const cb = new MapCursor(b);
  const end = Math.max(a.size, b.size);
  for (let pos = 0; pos < end; ) {
    const ra = ca.known(pos);
    const rb = cb.known(pos);
    if (!ra || !rb) {
      await Promise.all([ra ? undefined : ca.fetch(), rb ? undefined : cb.fetch()]);
      continue;
    }
    const stop = Math.min(ra.end, rb.end, end);
    const readA = (ra.flags & EXTENT_ZERO) === 0;
    const readB = (rb.flags & EXTENT_ZERO) === 0;
    const sameClass = sameBytesClass(ra.flags, rb.flags);
    const step = !(readA || readB) ? stop - pos : stop - pos >= chunk ? chunk : shortRead;
    for (let o = pos; o < stop; o += step) {
      const waited = each({ offset: o, length: Math.min(step, stop - o), readA, readB, sameClass });
      if (waited) await waited;
    }
    pos = stop;
  }
}

type Found = [offset: number, length: number, cls: CompareClass][];

/**
 * Read buffers, reused (fresh large buffers cost a page fault per page): `chunk` bytes for a
 * long run's reads, `shortRead` bytes for a fragmented map's, so those stay few and cache-sized.
 */
class BufferPool {
  private readonly long: Buffer[] = [];
  private readonly short: Buffer[] = [];
  private readonly chunk: number;
  private readonly shortRead: number;
  readonly zeroes: Buffer;

  constructor(chunk: number, shortRead: number) {
    this.chunk = chunk;
    this.shortRead = Math.min(shortRead, chunk);
    this.zeroes = Buffer.alloc(chunk);
  }

  /** A buffer of at least `length` (at most `chunk`) bytes. */
  take(length: number): Buffer {
    if (length <= this.shortRead) return this.short.pop() ?? Buffer.allocUnsafe(this.shortRead);
    return this.long.pop() ?? Buffer.allocUnsafe(this.chunk);
  }

  give(buf: Buffer): void {
    (buf.length === this.shortRead ? this.short : this.long).push(buf);
  }
}

/**
 * True when the addon found a piece's bytes equal in the files both sides keep them in. Only
 * for long runs' pieces: a short piece of cached data is read at once on the event loop
 * (RWF_NOWAIT), cheaper than a round trip through the thread pool.
 */
async function sameInFiles(a: CompareSide, b: CompareSide, p: Piece, fast: FileCompare | null, shortRead: number): Promise<boolean> {
  if (!fast || !p.readA || !p.readB || p.length <= shortRead) return false;
  const ra = a.top?.fileRange(p.length, p.offset);
  const rb = ra && b.top?.fileRange(p.length, p.offset);
  return ra && rb ? sameFileBytes(fast, ra, rb, p.length) : false;
}

/** Read a piece from the sides that hold data (zeroes stand in for the other) and classify its bytes. */
async function comparePiece(a: CompareSide, b: CompareSide, p: Piece, pool: BufferPool): Promise<Found> {
  const fullA = p.readA ? pool.take(p.length) : pool.zeroes;
  const fullB = p.readB ? pool.take(p.length) : pool.zeroes;
  const bufA = fullA.length === p.length ? fullA : fullA.subarray(0, p.length);
  const bufB = fullB.length === p.length ? fullB : fullB.subarray(0, p.length);
  try {
    await Promise.all([p.readA ? a.pread(bufA, p.offset) : undefined, p.readB ? b.pread(bufB, p.offset) : undefined]);
    const found: Found = [];
    let pos = 0;
    for (const [start, end] of differingRuns(bufA, bufB)) {
      if (start > pos) found.push([p.offset + pos, start - pos, p.sameClass]);
      found.push([p.offset + start, end - start, 'differ']);
      pos = end;
    }
    if (pos < p.length) found.push([p.offset + pos, p.length - pos, p.sameClass]);
    return found;
  } finally {
    if (p.readA) pool.give(fullA);
    if (p.readB) pool.give(fullB);
  }
}

const sameClass = (x: CompareRange, y: CompareRange): boolean => x.class === y.class;

/** Compare `a` and `b` over [0, max(size)): every range classified, totals and the verdict. */
export async function compareImages(a: CompareSide, b: CompareSide, options: CompareOptions = {}): Promise<CompareResult> {
  const chunk = options.chunk ?? 2 * MiB;
  const shortRead = options.shortRead ?? SHORT_READ;
  const budget = chunk * Math.max(1, options.parallel ?? 2);
  const pool = new BufferPool(chunk, shortRead);
  const fast = nativeFileCompare();
  const all: CompareRange[] = [];
  const totals: Record<CompareClass, number> = { identical: 0, differ: 0, 'only-a': 0, 'only-b': 0 };
  const record = (found: Found): void => {
    for (const [offset, length, cls] of found) {
      totals[cls] += length;
      pushRun(all, { offset, length, class: cls }, sameClass);
    }
  };
  // Results are recorded in order; meanwhile up to `budget` bytes (MAX_PIECES reads) are being read.
  const inFlight: { found: Promise<Found>; bytes: number }[] = [];
  let bytes = 0;
  const next = async (): Promise<void> => {
    const head = inFlight.shift()!;
    bytes -= head.bytes;
    record(await head.found);
  };
  const full = (): boolean => inFlight.length >= MAX_PIECES || bytes >= budget;
  const drain = async (): Promise<void> => {
    while (full()) await next();
  };
  // Returns a promise only when it has to wait: most pieces of a sparse map cost no await.
  const start = (p: Piece): Promise<void> | void => {
    if (!p.readA && !p.readB) {
      const found: Found = [[p.offset, p.length, p.sameClass]];
      if (inFlight.length === 0) return record(found);
      inFlight.push({ found: Promise.resolve(found), bytes: 0 });
    } else {
      const found = sameInFiles(a, b, p, fast, shortRead).then((same) => (same ? [[p.offset, p.length, p.sameClass]] satisfies Found : comparePiece(a, b, p, pool)));
      found.catch(() => {}); // awaited in order below; this only stops an early failure counting as unhandled
      inFlight.push({ found, bytes: p.length });
      bytes += p.length;
    }
    if (full()) return drain();
  };
  try {
    await walkPieces(a, b, chunk, shortRead, start);
    while (inFlight.length) await next();
  } finally {
    // A failed read leaves the others running: let them settle before the caller closes the images.
    await Promise.allSettled(inFlight.map((x) => x.found));
  }
  return verdict(a.size, b.size, options.strict ?? false, all, totals);
}

function verdict(sizeA: number, sizeB: number, strict: boolean, all: CompareRange[], totals: Record<CompareClass, number>): CompareResult {
  const ranges = all.filter((r) => r.class !== 'identical');
  const counted = strict ? ranges : ranges.filter((r) => r.class === 'differ');
  const sizeDiffers = strict && sizeA !== sizeB;
  const firstDifference = counted[0]?.offset ?? (sizeDiffers ? Math.min(sizeA, sizeB) : null);
  return { sizeA, sizeB, strict, identical: firstDifference === null, firstDifference, totals, ranges };
}

/** An open chain's top layer as one side of a comparison. */
export function layerSide(top: LayerContext): CompareSide {
  return { size: top.getSize(), top, extents: (count, offset) => top.extents(count, offset), pread: (buf, offset) => top.pread(buf, offset) };
}

/** Two chains as read-only connections see them now (a cow overlay's writes included). */
export async function compareChains(a: Chain, b: Chain, strict: boolean): Promise<CompareResult> {
  const opened = await Promise.allSettled([a.open({ readonly: true, exportName: '' }), b.open({ readonly: true, exportName: '' })]);
  try {
    const [ca, cb] = opened.map((o) => {
      if (o.status === 'rejected') throw o.reason;
      return o.value;
    });
    return await compareImages(layerSide(ca!.top), layerSide(cb!.top), { strict });
  } finally {
    await Promise.allSettled(opened.map((o) => (o.status === 'fulfilled' ? o.value.close() : undefined)));
  }
}
