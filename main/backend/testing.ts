// Helpers for tests of layers: read an open chain's whole map or bytes. (Opening a chain from
// a literal config needs the catalogue: main/testing/chains.ts.)
import type { Extent } from '../../shared/extents.ts';
import type { OpenChain } from './chain.ts';

/** The whole disk's extents as [offset, length, flags] triples, easy to write out literally. */
export async function mapOf(open: OpenChain): Promise<[number, number, number][]> {
  const size = open.top.getSize();
  const out: [number, number, number][] = [];
  let pos = 0;
  while (pos < size) {
    const list: Extent[] = await open.top.extents(size - pos, pos);
    for (const e of list) {
      const last = out[out.length - 1];
      if (last && last[2] === e.flags && last[0] + last[1] === e.offset) last[1] += e.length;
      else out.push([e.offset, e.length, e.flags]);
    }
    pos = list[list.length - 1]!.offset + list[list.length - 1]!.length;
  }
  return out;
}

export async function readAll(open: OpenChain, offset = 0, length = open.top.getSize() - offset): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  if (length > 0) await open.top.pread(buf, offset);
  return buf;
}
