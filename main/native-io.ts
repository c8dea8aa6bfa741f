// The optional N-API addon (native/blockscope_io.cc), loaded in one place for the file
// plugin, the format readers and the demo image. Node's fs has no
// lseek(SEEK_DATA), FIEMAP, fallocate or BLKGETSIZE64; without the addon the file plugin still
// serves the file correctly, it only loses hole detection, hole punching and fast zeroing.
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';
import path from 'node:path';

/** The addon's surface. Calls return -errno instead of throwing. */
export interface NativeIo {
  /** Float64Array [start0, end0, start1, end1, ...] of data runs, or [-errno]. */
  dataRuns(fd: number, offset: number, end: number, maxRuns: number): Float64Array;
  /** Same shape: ranges FIEMAP maps to unwritten (preallocated) extents. Absent in old builds. */
  unwrittenRuns?(fd: number, offset: number, end: number, maxRuns: number): Float64Array;
  fallocate(fd: number, mode: number, offset: number, length: number): number;
  blockDeviceSize?(fd: number): number;
  fadvise?(fd: number, offset: number, length: number, advice: number): number;
  /** madvise(MADV_HUGEPAGE) over a typed array's 2 MiB-aligned interior: 0 or -errno. Absent in old builds. */
  adviseHugePages?(view: ArrayBufferView): number;
  /** On a pool thread: fault the view's pages in writable (MADV_POPULATE_WRITE); 0 or -errno. Absent in old builds. */
  populateAsync?(view: ArrayBufferView): Promise<number>;
  /** preadv2(RWF_NOWAIT): bytes read from the page cache, or -errno (-EAGAIN: not cached). Absent in old builds. */
  readNoWait?(fd: number, buf: Buffer, offset: number): number;
  /** On a pool thread: offset of the first differing byte of two files' ranges, -1 if equal, or -errno. Absent in old builds. */
  compareFileRanges?(fdA: number, offsetA: number, fdB: number, offsetB: number, length: number): Promise<number>;
  /** send() what a non-blocking socket takes of `bytes` now: the count, or -errno when it took none. Absent in old builds. */
  sendReply?(socketFd: number, bytes: Buffer): number;
  /** A thread performing one file's writes in turn (serial_writer.cc). Absent in old builds. */
  SerialWriter?: new () => SerialWriter;
  EAGAIN?: number;
  FALLOC_FL_KEEP_SIZE: number;
  FALLOC_FL_PUNCH_HOLE: number;
  FALLOC_FL_ZERO_RANGE: number;
  POSIX_FADV_NORMAL?: number;
  POSIX_FADV_RANDOM?: number;
  POSIX_FADV_SEQUENTIAL?: number;
  POSIX_FADV_WILLNEED?: number;
  POSIX_FADV_DONTNEED?: number;
}

export interface SerialWriter {
  /** pwrite all of `buf` at `offset`, after every write asked for before: resolves 0 or -errno. */
  write(fd: number, buf: Buffer, offset: number): Promise<number>;
  /** No more writes; those queued still complete. */
  close(): void;
}

const ADDON_PATH = path.join('native', 'build', 'Release', 'blockscope_io.node');

/** undefined: not tried yet; null: tried and absent. */
let loaded: NativeIo | null | undefined;
let announced = false;

/**
 * Directories to search upwards from. Not import.meta.url: the Electron main is bundled as
 * CommonJS, where it is empty. The entry script (bin/blockscope.mjs, out/main/index.cjs, a
 * test runner inside node_modules) and the cwd both sit inside the project; a packaged app
 * keeps the addon unpacked beside its asar archive.
 */
function searchRoots(): string[] {
  const roots: string[] = [];
  if (process.argv[1]) roots.push(path.dirname(path.resolve(process.argv[1])));
  roots.push(process.cwd());
  const resources = (process as { resourcesPath?: string }).resourcesPath;
  if (resources) roots.push(path.join(resources, 'app.asar.unpacked'));
  return roots;
}

function findAddon(): string | null {
  const explicit = process.env.BLOCKSCOPE_NATIVE_ADDON;
  if (explicit) return existsSync(explicit) ? explicit : null;
  for (const root of searchRoots()) {
    for (let dir = root; ; dir = path.dirname(dir)) {
      const candidate = path.join(dir, ADDON_PATH);
      if (existsSync(candidate)) return candidate;
      if (path.dirname(dir) === dir) break;
    }
  }
  return null;
}

function load(): NativeIo | null {
  if (process.platform !== 'linux') return null;
  const file = findAddon();
  if (!file) return null;
  try {
    return createRequire(path.join(path.dirname(file), 'loader.cjs'))(file) as NativeIo;
  } catch (err) {
    console.error(`blockscope: the native I/O addon at ${file} did not load: ${(err as Error).message}`);
    return null;
  }
}

/**
 * The fd under a net socket, which the addon's socket calls take (Node keeps it on the
 * socket's internal handle), or -1 when the socket has none (closed, or not fd-backed).
 */
export function socketFd(socket: Socket): number {
  return (socket as unknown as { _handle?: { fd?: number } | null })._handle?.fd ?? -1;
}

/**
 * The addon, or null when it is absent or BLOCKSCOPE_NO_NATIVE=1 (checked on every call, so
 * tests can switch the fallback on and off). Says once per process which path is in use.
 */
export function nativeIo(): NativeIo | null {
  if (process.env.BLOCKSCOPE_NO_NATIVE === '1') {
    announce(null, 'BLOCKSCOPE_NO_NATIVE=1');
    return null;
  }
  if (loaded === undefined) loaded = load();
  announce(loaded, 'the native addon was not found (run `npm run build:native`)');
  return loaded;
}

function announce(io: NativeIo | null, why: string): void {
  if (announced) return;
  announced = true;
  console.error(io
    ? 'blockscope: native I/O addon in use (SEEK_DATA/SEEK_HOLE, FIEMAP, fallocate)'
    : `blockscope: native I/O addon not used (${why}): files map as all data, trim is off, zeroing writes zeroes`);
}

const errnoNames = new Map<number, string>(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));

/** 'EOPNOTSUPP' for the addon's -95, and so on. */
export function errnoName(negative: number): string {
  return errnoNames.get(-negative) ?? 'EIO';
}

/** Errors that mean "this filesystem or device cannot do that", not "that went wrong". */
export function isUnsupported(negative: number): boolean {
  const name = errnoName(negative);
  return name === 'EOPNOTSUPP' || name === 'ENOTSUP' || name === 'ENOSYS' || name === 'EINVAL' || name === 'ENOTTY';
}

/** Arrays this large are worth 2 MiB pages (see the addon's adviseHugePages). */
const HUGE_PAGED_BYTES = 8 * 2 ** 20;

/**
 * `array`, backed by 2 MiB pages where it is large enough and the addon is here, and faulted
 * in on a pool thread. On this VM each 4 KiB page's first touch costs a fault: a scan of ten
 * million extents, first touching 110 MB of columns, spent a fifth of its time there. Huge
 * pages cut it by a third, and the rest (the kernel zeroing each new page) moves to the pool
 * thread, which faults the pages in while the caller goes on filling the array.
 */
export function hugePaged<T extends Float64Array | Uint8Array>(array: T): T {
  if (array.byteLength < HUGE_PAGED_BYTES) return array;
  const io = nativeIo();
  io?.adviseHugePages?.(array);
  void io?.populateAsync?.(array);
  return array;
}
