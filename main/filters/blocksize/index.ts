// blocksize: meet a plugin's alignment and size limits whatever the client sends
// (nbdkit-blocksize-filter): partial blocks become read-modify-write cycles (ignored for
// trim), large requests are split, and the size is rounded down to whole blocks.
import { BlockError } from '../../backend/errors.ts';
import { extentsEnd } from '../../backend/extents.ts';
import { FLAG_FAST_ZERO, FLAG_FUA } from '../../backend/flags.ts';
import { defineFilter, type FilterHandle, type Next } from '../../backend/types.ts';
import { requirePowerOfTwo } from '../power-of-two.ts';
import { pieces, withOneFlush, type Piece } from './pieces.ts';
import { RwLock } from './rw-lock.ts';

/** nbdkit's own ceiling on a read or write. */
const NBDKIT_MAX_DATA = 64 * 2 ** 20;
const U32_MAX = 0xffffffff;

interface Limits {
  minblock: number;
  maxdata: number;
  maxlen: number;
}

export const blocksizeFilter = defineFilter({
  name: 'blocksize',
  summary: 'split, align and read-modify-write requests to meet block size limits',
  params: [
    { key: 'minblock', kind: 'size', min: 1, max: 65536, description: 'alignment and smallest request passed down (a power of 2 up to 64K; default: the minimum advertised below, or 1)' },
    { key: 'maxdata', kind: 'size', min: 1, description: 'largest read or write passed down, a multiple of minblock (default: 64M, or less if the layer below says so)' },
    { key: 'maxlen', kind: 'size', min: 1, description: 'largest trim, zero, cache or extents request passed down, a multiple of minblock (default: 4G - minblock)' },
  ],
  create(params) {
    requirePowerOfTwo('blocksize', 'minblock', params.minblock);
    const block = params.minblock;
    for (const key of ['maxdata', 'maxlen'] as const) {
      const value = params[key];
      if (block !== undefined && value !== undefined && value % block !== 0) {
        throw new Error(`blocksize: ${key}: ${value} is not a multiple of minblock (${block})`);
      }
    }
    // One lock for every connection: they all write the same blocks below.
    const lock = new RwLock();
    return {
      open(next) {
        const below = next.blockSize();
        const minblock = block ?? below?.minimum ?? 1;
        const down = (n: number) => n - (n % minblock);
        const limits: Limits = {
          minblock,
          maxdata: down(Math.min(params.maxdata ?? NBDKIT_MAX_DATA, below?.maximum ?? NBDKIT_MAX_DATA)) || minblock,
          maxlen: params.maxlen ?? U32_MAX + 1 - minblock,
        };
        return blocksizeHandle(next, limits, lock);
      },
    };
  },
});

function blocksizeHandle(next: Next, limits: Limits, lock: RwLock): FilterHandle {
  const down = (n: number) => n - (n % limits.minblock);
  return {
    getSize: () => down(next.getSize()),
    // Any request is fine from above: the filter makes it fit below.
    blockSize: () => ({ minimum: 1, preferred: Math.max(next.blockSize()?.preferred ?? 0, 4096, limits.minblock), maximum: U32_MAX }),
    ...readSide(next, limits),
    ...writeSide(next, limits, lock),
  };
}

/** Reads, cache and extents: whole blocks below, the asked-for bytes above. */
function readSide(next: Next, { minblock, maxdata, maxlen }: Limits): Pick<FilterHandle, 'pread' | 'cache' | 'extents'> {
  return {
    async pread(buf, offset, flags) {
      for (const p of pieces(offset, buf.length, minblock, maxdata)) {
        const part = buf.subarray(p.offset - offset, p.offset - offset + p.length);
        if (p.block === null) {
          await next.pread(part, p.offset, flags);
        } else {
          const whole = Buffer.allocUnsafe(minblock);
          await next.pread(whole, p.block, flags);
          whole.copy(part, 0, p.offset - p.block);
        }
      }
    },
    async cache(count, offset, flags) {
      const from = offset - (offset % minblock);
      const to = Math.ceil((offset + count) / minblock) * minblock;
      for (let pos = from; pos < to; pos += maxdata) await next.cache(Math.min(maxdata, to - pos), pos, flags);
    },
    // Whole blocks are asked for; the backend clips the answer back to the request.
    async extents(count, offset, flags) {
      let from = offset - (offset % minblock);
      const to = Math.ceil((offset + count) / minblock) * minblock;
      // The answer for the widened range may stop short before `offset` (REQ_ONE or a reply
      // cap below): ask on from where it stopped, as nbdkit_extents_full does, until it covers
      // something of what was asked.
      for (;;) {
        const list = await next.extents(Math.min(to - from, maxlen), from, flags);
        const end = extentsEnd(list, from);
        if (end > offset || end === from) return list;
        from = end;
      }
    },
  };
}

/** Writes, trims and zeroes: whole blocks go down as they are, partial ones by read-modify-write. */
function writeSide(next: Next, { minblock, maxdata, maxlen }: Limits, lock: RwLock): Pick<FilterHandle, 'pwrite' | 'trim' | 'zero'> {
  /** Read a partial piece's block, let `change` edit it, write it back: alone, so no write is lost. */
  const modify = (p: Piece, flags: number, change: (block: Buffer, at: number) => void) => lock.exclusive(async () => {
    const whole = Buffer.allocUnsafe(minblock);
    await next.pread(whole, p.block!, 0);
    change(whole, p.offset - p.block!);
    await next.pwrite(whole, p.block!, flags & FLAG_FUA);
  });
  return {
    pwrite: (buf, offset, flags) => withOneFlush(next, flags, async (f) => {
      for (const p of pieces(offset, buf.length, minblock, maxdata)) {
        const part = buf.subarray(p.offset - offset, p.offset - offset + p.length);
        if (p.block === null) await lock.shared(() => next.pwrite(part, p.offset, f));
        else await modify(p, f, (whole, at) => part.copy(whole, at));
      }
    }),
    trim: (count, offset, flags) => withOneFlush(next, flags, async (f) => {
      // Partial blocks are left alone: trim is only advice.
      for (const p of pieces(offset, count, minblock, maxlen)) {
        if (p.block === null) await lock.shared(() => next.trim(p.length, p.offset, f));
      }
    }),
    async zero(count, offset, flags) {
      // Several calls below, or a read-modify-write, cannot be fast.
      if (flags & FLAG_FAST_ZERO && (offset % minblock !== 0 || count % minblock !== 0 || count > maxlen)) {
        throw new BlockError('ENOTSUP', 'blocksize: an unaligned or split zero is not fast');
      }
      await withOneFlush(next, flags, async (f) => {
        for (const p of pieces(offset, count, minblock, maxlen)) {
          if (p.block === null) await lock.shared(() => next.zero(p.length, p.offset, f));
          else await modify(p, f, (whole, at) => whole.fill(0, at, at + p.length));
        }
      });
    },
  };
}
