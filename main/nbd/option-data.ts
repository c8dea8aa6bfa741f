// The data of the options that carry some (INFO/GO, LIST/SET_META_CONTEXT), parsed into
// what negotiate() acts on, and the meta context matching rules. A malformed option comes
// back as a sentence (the ERR_INVALID message), never as an exception: the session goes on.
import type { BlockSizes } from '../backend/types.ts';
import { ADVERTISED_BLOCK_SIZE, MAX_NAME_LENGTH, MAX_PAYLOAD } from './protocol.ts';

/**
 * NBD_INFO_BLOCK_SIZE for an open chain: its top layer's sizes, else the server's defaults.
 * The maximum never exceeds what the request parser accepts, and the preferred size stays
 * within it (the spec's rule), so a filter asking for more cannot make clients send too much.
 */
export function advertisedBlockSize(top: { blockSize(): BlockSizes | null }): BlockSizes {
  const sizes = top.blockSize() ?? ADVERTISED_BLOCK_SIZE;
  const maximum = Math.min(sizes.maximum, MAX_PAYLOAD);
  return { minimum: sizes.minimum, preferred: Math.min(sizes.preferred, maximum), maximum };
}

/** INFO/GO data: u32 name length, name, u16 count, count x u16 info requests. */
export function parseInfoOption(data: Buffer): { name: string; requests: number[] } | string {
  if (data.length < 6) return 'option data too short';
  const nameLength = data.readUInt32BE(0);
  if (nameLength > MAX_NAME_LENGTH || 4 + nameLength + 2 > data.length) return 'export name length does not fit the option';
  const name = data.toString('utf8', 4, 4 + nameLength);
  const count = data.readUInt16BE(4 + nameLength);
  if (data.length !== 4 + nameLength + 2 + 2 * count) return 'information request count does not match the option length';
  const requests: number[] = [];
  for (let i = 0; i < count; i++) requests.push(data.readUInt16BE(4 + nameLength + 2 + 2 * i));
  return { name, requests };
}

/** LIST/SET_META_CONTEXT data: u32 export name length, name, u32 count, count x (u32 len, query). */
export function parseMetaContextOption(data: Buffer): { exportName: string; queries: string[] } | string {
  if (data.length < 8) return 'option data too short';
  const nameLength = data.readUInt32BE(0);
  if (nameLength > MAX_NAME_LENGTH || 4 + nameLength + 4 > data.length) return 'export name length does not fit the option';
  const exportName = data.toString('utf8', 4, 4 + nameLength);
  let at = 4 + nameLength;
  const count = data.readUInt32BE(at);
  at += 4;
  const queries: string[] = [];
  for (let i = 0; i < count; i++) {
    if (at + 4 > data.length) return 'query count does not match the option length';
    const len = data.readUInt32BE(at);
    if (len > MAX_NAME_LENGTH || at + 4 + len > data.length) return 'query length does not fit the option';
    queries.push(data.toString('utf8', at + 4, at + 4 + len));
    at += 4 + len;
  }
  if (at !== data.length) return 'trailing bytes after the queries';
  return { exportName, queries };
}

/**
 * The contexts that answer `queries`. An empty list means "all" for LIST and "none" for SET;
 * "base:" (or any "namespace:") is a wildcard in LIST and ignored in SET; unknown names are
 * ignored, as the spec asks.
 */
export function matchContexts(queries: string[], listing: boolean, known: string[]): string[] {
  if (queries.length === 0) return listing ? known : [];
  const out = new Set<string>();
  for (const q of queries) {
    if (known.includes(q)) out.add(q);
    else if (listing && q.endsWith(':')) for (const k of known) if (k.startsWith(q)) out.add(k);
  }
  return [...out];
}
