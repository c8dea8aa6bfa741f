// cow: copy-on-write (nbdkit-cow-filter). The layer below is opened read-only; writes,
// trims and zeroes land in a temporary overlay owned by the export, and reads take each
// block from the overlay if it holds it, else from below. Nothing ever reaches the image.
import { EXTENT_DATA, EXTENT_HOLE_ZERO, EXTENT_ZERO, type Extent } from '../../../shared/extents.ts';
import type { Chain } from '../../backend/chain.ts';
import { FLAG_MAY_TRIM, FLAG_REQ_ONE } from '../../backend/flags.ts';
import { defineFilter, type FilterHandle, type FilterInstance, type Next } from '../../backend/types.ts';
import { extentsEnd, extentsFull } from '../extents-full.ts';
import { requirePowerOfTwo } from '../power-of-two.ts';
import { CowBlocks } from './blocks.ts';
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

/** The cow overlay in `chain`, or null when the chain has no cow filter. */
export function cowOverlayOf(chain: Chain): CowOverlay | null {
  const cow = chain.filters.find((f) => f.name === cowFilter.name);
  return cow ? (cow.instance as CowInstance).overlay : null;
}

interface CopyUp {
  onRead: boolean;
  onCache: boolean;
}

function openCow(next: Next, overlay: CowOverlay, copyUp: CopyUp): FilterHandle {
  const bs = overlay.blockSize;
  const blocks = new CowBlocks(next, overlay);

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
    ...(copyUp.onCache ? { canCache: () => 'native' as const, cache: (count: number, offset: number) => blocks.copyUp(count, offset) } : {}),
    pread: (buf, offset) => readThrough(blocks, next, overlay, copyUp, buf, offset),

    async pwrite(buf, offset) {
      overlay.written = true;
      await blocks.eachPiece(buf.length, offset, async (first, stop) => {
        const from = first * bs;
        await overlay.write(buf.subarray(from - offset, Math.min(offset + buf.length, stop * bs) - offset), from);
        for (let block = first; block < stop; block++) overlay.map.set(block, DATA);
      }, async (block, from, to) => {
        const data = await blocks.load(block);
        buf.copy(data, from, block * bs + from - offset, block * bs + to - offset);
        await blocks.store(block, data);
      });
    },

    flush() {},
    trim: (count, offset) => blocks.zero(count, offset, TRIMMED),
    zero: (count, offset, flags) => blocks.zero(count, offset, flags & FLAG_MAY_TRIM ? TRIMMED : ZEROED),
    extents: (count, offset, flags) => cowExtents(blocks, next, count, offset, flags),
  };
}

/** Each block from the overlay if it holds it, zeroes if zeroed or trimmed, else from below. */
async function readThrough(blocks: CowBlocks, next: Next, overlay: CowOverlay, copyUp: CopyUp, buf: Buffer, offset: number): Promise<void> {
  for (const run of blocks.runsOf(buf.length, offset)) {
    const { from, length } = blocks.span(run, buf.length, offset);
    const piece = buf.subarray(from - offset, from - offset + length);
    if (run.state === DATA) await overlay.read(piece, from);
    else if (run.state !== BELOW) piece.fill(0);
    else if (copyUp.onRead) await blocks.copyUp(length, from, piece);
    else await next.pread(piece, from);
  }
}

async function cowExtents(blocks: CowBlocks, next: Next, count: number, offset: number, flags: number): Promise<Extent[]> {
  const out: Extent[] = [];
  for (const run of blocks.runsOf(count, offset)) {
    const { from, length } = blocks.span(run, count, offset);
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
}
