// Does the layer below already hold these bytes? The checkwrite filter asks it of every
// write, the protect filter of writes into protected ranges. Zero checks (trim, zero) read
// in bounded pieces, since a zero request may cover gigabytes.
import { EXTENT_ZERO } from '../../../shared/extents.ts';
import { EMULATION_CHUNK } from '../../backend/context.ts';
import type { Next } from '../../backend/types.ts';
import { extentsEnd } from '../extents-full.ts';

/** True iff [offset, offset+expected.length) below equals `expected`. */
export async function holds(next: Next, offset: number, expected: Buffer): Promise<boolean> {
  for (let done = 0; done < expected.length; done += EMULATION_CHUNK) {
    const want = expected.subarray(done, done + EMULATION_CHUNK);
    const got = Buffer.allocUnsafe(want.length);
    await next.pread(got, offset + done);
    if (!got.equals(want)) return false;
  }
  return true;
}

/** True iff [offset, offset+count) below reads as zero; ranges the extents call zero are not read. */
export async function readsAsZero(next: Next, offset: number, count: number): Promise<boolean> {
  const end = offset + count;
  for (let pos = offset; pos < end;) {
    const list = next.canExtents() ? await next.extents(end - pos, pos) : [];
    const first = list[0];
    const stop = first ? extentsEnd(list.slice(0, 1), pos) : Math.min(end, pos + EMULATION_CHUNK);
    if (!first || (first.flags & EXTENT_ZERO) === 0) {
      for (let at = pos; at < stop; at += EMULATION_CHUNK) {
        const piece = Buffer.allocUnsafe(Math.min(EMULATION_CHUNK, stop - at));
        await next.pread(piece, at);
        if (piece.some((b) => b !== 0)) return false;
      }
    }
    pos = stop;
  }
  return true;
}
