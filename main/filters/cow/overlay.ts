// The cow overlay of one export: a sparse temporary file at the same offsets as the disk,
// and a block map saying which blocks it holds. Shared by every connection to the export
// and kept across chain rebuilds, so it lives on the filter instance, not on a handle.
import { mkdtemp, open, rm, unlink, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlockMap } from '../block-map.ts';
import { BlockLocks } from './block-locks.ts';

/** Block states in the map. Untouched blocks (0) are read from the layer below. */
export const BELOW = 0;
export const DATA = 1;
/** Zeroed without MAY_TRIM: reads as zero, shown as allocated zeroes. */
export const ZEROED = 2;
/** Trimmed, or zeroed with MAY_TRIM: reads as zero, shown as a hole. */
export const TRIMMED = 3;

export class CowOverlay {
  readonly blockSize: number;
  /** Replaced, not cleared, by discard(): a fresh map is the simplest empty one. */
  map = new BlockMap();
  readonly locks = new BlockLocks();
  /** Set by the first client write; blocks copied up by cow-on-read do not count. */
  written = false;
  private file: Promise<{ handle: FileHandle; dir: string; unlinked: boolean }> | null = null;
  private closed = false;

  constructor(blockSize: number) {
    this.blockSize = blockSize;
  }

  /** Created on first use, so a read-only session leaves no file behind. */
  private handle(): Promise<{ handle: FileHandle; dir: string; unlinked: boolean }> {
    if (this.closed) return Promise.reject(new Error('cow: the overlay is closed'));
    this.file ??= (async () => {
      const dir = await mkdtemp(join(tmpdir(), 'blockscope-cow-'));
      const path = join(dir, 'overlay');
      const handle = await open(path, 'w+', 0o600);
      // On POSIX the open file outlives its name: unlink now, so even a crash leaves
      // nothing in the temp dir. Where that fails (Windows), unload removes it.
      let unlinked = false;
      try {
        await unlink(path);
        await rm(dir, { recursive: true });
        unlinked = true;
      } catch {
        /* removed in close() */
      }
      return { handle, dir, unlinked };
    })();
    return this.file;
  }

  async read(buf: Buffer, offset: number): Promise<void> {
    const { handle } = await this.handle();
    let done = 0;
    while (done < buf.length) {
      const { bytesRead } = await handle.read(buf, done, buf.length - done, offset + done);
      // Never written past here: the sparse file's end reads as zeroes.
      if (bytesRead === 0) {
        buf.fill(0, done);
        return;
      }
      done += bytesRead;
    }
  }

  async write(buf: Buffer, offset: number): Promise<void> {
    const { handle } = await this.handle();
    let done = 0;
    while (done < buf.length) {
      const { bytesWritten } = await handle.write(buf, done, buf.length - done, offset + done);
      done += bytesWritten;
    }
  }

  /** Bytes the overlay holds for the disk: every block not read from below (to a block's size). */
  get heldBytes(): number {
    return this.map.touchedBlocks * this.blockSize;
  }

  /**
   * Drop every write: all blocks read from below again and the file gives its space back.
   * A request in flight meanwhile lands either before or after, as with any other write.
   */
  async discard(): Promise<void> {
    this.map = new BlockMap();
    this.written = false;
    const file = this.file;
    if (file) await (await file).handle.truncate(0);
  }

  async close(): Promise<void> {
    this.closed = true;
    const file = this.file;
    this.file = null;
    if (!file) return;
    const { handle, dir, unlinked } = await file;
    await handle.close();
    if (!unlinked) await rm(dir, { recursive: true, force: true });
  }
}
