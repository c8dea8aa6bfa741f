// cow: copy-on-write (nbdkit-cow-filter). The layer below is opened read-only; writes,
// trims and zeroes land in a temporary overlay owned by the export, and reads take each
// block from the overlay if it holds it, else from below. Nothing ever reaches the image.
import { EXTENT_DATA, EXTENT_HOLE_ZERO, EXTENT_ZERO, type Extent } from '../../../shared/extents.ts';
import { FLAG_MAY_TRIM, FLAG_REQ_ONE } from '../../backend/flags.ts';
import { defineFilter, type FilterHandle, type FilterInstance, type Next } from '../../backend/types.ts';
import type { BlockRun } from '../block-map.ts';
import { extentsEnd, extentsFull } from '../extents-full.ts';
import { requirePowerOfTwo } from '../power-of-two.ts';
import { BELOW, CowOverlay, DATA, TRIMMED, ZEROED } from './overlay.ts';

const EXTENT_FLAGS_OF_STATE: Record<number, number> = { [DATA]: EXTENT_DATA, [ZEROED]: EXTENT_ZERO, [TRIMMED]: EXTENT_HOLE_ZERO };

export interface CowInstance extends FilterInstance {
  readonly overlay: CowOverlay;
}

export const cowFilter = defineFilter({
  name: 'cow',
  summary: 'copy-on-write: keep writes in a temporary overlay, never in the image',
  params: [
    { key: 'cow-block-size', kind: 'size', default: '64K', min: 4096, max: 32 * 2 ** 20, description: 'overlay block size (a power of 2, at least 4K)' },
    { key: 'cow-on-read', kind: 'bool', default: 'false', description: 'also copy blocks into the overlay when they are read' },
    { key: 'cow-on-cache', kind: 'bool', default: 'false', description: 'copy blocks into the overlay on cache (prefetch) requests' },
  ],
  create(params): CowInstance {
    const blockSize = params['cow-block-size'];
    requirePowerOfTwo('cow', 'cow-block-size', blockSize);
    const overlay = new CowOverlay(blockSize);
    const copyUp = { onRead: params['cow-on-read'], onCache: params['cow-on-cache'] };
    return {
      overlay,
      readonlyBelow: true,
      open: (next) => openCow(next, overlay, copyUp),
      hasUnsavedData: () => overlay.written,
      unload: () => overlay.close(),
    };
  },
});

