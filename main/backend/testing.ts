// Helpers for tests of layers: read an open chain's whole map or bytes. (Opening a chain from
// a literal config needs the catalogue: main/testing/chains.ts.)
import { extentTriples, pushExtent, type Extent } from '../../shared/extents.ts';
import { extentsEnd } from './extents.ts';
import type { OpenChain } from './chain.ts';

/** The whole disk's extents as [offset, length, flags] triples, easy to write out literally. */
export async function mapOf(open: OpenChain): Promise<[number, number, number][]> {
  const size = open.top.getSize();
  const out: Extent[] = [];
  for (let pos = 0; pos < size;) {
    const list = await open.top.extents(size - pos, pos);
    for (const e of list) pushExtent(out, e.offset, e.length, e.flags);
    pos = extentsEnd(list, pos);
  }
  return extentTriples(out);
}

export async function readAll(open: OpenChain, offset = 0, length = open.top.getSize() - offset): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  if (length > 0) await open.top.pread(buf, offset);
  return buf;
}
