// The 28-byte transmission request header, encoded in one place for the client, the fuzzer
// and the tests that speak raw NBD (request-parser.ts decodes it).
import { REQUEST_MAGIC } from './protocol.ts';

export const REQUEST_HEADER_LENGTH = 28;

export interface RequestHeader {
  type: number;
  flags?: number;
  cookie: bigint | number;
  offset?: bigint | number;
  length?: number;
}

/** `magic` is only ever changed by tests that send a wrong one on purpose. */
export function encodeRequest(r: RequestHeader, magic = REQUEST_MAGIC): Buffer {
  const h = Buffer.allocUnsafe(REQUEST_HEADER_LENGTH);
  h.writeUInt32BE(magic >>> 0, 0);
  h.writeUInt16BE(r.flags ?? 0, 4);
  h.writeUInt16BE(r.type, 6);
  h.writeBigUInt64BE(BigInt(r.cookie), 8);
  h.writeBigUInt64BE(BigInt(r.offset ?? 0), 16);
  h.writeUInt32BE((r.length ?? 0) >>> 0, 24);
  return h;
}
