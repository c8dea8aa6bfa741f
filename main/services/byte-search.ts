// "Find bytes" for the hex view: the first place at or after an offset where a pattern
// occurs in the image as the chain reads it (so filters apply). One call scans a bounded
// amount and says where it stopped, so the UI can show progress, continue or cancel. Runs of
// the disk that read as zero (per the chain's extents) are skipped without reading them
// whenever the pattern has a non-zero byte, which makes a search through a mostly empty
// terabyte image take as long as its data does.
import { EXTENT_ZERO, type Extent } from '../../shared/extents.ts';
import type { ByteSearchResult } from '../../shared/ipc.ts';
import type { Chain } from '../backend/chain.ts';

/** The parts of a chain layer a search reads through (LayerContext has them). */
export interface SearchSource {
  getSize(): number;
  pread(buf: Buffer, offset: number): Promise<void>;
  extents(count: number, offset: number): Promise<Extent[]>;
}

export interface SearchOptions {
  /** Bytes read per pread (each read also takes pattern.length - 1 bytes of overlap). */
  chunk?: number;
}

/** Big enough that Buffer.indexOf dominates, small enough to stay out of the way of NBD clients. */
export const SEARCH_CHUNK = 1024 * 1024;
/** How far one extents call looks ahead for a zero run to skip. */
const EXTENTS_LOOKAHEAD = 2 ** 30;

/**
 * The first offset >= `from` where `pattern` starts, reading at most about `limit` bytes.
 * Not found: `found` is null and `scannedTo` is where the next call should start (the size
 * of the disk once no start is left), so a match straddling two calls is still found.
 */
export async function searchBytes(
  src: SearchSource,
  pattern: Uint8Array,
  from: number,
  limit: number,
  options: SearchOptions = {},
): Promise<ByteSearchResult> {
  const size = src.getSize();
  const needle = Buffer.from(pattern.buffer, pattern.byteOffset, pattern.byteLength);
  const chunk = Math.max(1, options.chunk ?? SEARCH_CHUNK);
  // Starts past lastStart leave the pattern hanging off the end of the disk.
  const lastStart = size - needle.length;
  const skipZeros = needle.some((b) => b !== 0);
  let pos = from;
  let budget = limit;
  while (pos <= lastStart && budget > 0) {
    // Without zero skipping the whole rest of the disk counts as one data run.
    const run = skipZeros ? await runAt(src, pos, size) : { zero: false, end: size };
    if (run.zero) {
      // A match starting inside a zero run must reach past it to hold a non-zero byte.
      pos = Math.max(pos + 1, run.end - needle.length + 1);
      continue;
    }
    const starts = Math.min(chunk, budget, lastStart - pos + 1, run.end - pos);
    const buf = Buffer.alloc(starts + needle.length - 1);
    await src.pread(buf, pos);
    const at = buf.indexOf(needle);
    if (at >= 0 && at < starts) return { found: pos + at, scannedTo: pos + at };
    pos += starts;
    budget -= starts;
  }
  return { found: null, scannedTo: pos > lastStart ? size : pos };
}

/**
 * The run of extents starting at `pos` that all read as zero (zero: true) or all may hold
 * data, and where it ends: a data run is read, a zero run skipped.
 */
async function runAt(src: SearchSource, pos: number, size: number): Promise<{ zero: boolean; end: number }> {
  let zero: boolean | null = null;
  let end = pos;
  while (end < size) {
    const list = await src.extents(Math.min(size - end, EXTENTS_LOOKAHEAD), end);
    if (list.length === 0 || list[0]!.offset !== end) break;
    for (const e of list) {
      const isZero = (e.flags & EXTENT_ZERO) !== 0;
      zero ??= isZero;
      if (isZero !== zero || e.offset !== end) return { zero, end };
      end = e.offset + e.length;
    }
  }
  // No answer at all: read it, which is always correct.
  return zero === null ? { zero: false, end: size } : { zero, end };
}

/** A search on its own read-only connection to the image's current chain. */
export async function searchChain(chain: Chain, pattern: Uint8Array, from: number, limit: number): Promise<ByteSearchResult> {
  const connection = await chain.open({ readonly: true, exportName: '' });
  try {
    return await searchBytes(connection.top, pattern, from, limit);
  } finally {
    await connection.close();
  }
}