function openCow(next: Next, overlay: CowOverlay, copyUp: { onRead: boolean; onCache: boolean }): FilterHandle {
  const bs = overlay.blockSize;
  const size = next.getSize();
  const blockLength = (block: number) => Math.min(bs, size - block * bs);

  /** The blocks a byte range touches, as runs of equal state. */
  const runsOf = (count: number, offset: number): BlockRun[] =>
    [...overlay.map.runs(Math.floor(offset / bs), Math.ceil((offset + count) / bs))];

  /** A run's bytes clipped to the request. */
  const span = (run: BlockRun, count: number, offset: number) => {
    const from = Math.max(offset, run.first * bs);
    return { from, length: Math.min(offset + count, run.end * bs) - from };
  };

  const isWhole = (block: number, offset: number, end: number) => block * bs >= offset && block * bs + blockLength(block) <= end;

  /**
   * Walk the blocks a request touches, under their locks: runs of blocks it covers
   * completely go to `whole(first, stop)` together (one overlay write for a long run);
   * each partly covered block goes to `partial(block, from, to)` with the request's piece
   * relative to the block.
   */
  async function eachPiece(
    count: number,
    offset: number,
    whole: (first: number, stop: number) => Promise<void>,
    partial: (block: number, from: number, to: number) => Promise<void>,
  ): Promise<void> {
    const end = offset + count;
    for (let block = Math.floor(offset / bs); block * bs < end; ) {
      const start = block * bs;
      if (isWhole(block, offset, end)) {
        let stop = block + 1;
        while (stop * bs < end && isWhole(stop, offset, end)) stop++;
        await overlay.locks.withRange(block, stop, () => whole(block, stop));
        block = stop;
      } else {
        const from = Math.max(offset, start) - start;
        const to = Math.min(end, start + blockLength(block)) - start;
        await overlay.locks.with(block, () => partial(block, from, to));
        block++;
      }
    }
  }

  /** A block's current contents wherever they live, zero-padded to a full block. */
  async function loadBlock(block: number): Promise<Buffer> {
    const buf = Buffer.alloc(bs);
    const piece = buf.subarray(0, blockLength(block));
    const state = overlay.map.get(block);
    if (state === DATA) await overlay.read(piece, block * bs);
    else if (state === BELOW) await next.pread(piece, block * bs);
    return buf;
  }

  async function storeBlock(block: number, buf: Buffer): Promise<void> {
    await overlay.write(buf.subarray(0, blockLength(block)), block * bs);
    overlay.map.set(block, DATA);
  }

  /**
   * Copy-up (cow-on-read, cow-on-cache): blocks still below move into the overlay; if
   * `buf` is given, the requested bytes are served from the copies.
   */
  async function copyUpRange(count: number, offset: number, buf?: Buffer): Promise<void> {
    const copyUp = async (block: number, from: number, to: number) => {
      const wasBelow = overlay.map.get(block) === BELOW;
      if (!wasBelow && !buf) return;
      const data = await loadBlock(block);
      if (wasBelow) await storeBlock(block, data);
      if (buf) data.copy(buf, block * bs + from - offset, from, to);
    };
    await eachPiece(count, offset, async (first, stop) => {
      for (let block = first; block < stop; block++) await copyUp(block, 0, blockLength(block));
    }, copyUp);
  }

  /** Zero a range: whole blocks just change state; partial blocks are rewritten. */
  async function zeroRange(count: number, offset: number, wholeState: number): Promise<void> {
    overlay.written = true;
    await eachPiece(count, offset, async (first, stop) => {
      for (let block = first; block < stop; block++) overlay.map.set(block, wholeState);
    }, async (block, from, to) => {
      const state = overlay.map.get(block);
      if (state !== BELOW && state !== DATA) return;
      const data = await loadBlock(block);
      data.fill(0, from, to);
      await storeBlock(block, data);
    });
  }

  return {
    canWrite: () => true,
    canFlush: () => true,
    canTrim: () => true,
    canZero: () => true,
    canFastZero: () => true,
    // Nothing needs to reach stable storage: the overlay is thrown away on unload.
    canFua: () => 'native',
    // Every connection shares one overlay, so they all see each other's writes at once.
    canMultiConn: () => true,
    canExtents: () => true,
    ...(copyUp.onCache ? { canCache: () => 'native' as const, cache: (count: number, offset: number) => copyUpRange(count, offset) } : {}),

    async pread(buf, offset) {
      for (const run of runsOf(buf.length, offset)) {
        const { from, length } = span(run, buf.length, offset);
        const piece = buf.subarray(from - offset, from - offset + length);
        if (run.state === DATA) await overlay.read(piece, from);
        else if (run.state !== BELOW) piece.fill(0);
        else if (copyUp.onRead) await copyUpRange(length, from, piece);
        else await next.pread(piece, from);
      }
    },

    async pwrite(buf, offset) {
      overlay.written = true;
      await eachPiece(buf.length, offset, async (first, stop) => {
        const from = first * bs;
        await overlay.write(buf.subarray(from - offset, Math.min(offset + buf.length, stop * bs) - offset), from);
        for (let block = first; block < stop; block++) overlay.map.set(block, DATA);
      }, async (block, from, to) => {
        const data = await loadBlock(block);
        buf.copy(data, from, block * bs + from - offset, block * bs + to - offset);
        await storeBlock(block, data);
      });
    },

    flush() {},
    trim: (count, offset) => zeroRange(count, offset, TRIMMED),
    zero: (count, offset, flags) => zeroRange(count, offset, flags & FLAG_MAY_TRIM ? TRIMMED : ZEROED),

    async extents(count, offset, flags) {
      const out: Extent[] = [];
      for (const run of runsOf(count, offset)) {
        const { from, length } = span(run, count, offset);
        if (run.state === BELOW) {
          const below = await extentsFull(next, length, from, flags);
          for (const e of below) out.push(e);
          if (extentsEnd(below, from) < from + length) break;
        } else {
          out.push({ offset: from, length, flags: EXTENT_FLAGS_OF_STATE[run.state]! });
        }
        if (flags & FLAG_REQ_ONE) break;
      }
      return out;
    },
  };
}
