// Bounded decompression of one compressed cluster or grain. A hostile image can hold a
// "zip bomb" or garbage: output is capped at the cluster size and every failure becomes a
// BlockError in the format's own terms (which image, which cluster, which limit), never a
// zlib exception, Node's buffer-size text or an unbounded buffer.
import zlib from 'node:zlib';
import { BlockError } from '../backend/errors.ts';

export type Compression = 'deflate-raw' | 'zlib' | 'zstd';

/** Where a compressed piece lives, for error messages. */
export interface CompressedPiece {
  image: string;
  /** What the format calls the piece: a qcow2 'cluster', a VMDK 'grain'. */
  unit: string;
  guestOffset: number;
  hostOffset: number;
}

type ZstdDecompress = (buf: Buffer, options: { maxOutputLength: number }) => Buffer;

const STREAM_NAMES: Record<Compression, string> = { 'deflate-raw': 'deflate', zlib: 'zlib', zstd: 'zstd' };

/** Node gained zstd in 22.15 / 23.8; on older runtimes zstd clusters cannot be read. */
function zstdDecompressor(): ZstdDecompress | undefined {
  return (zlib as unknown as { zstdDecompressSync?: ZstdDecompress }).zstdDecompressSync;
}

export function canDecompress(kind: Compression): boolean {
  return kind !== 'zstd' || zstdDecompressor() !== undefined;
}

export function describePiece(piece: CompressedPiece): string {
  return `${piece.image}: compressed ${piece.unit} at guest offset ${piece.guestOffset} (host offset ${piece.hostOffset})`;
}

function inflate(kind: Compression, input: Buffer, maxLength: number, piece: CompressedPiece): Buffer {
  const options = { maxOutputLength: maxLength, finishFlush: zlib.constants.Z_SYNC_FLUSH };
  if (kind === 'deflate-raw') return zlib.inflateRawSync(input, options);
  if (kind === 'zlib') return zlib.inflateSync(input, options);
  const zstd = zstdDecompressor();
  if (!zstd) throw new BlockError('ENOTSUP', `${describePiece(piece)}: unsupported compression type zstd (this Node.js runtime has no zstd decompressor; Node 22.15 or later has one)`);
  return zstd(input, { maxOutputLength: maxLength });
}

/** Node's failure turned into what it means for the image. */
function corruptionError(kind: Compression, err: unknown, maxLength: number, piece: CompressedPiece): BlockError {
  const at = describePiece(piece);
  const code = (err as { code?: unknown }).code;
  // maxOutputLength hit: the stream holds more than one piece can (Node: ERR_BUFFER_TOO_LARGE).
  if (code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
    return new BlockError('EIO', `${at} inflates to more than ${maxLength} bytes, the ${piece.unit} size: the image is corrupt`);
  }
  if (typeof code === 'string' && /^(Z_|ZSTD_)/.test(code)) {
    return new BlockError('EIO', `${at} is not valid ${STREAM_NAMES[kind]} data: the image is corrupt`);
  }
  return new BlockError('EIO', `${at} cannot be decompressed (${(err as Error).message}): the image may be corrupt`);
}

/**
 * Decompress `input` into at most `maxLength` bytes; the result must hold at least
 * `minLength` bytes.
 */
export function decompressBounded(kind: Compression, input: Buffer, minLength: number, maxLength: number, piece: CompressedPiece): Buffer {
  let out: Buffer;
  try {
    out = inflate(kind, input, maxLength, piece);
  } catch (err) {
    if (err instanceof BlockError) throw err;
    throw corruptionError(kind, err, maxLength, piece);
  }
  if (out.length < minLength) {
    throw new BlockError('EIO', `${describePiece(piece)} inflates to only ${out.length} bytes of the ${minLength} it must hold: the image is corrupt`);
  }
  return out;
}
