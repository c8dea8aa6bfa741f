// A large on-disk table of fixed-size entries (a VHD or VHDX BAT, a VDI block map) read in
// pages through the chain's bounded table cache: mapping a 2 TiB image touches each page
// once, and memory stays bounded however large the table claims to be.
import { BlockError } from '../backend/errors.ts';
import type { BoundedCache } from './cache.ts';
import type { ImageFile } from './image-file.ts';

const PAGE_BYTES = 64 * 1024;

export class PagedTable {
  private lastPageNo = -1;
  private lastPage: Buffer | null = null;

  /** The table must lie inside the file: checked here so a bad header fails at open. */
  constructor(
    private readonly file: ImageFile,
    private readonly offset: number,
    readonly entryCount: number,
    private readonly entryBytes: number,
    private readonly what: string,
    private readonly cache: BoundedCache<string, Buffer>,
  ) {
    const bytes = entryCount * entryBytes;
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(bytes) || offset + bytes > file.size) {
      throw new BlockError('EINVAL', `${file.path}: the ${what} (${entryCount} entries at offset ${offset}) lies beyond the end of the file (${file.size} bytes)`);
    }
  }

  /**
   * The page holding entry `index` and the entry's byte position inside it: synchronously
   * when the page is cached, so walking millions of entries does not await each one.
   */
  locate(index: number): [page: Buffer, at: number] | Promise<[page: Buffer, at: number]> {
    if (!(index >= 0 && index < this.entryCount)) {
      throw new BlockError('EIO', `${this.file.path}: ${this.what} entry ${index} is out of range (${this.entryCount} entries)`);
    }
    const byte = index * this.entryBytes;
    const pageNo = Math.floor(byte / PAGE_BYTES);
    // Walks touch one page thousands of times in a row: skip even the cache key for it.
    if (pageNo === this.lastPageNo && this.lastPage) return [this.lastPage, byte - pageNo * PAGE_BYTES];
    const key = `${this.file.path}#${this.what}@${this.offset}:${pageNo}`;
    const cached = this.cache.peek(key);
    if (cached) {
      this.lastPageNo = pageNo;
      this.lastPage = cached;
      return [cached, byte - pageNo * PAGE_BYTES];
    }
    return this.load(key, pageNo, byte);
  }

  /** Run `use` on entry `index`, without an await when its page is cached. */
  withEntry<T>(index: number, use: (page: Buffer, at: number) => T): T | Promise<Awaited<T>> {
    const located = this.locate(index);
    if (Array.isArray(located)) return use(located[0], located[1]);
    return located.then(([page, at]) => use(page, at)) as Promise<Awaited<T>>;
  }

  private async load(key: string, pageNo: number, byte: number): Promise<[page: Buffer, at: number]> {
    const page = await this.cache.get(key, () => {
      const start = pageNo * PAGE_BYTES;
      const length = Math.min(PAGE_BYTES, this.entryCount * this.entryBytes - start);
      return this.file.read(this.offset + start, length, this.what);
    });
    return [page, byte - pageNo * PAGE_BYTES];
  }
}
