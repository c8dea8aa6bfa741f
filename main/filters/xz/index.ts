// xz: serve the uncompressed contents of an .xz-compressed layer (nbdkit-xz-filter). The
// block index is read once; a read decompresses only the blocks it touches (by the block's
// own place in the file, never from the start) and keeps the last few in an LRU cache, so
// files made with `xz --block-size=16M` seek cheaply. Read-only; the map is all data.
import { createHash } from 'node:crypto';
import { lowerBound } from '../../../shared/sorted.ts';
import { BlockError, messageOf } from '../../backend/errors.ts';
import { defineFilter, type Next } from '../../backend/types.ts';
import { decodableStream, readXzIndex, type XzBlock } from './xz-index.ts';

/**
 * The xz decoder (a native, prebuilt npm package), loaded on first use by a specifier the
 * bundler does not follow: a .node binary cannot be bundled, and a machine without it still
 * runs everything but this filter.
 */
const DECODER_PACKAGE = '@napi-rs/lzma';
type XzDecoder = { decompress(input: Uint8Array): Promise<Buffer> };
let decoder: Promise<XzDecoder> | null = null;
function xzDecoder(): Promise<XzDecoder> {
  decoder ??= (import(DECODER_PACKAGE) as Promise<{ xz: XzDecoder }>).then((m) => m.xz, (err: unknown) => {
    decoder = null;
    throw new BlockError('ENOTSUP', `xz: the decoder package ${DECODER_PACKAGE} is not installed: ${messageOf(err)}`);
  });
  return decoder;
}

interface XzImage {
  blocks: XzBlock[];
  /** blocks[i].offset, for binary search. */
  starts: number[];
  size: number;
}

async function loadIndex(next: Next, maxBlock: number): Promise<XzImage> {
  const read = async (offset: number, length: number) => {
    const buf = Buffer.alloc(length);
    await next.pread(buf, offset);
    return buf;
  };
  const blocks = await readXzIndex(read, next.getSize());
  const big = blocks.find((b) => b.length > maxBlock);
  if (big) {
    throw new BlockError('EINVAL', `xz: a block of ${big.length} bytes is larger than xz-max-block=${maxBlock}; recompress with xz --block-size=16M or raise xz-max-block`);
  }
  const last = blocks[blocks.length - 1];
  return { blocks, starts: blocks.map((b) => b.offset), size: last ? last.offset + last.length : 0 };
}

/** Decompressed blocks, the most recently used last (Map keeps insertion order). */
class BlockCache {
  private readonly entries = new Map<number, Promise<Buffer>>();
  constructor(private readonly depth: number) {}

  get(index: number, load: () => Promise<Buffer>): Promise<Buffer> {
    let entry = this.entries.get(index);
    if (entry) {
      this.entries.delete(index);
    } else {
      entry = load();
      // A failed decode is not kept: the next read tries again.
      entry.catch(() => this.entries.delete(index));
    }
    this.entries.set(index, entry);
    while (this.entries.size > this.depth) this.entries.delete(this.entries.keys().next().value!);
    return entry;
  }
}

async function decodeBlock(next: Next, block: XzBlock): Promise<Buffer> {
  const stored = Buffer.alloc(block.paddedSize);
  await next.pread(stored, block.compressedOffset);
  const { stream, sha256 } = decodableStream(block, stored);
  let data: Buffer;
  try {
    data = await (await xzDecoder()).decompress(stream);
  } catch (err) {
    throw new BlockError('EIO', `xz: block at ${block.compressedOffset} does not decompress: ${messageOf(err)}`);
  }
  if (data.length !== block.length) throw new BlockError('EIO', `xz: block at ${block.compressedOffset} gave ${data.length} bytes, the index says ${block.length}`);
  if (sha256 && !createHash('sha256').update(data).digest().equals(sha256)) throw new BlockError('EIO', `xz: block at ${block.compressedOffset} fails its SHA-256 check`);
  return data;
}

export const xzFilter = defineFilter({
  name: 'xz',
  summary: 'serve the uncompressed contents of an .xz image, seeking by block (read-only)',
  params: [
    { key: 'xz-max-block', kind: 'size', default: '512M', min: 1, description: 'refuse files with a block larger than this (uncompressed)' },
    { key: 'xz-max-depth', kind: 'int', default: '8', min: 1, description: 'decompressed blocks kept in the cache' },
  ],
  create(params) {
    const maxBlock = params['xz-max-block'];
    const cache = new BlockCache(params['xz-max-depth']);
    let image: Promise<XzImage> | null = null;
    return {
      readonlyBelow: true,
      async open(next) {
        image ??= loadIndex(next, maxBlock).catch((err: unknown) => {
          image = null;
          throw err;
        });
        const { blocks, starts, size } = await image;
        return {
          getSize: () => size,
          canWrite: () => false,
          canExtents: () => false,
          canCache: () => 'emulate',
          async pread(buf, offset) {
            // The block holding `offset`: the last one starting at or before it.
            let i = lowerBound(starts, offset + 1) - 1;
            for (let done = 0; done < buf.length; i++) {
              const block = blocks[i]!;
              const data = await cache.get(i, () => decodeBlock(next, block));
              const from = offset + done - block.offset;
              done += data.copy(buf, done, from, Math.min(block.length, from + buf.length - done));
            }
          },
        };
      },
    };
  },
});
