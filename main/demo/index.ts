// The built-in demo image: a 64 MiB GPT disk with an EFI System partition, an ext4 root and
// swap, holding data, holes and preallocated zeroes, so a first run of Blockscope has
// something worth looking at. Generated in JS (no mkfs at runtime), identical on every
// machine, and cached by content version.
import { mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { nativeIo } from '../native-io.ts';
import { buildDemoDisk, type DemoLayout } from './build.ts';
import { DEMO_CONTENT_VERSION, DEMO_SIZE, type ByteRange } from './layout.ts';

export type { DemoLayout, DemoPartition } from './build.ts';
export type { ByteRange } from './layout.ts';

let layout: DemoLayout | null = null;

/**
 * What the demo image holds and where: for tests and the UI's e2e pixel checks. Worked out
 * (by building the image in memory) on first use, not when the CLI or app starts.
 */
export function demoLayout(): DemoLayout {
  layout ??= buildDemoDisk().layout;
  return layout;
}

export const DEMO_FILE_NAME = `demo-v${DEMO_CONTENT_VERSION}.img`;

/** Seconds since the epoch stamped on a freshly generated demo image (2023-11-14). */
const PRISTINE_MTIME = 1_700_000_000;

/** $XDG_CACHE_HOME/blockscope, else ~/.cache/blockscope. */
export function defaultDemoDir(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(homedir(), '.cache'), 'blockscope');
}

/**
 * The path of the demo image in `dir` (default: the user's cache directory, or the temp
 * directory when that cannot be created), generating it first if it is missing.
 */
export async function ensureDemoImage(dir?: string): Promise<string> {
  const target = path.join(dir ?? (await usableDefaultDir()), DEMO_FILE_NAME);
  const existing = await stat(target).catch(() => null);
  // The pristine image carries a fixed mtime: a write (say, the demo served writable without
  // cow) changes it, and the next start brings the original back.
  if (existing?.isFile() && existing.size === DEMO_SIZE && existing.mtimeMs === PRISTINE_MTIME * 1000) {
    await forgetCachedZeroes(target);
    return target;
  }
  await mkdir(path.dirname(target), { recursive: true });
  await writeDemoImage(target);
  return target;
}

/**
 * ext4 reports an unwritten (preallocated) range as data to SEEK_DATA once its pages are in
 * the page cache, as they are after anyone has read them (a client of an earlier run, say);
 * the file plugin then rightly says data, since it cannot tell those pages from writes not yet
 * on disk. The pristine demo has no writes, so its cached zero pages are dropped and its map
 * shows the preallocated zeroes again on every start.
 */
async function forgetCachedZeroes(target: string): Promise<void> {
  const io = nativeIo();
  if (!io?.fadvise || io.POSIX_FADV_DONTNEED === undefined) return;
  const fh = await open(target, 'r');
  try {
    for (const r of demoLayout().zeroRanges) io.fadvise(fh.fd, r.offset, r.length, io.POSIX_FADV_DONTNEED);
  } finally {
    await fh.close();
  }
}

async function usableDefaultDir(): Promise<string> {
  const preferred = defaultDemoDir();
  try {
    await mkdir(preferred, { recursive: true });
    return preferred;
  } catch {
    return path.join(tmpdir(), 'blockscope');
  }
}

/** Written under a temporary name and renamed, so a reader never sees half an image. */
async function writeDemoImage(target: string): Promise<void> {
  const { image, preallocate } = buildDemoDisk();
  const temp = `${target}.${process.pid}.${Date.now()}.tmp`;
  const fh = await open(temp, 'wx');
  try {
    await fh.truncate(DEMO_SIZE);
    for (const run of image.runs()) await fh.write(run.data, 0, run.data.length, run.start);
    for (const r of preallocate) await preallocateZeroes(fh.fd, r, (buf, at) => fh.write(buf, 0, buf.length, at));
    await fh.sync();
    await fh.utimes(PRISTINE_MTIME, PRISTINE_MTIME);
    await fh.close();
    await rename(temp, target);
  } catch (err) {
    await fh.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw err;
  }
}

/**
 * fallocate gives allocated-but-unwritten extents, which the file plugin reports as ZERO.
 * Without the addon (or on a filesystem that refuses) zeroes are written instead: the
 * bytes are the same, the map just shows data there.
 */
async function preallocateZeroes(fd: number, r: ByteRange, write: (buf: Buffer, at: number) => Promise<unknown>): Promise<void> {
  const io = nativeIo();
  if (io && io.fallocate(fd, 0, r.offset, r.length) === 0) return;
  const chunk = Buffer.alloc(Math.min(r.length, 1024 * 1024));
  for (let at = r.offset; at < r.offset + r.length; at += chunk.length) {
    await write(chunk.subarray(0, Math.min(chunk.length, r.offset + r.length - at)), at);
  }
}
