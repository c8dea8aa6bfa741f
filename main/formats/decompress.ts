// Bounded decompression of one compressed cluster or grain. A hostile image can hold a
// "zip bomb" or garbage: output is capped at the cluster size and every failure becomes a
// BlockError naming the image, never a zlib exception or an unbounded buffer.
import zlib from 'node:zlib';
import { BlockError } from '../backend/errors.ts';

export type Compression = 'deflate-raw' | 'zlib' | 'zstd';

type ZstdDecompress = (buf: Buffer, options: { maxOutputLength: number }) => Buffer;

/** Node gained zstd in 22.15 / 23.8; on older runtimes zstd clusters cannot be read. */
function zstdDecompressor(): ZstdDecompress | undefined {
  return (zlib as unknown as { zstdDecompressSync?: ZstdDecompress }).zstdDecompressSync;
}

export function canDecompress(kind: Compression): boolean {
  return kind !== 'zstd' || zstdDecompressor() !== undefined;
}

/**
 * Decompress `input` into at most `maxLength` bytes; the result must hold at least
 * `minLength` bytes. `where` names the image and cluster for error messages.
 */
export function decompressBounded(kind: Compression, input: Buffer, minLength: number, maxLength: number, where: string): Buffer {
  let out: Buffer;
  try {
    const options = { maxOutputLength: maxLength, finishFlush: zlib.constants.Z_SYNC_FLUSH };
    if (kind === 'deflate-raw') out = zlib.inflateRawSync(input, options);
    else if (kind === 'zlib') out = zlib.inflateSync(input, options);
    else {
      const zstd = zstdDecompressor();
      if (!zstd) throw new BlockError('ENOTSUP', `${where}: unsupported compression type zstd (this Node.js runtime has no zstd decompressor; Node 22.15 or later has one)`);
      out = zstd(input, { maxOutputLength: maxLength });
    }
  } catch (err) {
    if (err instanceof BlockError) throw err;
    throw new BlockError('EIO', `${where}: compressed data is corrupt (${(err as Error).message})`);
  }
  if (out.length < minLength) {
    throw new BlockError('EIO', `${where}: compressed data expands to ${out.length} bytes, expected ${minLength}`);
  }
  return out;
}
