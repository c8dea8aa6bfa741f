// Read-only access to an image file for the format readers: exact positional reads that
// fail with a message naming the image when the file is shorter than the format claims.
import { open, type FileHandle } from 'node:fs/promises';
import { BlockError } from '../backend/errors.ts';

export class ImageFile {
  readonly path: string;
  readonly size: number;
  private readonly fh: FileHandle;

  private constructor(path: string, fh: FileHandle, size: number) {
    this.path = path;
    this.fh = fh;
    this.size = size;
  }

  static async open(path: string): Promise<ImageFile> {
    const fh = await open(path, 'r');
    try {
      const st = await fh.stat();
      if (!st.isFile() && !st.isBlockDevice()) throw new BlockError('EINVAL', `${path}: not a regular file or block device`);
      return new ImageFile(path, fh, st.size);
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  /** Fill `buf` from `offset`; a short read means the image is truncated: EIO naming what was read. */
  async readExact(buf: Buffer, offset: number, what = 'data'): Promise<Buffer> {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + buf.length > this.size) {
      throw new BlockError('EIO', `${this.path}: ${what} at offset ${offset} (+${buf.length}) lies beyond the end of the file (${this.size} bytes): the image is truncated or corrupt`);
    }
    let done = 0;
    while (done < buf.length) {
      const { bytesRead } = await this.fh.read(buf, done, buf.length - done, offset + done);
      if (bytesRead === 0) throw new BlockError('EIO', `${this.path}: unexpected end of file reading ${what} at ${offset + done}`);
      done += bytesRead;
    }
    return buf;
  }

  /** Read `length` bytes at `offset` into a new buffer. */
  read(offset: number, length: number, what?: string): Promise<Buffer> {
    return this.readExact(Buffer.allocUnsafe(length), offset, what);
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}
