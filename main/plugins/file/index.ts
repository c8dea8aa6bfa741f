// file: serve a raw file or block device (nbdkit-file-plugin). Each connection opens its own
// fd, read-only when the connection is. Holes come from SEEK_DATA/SEEK_HOLE and preallocated
// zeroes from FIEMAP through the optional addon (./native.ts); without it the plugin still
// reads and writes correctly and reports the whole file as data.
import { fstatSync } from 'node:fs';
import { EXTENT_DATA, type Extent } from '../../../shared/extents.ts';
import { BlockError, errnoOf } from '../../backend/errors.ts';
import { MAX_EXTENTS } from '../../backend/extents.ts';
import { FLAG_MAY_TRIM, FLAG_REQ_ONE } from '../../backend/flags.ts';
import { definePlugin, type FileRange, type OpenOptions, type PluginHandle } from '../../backend/types.ts';
import { allocationExtents, gapSpan } from './allocation.ts';
import { sizeOf } from './device-size.ts';
import { closeFd, openFd, readFully, syncFd, writeFully } from './fd-io.ts';
import { fileWriter, type FileWriter } from './file-writers.ts';
import { errnoName, isUnsupported, nativeIo, type NativeIo } from '../../native-io.ts';

type Fadvise = 'normal' | 'random' | 'sequential';

class FileConnection implements PluginHandle {
  private readonly file: string;
  private readonly fd: number;
  private readonly size: number;
  private readonly writable: boolean;
  private readonly io: NativeIo | null;
  /** Where writes go when the addon has a writer thread; else the libuv pool. */
  private readonly writer: FileWriter | null;
  /** fallocate modes and FIEMAP found unsupported here: not asked again on this connection. */
  private readonly unsupported = new Set<number | 'fiemap' | 'seek' | 'nowait'>();

  constructor(file: string, fd: number, size: number, writable: boolean, io: NativeIo | null, writer: FileWriter | null) {
    this.file = file;
    this.fd = fd;
    this.size = size;
    this.writable = writable;
    this.io = io;
    this.writer = writer;
  }

  getSize(): number { return this.size; }
  canWrite(): boolean { return this.writable; }
  canFlush(): boolean { return true; }
  canFua(): 'emulate' { return 'emulate'; }
  canMultiConn(): boolean { return true; }
  canTrim(): boolean { return this.io !== null; }
  canExtents(): boolean { return true; }
  canCache(): 'native' | 'emulate' { return this.io?.fadvise ? 'native' : 'emulate'; }

  /**
   * Small reads of cached data are answered at once (preadv2 RWF_NOWAIT): a round trip
   * through the thread pool costs more than copying 4 KiB. Anything not in the page cache, or
   * larger, goes to the pool so a slow disk never stalls the event loop.
   */
  pread(buf: Buffer, offset: number): Promise<void> | void {
    const io = this.io;
    if (io?.readNoWait && buf.length <= NOWAIT_READ_MAX && !this.unsupported.has('nowait')) {
      const r = io.readNoWait(this.fd, buf, offset);
      if (r === buf.length) return;
      if (r > 0) return readFully(this.fd, buf.subarray(r), offset + r);
      if (r < 0 && isUnsupported(r)) this.unsupported.add('nowait');
    }
    return readFully(this.fd, buf, offset);
  }

  /** The file's bytes are the disk's bytes at the same offsets: the server may sendfile them. */
  fileRange(_count: number, offset: number): FileRange {
    return { fd: this.fd, offset };
  }

  /** Reads, writes (FUA a write then a flush) and flushes are the file's own, at the same offsets. */
  passThroughFile(): number {
    return this.fd;
  }

  pwrite(buf: Buffer, offset: number): Promise<void> {
    if (!this.writer) return writeFully(this.fd, buf, offset);
    return this.writer.write(this.fd, buf, offset).then((r) => {
      if (r < 0) throw this.errnoError('pwrite', r);
    });
  }

  flush(): Promise<void> {
    return syncFd(this.fd);
  }

  /** Trim is advisory: where the filesystem cannot punch holes it does nothing. */
  trim(count: number, offset: number): void {
    const io = this.io;
    if (io) this.tryFallocate(io.FALLOC_FL_PUNCH_HOLE | io.FALLOC_FL_KEEP_SIZE, offset, count);
  }

  zero(count: number, offset: number, flags: number): void {
    const io = this.io;
    if (io) {
      const punch = io.FALLOC_FL_PUNCH_HOLE | io.FALLOC_FL_KEEP_SIZE;
      if (flags & FLAG_MAY_TRIM && this.tryFallocate(punch, offset, count)) return;
      if (this.tryFallocate(io.FALLOC_FL_ZERO_RANGE | io.FALLOC_FL_KEEP_SIZE, offset, count)) return;
      // tmpfs has no ZERO_RANGE: a punched hole that is allocated again reads as zero too.
      if (!(flags & FLAG_MAY_TRIM) && this.tryFallocate(punch, offset, count) && this.tryFallocate(io.FALLOC_FL_KEEP_SIZE, offset, count)) return;
    }
    throw new BlockError('ENOTSUP', `${this.file}: zeroing in place is not supported here`);
  }

