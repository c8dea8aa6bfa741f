// What a client sends, encoded in one place for the client, the fuzzer and the tests that
// speak raw NBD: the 28-byte transmission request header (request-parser.ts decodes it)
// and a handshake option.
import { IHAVEOPT, REQUEST_MAGIC } from './protocol.ts';

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

/** One handshake option: IHAVEOPT, the option, its data's length, the data. */
export function encodeOption(option: number, data: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.allocUnsafe(16);
  h.writeBigUInt64BE(IHAVEOPT, 0);
  h.writeUInt32BE(option >>> 0, 8);
  h.writeUInt32BE(data.length, 12);
  return Buffer.concat([h, data]);
}
