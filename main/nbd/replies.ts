// Encoders for everything the server sends: option replies during the handshake and simple
// or structured replies during transmission. Each returns one Buffer so that a reply goes
// out in one write (clients such as qemu stall ~40 ms per extra round trip with Nagle).
import {
  OPTION_REPLY_MAGIC, REPLY_FLAG_DONE, REPLY_TYPE, SIMPLE_REPLY_MAGIC, STRUCTURED_REPLY_MAGIC,
} from './protocol.ts';

export function optionReply(option: number, type: number, data: Buffer = Buffer.alloc(0)): Buffer {
  const b = Buffer.allocUnsafe(20 + data.length);
  b.writeBigUInt64BE(OPTION_REPLY_MAGIC, 0);
  b.writeUInt32BE(option, 8);
  b.writeUInt32BE(type, 12);
  b.writeUInt32BE(data.length, 16);
  data.copy(b, 20);
  return b;
}

export const SIMPLE_HEADER_LENGTH = 16;
export const CHUNK_HEADER_LENGTH = 20;

export function writeSimpleHeader(b: Buffer, at: number, cookie: bigint, error: number): void {
  b.writeUInt32BE(SIMPLE_REPLY_MAGIC, at);
  b.writeUInt32BE(error, at + 4);
  b.writeBigUInt64BE(cookie, at + 8);
}

export function simpleReply(cookie: bigint, error: number): Buffer {
  const b = Buffer.allocUnsafe(SIMPLE_HEADER_LENGTH);
  writeSimpleHeader(b, 0, cookie, error);
  return b;
}

export function writeChunkHeader(b: Buffer, at: number, cookie: bigint, type: number, done: boolean, length: number): void {
  b.writeUInt32BE(STRUCTURED_REPLY_MAGIC, at);
  b.writeUInt16BE(done ? REPLY_FLAG_DONE : 0, at + 4);
  b.writeUInt16BE(type, at + 6);
  b.writeBigUInt64BE(cookie, at + 8);
  b.writeUInt32BE(length, at + 16);
}

export const OFFSET_DATA_HEADER_LENGTH = CHUNK_HEADER_LENGTH + 8;

/** The header of an OFFSET_DATA chunk carrying `length` bytes, at the start of `b`. */
export function writeOffsetDataHeader(b: Buffer, cookie: bigint, offset: number, length: number, done: boolean): void {
  writeChunkHeader(b, 0, cookie, REPLY_TYPE.OFFSET_DATA, done, 8 + length);
  writeU64(b, CHUNK_HEADER_LENGTH, offset);
}

/** A buffer holding an OFFSET_DATA chunk header; the caller reads the data into `data`. */
export function offsetDataChunk(cookie: bigint, offset: number, length: number, done: boolean): { chunk: Buffer; data: Buffer } {
  const chunk = Buffer.allocUnsafe(OFFSET_DATA_HEADER_LENGTH + length);
  writeOffsetDataHeader(chunk, cookie, offset, length, done);
  return { chunk, data: chunk.subarray(OFFSET_DATA_HEADER_LENGTH) };
}

export function offsetHoleChunk(cookie: bigint, offset: number, length: number, done: boolean): Buffer {
  const b = Buffer.allocUnsafe(CHUNK_HEADER_LENGTH + 12);
  writeChunkHeader(b, 0, cookie, REPLY_TYPE.OFFSET_HOLE, done, 12);
  writeU64(b, CHUNK_HEADER_LENGTH, offset);
  b.writeUInt32BE(length, CHUNK_HEADER_LENGTH + 8);
  return b;
}

/** An ERROR chunk (always the last of its reply), with a message for the client's logs. */
export function errorChunk(cookie: bigint, error: number, message: string): Buffer {
  const msg = Buffer.from(message.slice(0, 1024), 'utf8').subarray(0, 4096);
  const b = Buffer.allocUnsafe(CHUNK_HEADER_LENGTH + 6 + msg.length);
  writeChunkHeader(b, 0, cookie, REPLY_TYPE.ERROR, true, 6 + msg.length);
  b.writeUInt32BE(error, CHUNK_HEADER_LENGTH);
  b.writeUInt16BE(msg.length, CHUNK_HEADER_LENGTH + 4);
  msg.copy(b, CHUNK_HEADER_LENGTH + 6);
  return b;
}

/** A BLOCK_STATUS chunk: context id then (length, flags) descriptors. */
export function blockStatusChunk(cookie: bigint, contextId: number, descriptors: readonly { length: number; flags: number }[], done: boolean): Buffer {
  const b = blockStatusFrame(cookie, contextId, 8 * descriptors.length, done);
  let at = CHUNK_HEADER_LENGTH + 4;
  for (const d of descriptors) {
    b.writeUInt32BE(d.length, at);
    b.writeUInt32BE(d.flags >>> 0, at + 4);
    at += 8;
  }
  return b;
}

/** A BLOCK_STATUS chunk from descriptors already in wire form (extent-descriptors.ts). */
export function blockStatusChunkOf(cookie: bigint, contextId: number, descriptors: Uint8Array, done: boolean): Buffer {
  const b = blockStatusFrame(cookie, contextId, descriptors.length, done);
  b.set(descriptors, CHUNK_HEADER_LENGTH + 4);
  return b;
}

/** A BLOCK_STATUS chunk's header and context id, with room for `descriptorBytes` after them. */
function blockStatusFrame(cookie: bigint, contextId: number, descriptorBytes: number, done: boolean): Buffer {
  const b = Buffer.allocUnsafe(CHUNK_HEADER_LENGTH + 4 + descriptorBytes);
  writeChunkHeader(b, 0, cookie, REPLY_TYPE.BLOCK_STATUS, done, 4 + descriptorBytes);
  b.writeUInt32BE(contextId, CHUNK_HEADER_LENGTH);
  return b;
}

export function writeU64(b: Buffer, at: number, value: number): void {
  b.writeUInt32BE(Math.floor(value / 2 ** 32), at);
  b.writeUInt32BE(value % 2 ** 32, at + 4);
}
