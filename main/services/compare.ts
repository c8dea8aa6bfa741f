// Compare two images to the end, the way `qemu-img compare` compares them up to the first
// difference. The maps decide what is read: a range both sides report as reading zero is
// never read, a range one side reports as zero is read on the other side only and checked
// against zeroes, and the rest is read from both in large reads, a few in flight. Past the
// end of the smaller image everything reads as zero and nothing is allocated, so the tail of
// the larger one is compared against zeroes, as qemu-img does.
import { EXTENT_HOLE, EXTENT_ZERO, pushRun, type Extent } from '../../shared/extents.ts';
import type { CompareClass, CompareRange, CompareResult } from '../../shared/ipc.ts';
import type { Chain } from '../backend/chain.ts';
import type { LayerContext } from '../backend/context.ts';
import { differingRuns } from './compare-bytes.ts';

/** What compare needs of an image: an open chain's top layer, an NBD client, a CLI target. */
export interface CompareSide {
  size: number;
  extents(count: number, offset: number): Promise<Extent[]>;
  pread(buf: Buffer, offset: number): Promise<void>;
}

export interface CompareOptions {
  /** Allocation and size differences make the images different (qemu-img compare -s). */
  strict?: boolean;
  /** Bytes per read (default 2 MiB, as qemu-img: both sides of a read still sit in the CPU cache when compared). */
  chunk?: number;
  /** Full-size reads in flight per side (default 2); small pieces of a fragmented map share that budget, up to 16 reads. */
  parallel?: number;
}

const MiB = 1024 * 1024;
/** How far ahead one block-status question reaches: well inside NBD's 32-bit lengths. */
const MAP_WINDOW = 1024 * MiB;
const PAST_END = EXTENT_HOLE | EXTENT_ZERO;
/** Reads in flight at most, however small the pieces of a fragmented map are. */
const MAX_PIECES = 16;

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

  /** The run holding `pos` (never called with a smaller `pos` than before). */
  async at(pos: number): Promise<Run> {
    const size = this.side.size;
    if (pos >= size) return { flags: PAST_END, end: Infinity };
    for (;;) {
      const e = this.list[this.index];
      if (e && pos < e.offset + e.length) return { flags: e.flags, end: Math.min(e.offset + e.length, size) };
      if (e) {
        this.index++;
        continue;
      }
      const from = this.fetchedTo;
      const list = await this.side.extents(Math.min(size - from, MAP_WINDOW), from);
      const last = list[list.length - 1];
      if (!last || last.offset + last.length <= from) throw new Error(`no extents returned at offset ${from}`);
      this.list = list;
      this.index = 0;
      this.fetchedTo = Math.min(last.offset + last.length, size);
    }
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

async function* pieces(a: CompareSide, b: CompareSide, chunk: number): AsyncGenerator<Piece> {
  const cursors = [new MapCursor(a), new MapCursor(b)] as const;
  const end = Math.max(a.size, b.size);
  for (let pos = 0; pos < end; ) {
    const [ra, rb] = await Promise.all(cursors.map((c) => c.at(pos)));
    const stop = Math.min(ra!.end, rb!.end, end);
    const readA = (ra!.flags & EXTENT_ZERO) === 0;
    const readB = (rb!.flags & EXTENT_ZERO) === 0;
    const sameClass = sameBytesClass(ra!.flags, rb!.flags);
    const step = readA || readB ? chunk : stop - pos;
    for (let o = pos; o < stop; o += step) yield { offset: o, length: Math.min(step, stop - o), readA, readB, sameClass };
    pos = stop;
  }
}

type Found = [offset: number, length: number, cls: CompareClass][];

/** Reads buffers of `chunk` bytes, reused: fresh large buffers cost a page fault per page. */
class BufferPool {
  private readonly free: Buffer[] = [];
  private readonly chunk: number;
  readonly zeroes: Buffer;

  constructor(chunk: number) {
    this.chunk = chunk;
    this.zeroes = Buffer.alloc(chunk);
  }

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafe(this.chunk);
  }

  give(buf: Buffer): void {
    this.free.push(buf);
  }
}

async function comparePiece(a: CompareSide, b: CompareSide, p: Piece, pool: BufferPool): Promise<Found> {
  if (!p.readA && !p.readB) return [[p.offset, p.length, p.sameClass]];
  const held: Buffer[] = [];
  const side = async (s: CompareSide, read: boolean): Promise<Buffer> => {
    if (!read) return pool.zeroes.subarray(0, p.length);
    const buf = pool.take();
    held.push(buf);
    await s.pread(buf.subarray(0, p.length), p.offset);
    return buf.subarray(0, p.length);
  };
  try {
    const [bufA, bufB] = await Promise.all([side(a, p.readA), side(b, p.readB)]);
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
    for (const buf of held) pool.give(buf);
  }
}

const sameClass = (x: CompareRange, y: CompareRange): boolean => x.class === y.class;

/** Compare `a` and `b` over [0, max(size)): every range classified, totals and the verdict. */
export async function compareImages(a: CompareSide, b: CompareSide, options: CompareOptions = {}): Promise<CompareResult> {
  const chunk = options.chunk ?? 2 * MiB;
  const budget = chunk * Math.max(1, options.parallel ?? 2);
  const pool = new BufferPool(chunk);
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
  try {
    for await (const p of pieces(a, b, chunk)) {
      const found = comparePiece(a, b, p, pool);
      found.catch(() => {}); // awaited in order below; this only stops an early failure counting as unhandled
      const read = p.readA || p.readB ? p.length : 0;
      inFlight.push({ found, bytes: read });
      bytes += read;
      while (inFlight.length >= MAX_PIECES || bytes >= budget) await next();
    }
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
  return { size: top.getSize(), extents: (count, offset) => top.extents(count, offset), pread: (buf, offset) => top.pread(buf, offset) };
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