  cache(count: number, offset: number): void {
    const io = this.io;
    if (io?.fadvise && io.POSIX_FADV_WILLNEED !== undefined) io.fadvise(this.fd, offset, count, io.POSIX_FADV_WILLNEED);
  }

  extents(count: number, offset: number, flags: number): Extent[] {
    const io = this.io;
    const end = offset + count;
    const allData = [{ offset, length: count, flags: EXTENT_DATA }];
    if (!io || this.unsupported.has('seek')) return allData;
    // With REQ_ONE only the first extent counts, so the first run is all we need.
    const maxRuns = flags & FLAG_REQ_ONE ? 1 : MAX_EXTENTS;
    const data = io.dataRuns(this.fd, offset, end, maxRuns);
    if (data.length === 1) {
      if (!isUnsupported(data[0]!)) throw this.errnoError('SEEK_DATA', data[0]!);
      this.unsupported.add('seek');
      return allData;
    }
    // Past the last run the addon stopped looking: FIEMAP must not look there either.
    const known = data.length / 2 >= maxRuns ? data[data.length - 1]! : end;
    const span = gapSpan(data, offset, known);
    if (!span || !io.unwrittenRuns || this.unsupported.has('fiemap')) return allocationExtents(data, []);
    const unwritten = io.unwrittenRuns(this.fd, span[0], span[1], maxRuns);
    if (unwritten.length === 1) {
      if (!isUnsupported(unwritten[0]!)) throw this.errnoError('FIEMAP', unwritten[0]!);
      this.unsupported.add('fiemap');
      return allocationExtents(data, []);
    }
    return allocationExtents(data, unwritten);
  }

  async close(): Promise<void> {
    // Not before its queued writes are done: the fd number could be reused under them.
    await this.writer?.release();
    await closeFd(this.fd);
  }

  /** True if done, false if this mode is unsupported here; other failures throw. */
  private tryFallocate(mode: number, offset: number, count: number): boolean {
    if (this.unsupported.has(mode)) return false;
    const r = this.io!.fallocate(this.fd, mode, offset, count);
    if (r === 0) return true;
    if (!isUnsupported(r)) throw this.errnoError('fallocate', r);
    this.unsupported.add(mode);
    return false;
  }

  private errnoError(call: string, negative: number): BlockError {
    const name = errnoName(negative);
    const code = (['EIO', 'ENOSPC', 'EPERM', 'EDQUOT', 'EFBIG', 'EROFS'] as const).find((c) => c === name) ?? 'EIO';
    return new BlockError(code, `${this.file}: ${call} failed: ${name}`);
  }
}

/** Open read-write when asked; a file we may only read is served read-only, as nbdkit does. */
async function openForConnection(file: string, readonly: boolean): Promise<{ fd: number; writable: boolean }> {
  if (!readonly) {
    try {
      return { fd: await openFd(file, 'r+'), writable: true };
    } catch (err) {
      const code = errnoOf(err);
      if (code !== 'EACCES' && code !== 'EROFS' && code !== 'EPERM') throw err;
    }
  }
  return { fd: await openFd(file, 'r'), writable: false };
}

/** Reads up to this size try the page cache synchronously first. */
const NOWAIT_READ_MAX = 64 * 1024;

export const filePlugin = definePlugin({
  name: 'file',
  summary: 'serve a raw file or block device',
  magicKey: 'file',
  params: [
    { key: 'file', kind: 'path', required: true, description: 'the file or block device to serve' },
    { key: 'fadvise', kind: 'enum', values: ['normal', 'random', 'sequential'], default: 'normal', description: 'access pattern hint for the page cache' },
  ],
  create(params) {
    const file = params.file;
    const fadvise = params.fadvise as Fadvise;
    return {
      description: file,
      async open(options: OpenOptions) {
        const io = nativeIo();
        const { fd, writable } = await openForConnection(file, options.readonly);
        try {
          const stats = fstatSync(fd);
          const size = sizeOf(file, fd, stats, io);
          adviseAccess(io, fd, fadvise);
          return new FileConnection(file, fd, size, writable, io, writable ? fileWriter(io, stats) : null);
        } catch (err) {
          await closeFd(fd).catch(() => {});
          throw err;
        }
      },
    };
  },
});

function adviseAccess(io: NativeIo | null, fd: number, fadvise: Fadvise): void {
  const advice = { normal: io?.POSIX_FADV_NORMAL, random: io?.POSIX_FADV_RANDOM, sequential: io?.POSIX_FADV_SEQUENTIAL }[fadvise];
  if (fadvise !== 'normal' && advice !== undefined) io!.fadvise?.(fd, 0, 0, advice);
}
