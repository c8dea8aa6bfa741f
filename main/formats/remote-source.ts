// An image at an http(s):// URL as a ByteSource. Format readers ask for many small pieces
// (headers, grain tables, BAT entries, bitmaps) near each other: small reads are served from
// aligned blocks kept in a bounded cache, so mapping a remote image fetches each block of its
// metadata once. Large reads (guest data, whole tables the format caches itself) go straight
// to the server, in parallel ranges, and do not push metadata out of the cache. Neither uses
// the client's read-ahead windows: a format reads its tables in order, and 4 MiB windows
// around them would fetch far more of a sparse image than its map needs.
import { HttpResource } from '../plugins/http/client.ts';
import { BoundedCache } from './cache.ts';
import type { ByteSource } from './image-file.ts';

/** The unit of the metadata cache: one request fetches this much around a small read. */
export const REMOTE_BLOCK = 64 * 1024;
const REMOTE_CACHE_BUDGET = 16 * 1024 * 1024;

export class RemoteSource implements ByteSource {
  private readonly blocks = new BoundedCache<number, Buffer>(REMOTE_CACHE_BUDGET);

  private constructor(private readonly resource: HttpResource) {}

  static async open(url: string): Promise<RemoteSource> {
    return new RemoteSource(await HttpResource.open(url));
  }

  get size(): number {
    return this.resource.size;
  }

  async readAt(buf: Buffer, offset: number): Promise<number> {
    const length = Math.max(0, Math.min(buf.length, this.size - offset));
    if (length >= REMOTE_BLOCK) {
      await this.resource.readExact(buf.subarray(0, length), offset);
      return length;
    }
    let pos = offset;
    while (pos < offset + length) {
      const index = Math.floor(pos / REMOTE_BLOCK);
      const block = await this.blocks.get(index, () => this.fetchBlock(index));
      const from = pos - index * REMOTE_BLOCK;
      pos += block.copy(buf, pos - offset, from, Math.min(block.length, from + offset + length - pos));
    }
    return length;
  }

  async close(): Promise<void> {
    this.blocks.clear();
    this.resource.close();
  }

  private async fetchBlock(index: number): Promise<Buffer> {
    const start = index * REMOTE_BLOCK;
    const block = Buffer.allocUnsafe(Math.min(REMOTE_BLOCK, this.size - start));
    await this.resource.readExact(block, start);
    return block;
  }
}
