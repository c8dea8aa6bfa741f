// Read-only access to an image for the format readers: exact positional reads that fail with
// a message naming the image when it is shorter than the format claims. The bytes come from a
// ByteSource: a local file or block device, or an http(s):// URL (remote-source.ts), so every
// format reads images at a URL with no code of its own.
import { open, type FileHandle } from 'node:fs/promises';
import { BlockError } from '../backend/errors.ts';
import { isHttpUrl } from '../plugins/http/client.ts';
import { RemoteSource } from './remote-source.ts';

/** Where an image's bytes come from. */
export interface ByteSource {
  readonly size: number;
  /** Bytes read into `buf` from `offset` (fewer only at the end of the source). */
  readAt(buf: Buffer, offset: number): Promise<number>;
  close(): Promise<void>;
}

class FileSource implements ByteSource {
  constructor(private readonly fh: FileHandle, readonly size: number) {}

  static async open(path: string): Promise<FileSource> {
    const fh = await open(path, 'r');
    try {
      const st = await fh.stat();
      if (!st.isFile() && !st.isBlockDevice()) throw new BlockError('EINVAL', `${path}: not a regular file or block device`);
      return new FileSource(fh, st.size);
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  async readAt(buf: Buffer, offset: number): Promise<number> {
    let done = 0;
    while (done < buf.length) {
      const { bytesRead } = await this.fh.read(buf, done, buf.length - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done;
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

export class ImageFile {
  readonly path: string;
  readonly size: number;
  /** At a URL: no host file to stat or ask for holes (SEEK_DATA), only the format's tables. */
  readonly remote: boolean;

  private constructor(path: string, private readonly source: ByteSource, remote: boolean) {
    this.path = path;
    this.size = source.size;
    this.remote = remote;
  }

  /** A local path, or an http:// / https:// URL. */
  static async open(path: string): Promise<ImageFile> {
    if (isHttpUrl(path)) return new ImageFile(path, await RemoteSource.open(path), true);
    return new ImageFile(path, await FileSource.open(path), false);
  }

  /** Fill `buf` from `offset`; a short read means the image is truncated: EIO naming what was read. */
  async readExact(buf: Buffer, offset: number, what = 'data'): Promise<Buffer> {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + buf.length > this.size) {
      throw new BlockError('EIO', `${this.path}: ${what} at offset ${offset} (+${buf.length}) lies beyond the end of the file (${this.size} bytes): the image is truncated or corrupt`);
    }
    const done = await this.source.readAt(buf, offset);
    if (done < buf.length) throw new BlockError('EIO', `${this.path}: unexpected end of file reading ${what} at ${offset + done}`);
    return buf;
  }

  /** Read `length` bytes at `offset` into a new buffer. */
  read(offset: number, length: number, what?: string): Promise<Buffer> {
    return this.readExact(Buffer.allocUnsafe(length), offset, what);
  }

  close(): Promise<void> {
    return this.source.close();
  }
}
