// The block index of an .xz file (the .xz file format, tukaani.org/xz/xz-file-format.txt):
// read from the end, stream by stream (footer -> index -> blocks), it gives every block's
// compressed place and uncompressed span, so a read decompresses only the blocks it needs.
// Each block is decoded as a one-block stream of its own: the original stream header, the
// block as stored, and a one-record index and footer rebuilt here.
import { crc32 } from 'node:zlib';
import { BlockError } from '../../backend/errors.ts';

const HEADER_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const FOOTER_MAGIC = Buffer.from('YZ');
const HEADER_SIZE = 12;

export interface XzBlock {
  /** Where the block starts in the compressed file, and its size padded to 4 bytes. */
  compressedOffset: number;
  paddedSize: number;
  unpaddedSize: number;
  /** Its bytes' place in the uncompressed disk. */
  offset: number;
  length: number;
  /** The 12-byte header of the stream it belongs to (its flags name the check). */
  streamHeader: Buffer;
}

/** Reads `length` bytes at `offset` of the compressed file. */
export type ReadAt = (offset: number, length: number) => Promise<Buffer>;

function bad(what: string): never {
  throw new BlockError('EIO', `xz: not a valid .xz file: ${what}`);
}

const pad4 = (n: number) => Math.ceil(n / 4) * 4;

/** A multibyte integer: 7 bits a byte, low first, at most 9 bytes. */
function readVarint(buf: Buffer, at: { pos: number }): number {
  let value = 0;
  for (let i = 0; i < 9; i++) {
    const byte = buf[at.pos++];
    if (byte === undefined) bad('index ends inside a number');
    value += (byte & 0x7f) * 2 ** (7 * i);
    if (!(byte & 0x80)) return value;
  }
  return bad('number longer than 9 bytes');
}

function writeVarint(out: number[], value: number): void {
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

function u32le(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

/** One stream's blocks, given where its footer starts; returns them and where the stream starts. */
async function readStream(read: ReadAt, footerAt: number): Promise<{ blocks: Omit<XzBlock, 'offset' | 'streamHeader'>[]; start: number; header: Buffer }> {
  const footer = await read(footerAt, HEADER_SIZE);
  if (!footer.subarray(10).equals(FOOTER_MAGIC)) bad('no stream footer at the end');
  if (crc32(footer.subarray(4, 10)) !== footer.readUInt32LE(0)) bad('stream footer CRC mismatch');
  const indexSize = (footer.readUInt32LE(4) + 1) * 4;
  const indexAt = footerAt - indexSize;
  if (indexAt < HEADER_SIZE) bad('index larger than the file');
  const index = await read(indexAt, indexSize);
  if (index[0] !== 0 || crc32(index.subarray(0, indexSize - 4)) !== index.readUInt32LE(indexSize - 4)) bad('index indicator or CRC');
  const at = { pos: 1 };
  const count = readVarint(index, at);
  const blocks: Omit<XzBlock, 'offset' | 'streamHeader'>[] = [];
  let compressed = 0;
  for (let i = 0; i < count; i++) {
    const unpaddedSize = readVarint(index, at);
    const length = readVarint(index, at);
    blocks.push({ compressedOffset: compressed, paddedSize: pad4(unpaddedSize), unpaddedSize, length });
    compressed += pad4(unpaddedSize);
  }
  const start = indexAt - compressed - HEADER_SIZE;
  if (start < 0) bad('blocks larger than the file');
  const header = await read(start, HEADER_SIZE);
  if (!header.subarray(0, 6).equals(HEADER_MAGIC)) bad('no stream header where the index says');
  if (!header.subarray(6, 8).equals(footer.subarray(8, 10))) bad('stream header and footer flags differ');
  for (const b of blocks) b.compressedOffset += start + HEADER_SIZE;
  return { blocks, start, header };
}

/** Every block of every stream, in disk order, with uncompressed offsets. */
export async function readXzIndex(read: ReadAt, fileSize: number): Promise<XzBlock[]> {
  const streams: { blocks: Omit<XzBlock, 'offset' | 'streamHeader'>[]; header: Buffer }[] = [];
  let end = fileSize;
  while (end > 0) {
    // Stream padding: zero bytes, in fours, between and after streams.
    while (end >= 4 && (await read(end - 4, 4)).readUInt32LE(0) === 0) end -= 4;
    if (end < 2 * HEADER_SIZE) bad('too short for a stream');
    const stream = await readStream(read, end - HEADER_SIZE);
    streams.unshift(stream);
    end = stream.start;
  }
  const out: XzBlock[] = [];
  let offset = 0;
  for (const s of streams) {
    for (const b of s.blocks) {
      out.push({ ...b, offset, streamHeader: s.header });
      offset += b.length;
    }
  }
  return out;
}

const CHECK_SHA256 = 0x0a;
const SHA256_SIZE = 32;

/**
 * The one-block stream to hand the decoder, and a SHA-256 the caller must verify itself. The
 * decoder we use knows CRC32 and CRC64 but not SHA-256, so such a block is passed on with
 * its check cut off (the check sits last in the block, after the 4-byte padding) and under
 * a header that says "no check".
 */
export function decodableStream(block: XzBlock, stored: Buffer): { stream: Buffer; sha256: Buffer | null } {
  if ((block.streamHeader[7]! & 0x0f) !== CHECK_SHA256) return { stream: singleBlockStream(block, stored), sha256: null };
  const flags = Buffer.from([block.streamHeader[6]!, 0]);
  const header = Buffer.concat([HEADER_MAGIC, flags, u32le(crc32(flags))]);
  const bare = { ...block, unpaddedSize: block.unpaddedSize - SHA256_SIZE, streamHeader: header };
  return { stream: singleBlockStream(bare, stored.subarray(0, stored.length - SHA256_SIZE)), sha256: stored.subarray(stored.length - SHA256_SIZE) };
}

/** A complete one-block .xz stream holding `block` (its stored bytes, padding included). */
function singleBlockStream(block: XzBlock, stored: Buffer): Buffer {
  const record: number[] = [0];
  writeVarint(record, 1);
  writeVarint(record, block.unpaddedSize);
  writeVarint(record, block.length);
  while (record.length % 4) record.push(0);
  const index = Buffer.from(record);
  const indexWithCrc = Buffer.concat([index, u32le(crc32(index))]);
  const tail = Buffer.concat([u32le(indexWithCrc.length / 4 - 1), block.streamHeader.subarray(6, 8)]);
  const footer = Buffer.concat([u32le(crc32(tail)), tail, FOOTER_MAGIC]);
  return Buffer.concat([block.streamHeader, stored, indexWithCrc, footer]);
}
