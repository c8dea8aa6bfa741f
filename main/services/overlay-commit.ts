// Committing a cow overlay: the disk as the chain shows it (the image below with the overlay's
// writes on top) written into a new image file, and discarding the overlay. Raw is written
// here, extent by extent, so holes and zeroes stay holes; qcow2 is qemu-img's job, converting
// that raw file. The file appears under its name only when complete (a temp name, fsync,
// rename), and never over an image the session reads.
import { execFile } from 'node:child_process';
import { open, realpath, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { EXTENT_ZERO } from '../../shared/extents.ts';
import type { OverlayCommitFormat, OverlayCommitResult, OverlayStatus } from '../../shared/ipc.ts';
import type { Chain } from '../backend/chain.ts';
import { extentsEnd } from '../backend/extents.ts';
import { cowOverlayOf } from '../filters/cow/index.ts';
import { BELOW, type CowOverlay } from '../filters/cow/overlay.ts';
import { ServiceError } from './errors.ts';

const run = promisify(execFile);

/** Bytes asked about per extents call, and read per pread: big enough to be quick, small enough to report progress. */
const SPAN = 64 * 2 ** 20;
const READ_CHUNK = 4 * 2 ** 20;

export interface CommitRequest {
  path: string;
  format: OverlayCommitFormat;
  /** Replace an existing file (the user said so). */
  overwrite: boolean;
}

export interface CommitEnv {
  /** Files the session reads (open images and their backing files): never written over. */
  protectedPaths: readonly string[];
  /** Bytes of the disk done so far. */
  progress?(done: number, total: number): void;
  /** The qemu-img to run (tests name one that does not exist). */
  qemuImg?: string;
}

export function overlayStatus(imageId: string, chain: Chain): OverlayStatus {
  const overlay = cowOverlayOf(chain);
  return { imageId, present: overlay !== null, heldBytes: overlay?.heldBytes ?? 0, blockSize: overlay?.blockSize ?? 0 };
}

/**
 * Empty `chain`'s cow overlay; returns the byte ranges ([start, end)) it held, whose
 * allocation may now read differently (the map re-asks about them).
 */
export async function discardOverlay(chain: Chain): Promise<[number, number][]> {
  const overlay = cowOverlayOf(chain);
  if (!overlay) throw new ServiceError('invalid-input', 'the chain has no cow filter, so there is no overlay to discard');
  const held = heldRanges(overlay);
  await overlay.discard();
  return held;
}

function heldRanges(overlay: CowOverlay): [number, number][] {
  const bs = overlay.blockSize;
  const runs = [...overlay.map.runs(0, Math.floor(Number.MAX_SAFE_INTEGER / bs))];
  return runs.filter((r) => r.state !== BELOW).map((r) => [r.first * bs, r.end * bs]);
}

/** Write the disk `chain` shows into `request.path` as raw or qcow2. */
export async function commitChain(chain: Chain, request: CommitRequest, env: CommitEnv): Promise<OverlayCommitResult> {
  const target = await checkTarget(request, env.protectedPaths);
  const qemuImg = env.qemuImg ?? 'qemu-img';
  if (request.format === 'qcow2') await requireQemuImg(qemuImg);
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.blockscope-${process.pid}-${Date.now()}`);
  const rawTemp = `${temp}.raw`;
  const qcowTemp = `${temp}.qcow2`;
  try {
    const { size, bytesWritten } = await writeRaw(chain, rawTemp, env.progress);
    let done = rawTemp;
    if (request.format === 'qcow2') {
      await convertToQcow2(qemuImg, rawTemp, qcowTemp);
      done = qcowTemp;
    }
    await rename(done, target);
    await syncDir(path.dirname(target));
    return { path: target, format: request.format, size, bytesWritten };
  } finally {
    await unlink(rawTemp).catch(() => {});
    await unlink(qcowTemp).catch(() => {});
  }
}

/** The absolute target, once it is known not to be an image in use nor (unless asked) an existing file. */
async function checkTarget(request: CommitRequest, protectedPaths: readonly string[]): Promise<string> {
  const target = path.resolve(request.path);
  const st = await stat(target).catch(() => null);
  // A symlink to an open image is that image too: compare real paths.
  const real = st ? await realpath(target) : path.join(await realpath(path.dirname(target)).catch(() => path.dirname(target)), path.basename(target));
  const inUse = await Promise.all(protectedPaths.map((p) => realpath(p).catch(() => path.resolve(p))));
  if (inUse.includes(real)) {
    throw new ServiceError('invalid-input', `${target} is an image Blockscope has open; write the overlay to another file`);
  }
  if (st?.isDirectory()) throw new ServiceError('invalid-input', `${target} is a folder; name a file`);
  if (st && !request.overwrite) throw new ServiceError('needs-confirmation', `${target} exists; replace it?`);
  return target;
}

/**
 * The chain's bytes into a new sparse file at `file`: data extents are copied, zero and
 * hole extents are left unwritten (a sparse file reads them as zeroes).
 */
async function writeRaw(chain: Chain, file: string, progress?: (done: number, total: number) => void): Promise<{ size: number; bytesWritten: number }> {
  const conn = await chain.open({ readonly: true, exportName: '' });
  const out = await open(file, 'wx', 0o644);
  try {
    const top = conn.top;
    const size = top.getSize();
    await out.truncate(size);
    const buf = Buffer.alloc(Math.min(READ_CHUNK, Math.max(size, 1)));
    let bytesWritten = 0;
    for (let at = 0; at < size; ) {
      const extents = await top.extents(Math.min(SPAN, size - at), at);
      for (const e of extents) {
        if (e.flags & EXTENT_ZERO) continue;
        bytesWritten += await copyRange(top, out, buf, e.offset, Math.min(e.offset + e.length, size));
      }
      at = extents.length > 0 ? Math.max(extentsEnd(extents, at), at + 1) : size;
      progress?.(Math.min(at, size), size);
    }
    await out.sync();
    return { size, bytesWritten };
  } finally {
    await out.close();
    await conn.close().catch(() => {});
  }
}

async function copyRange(
  top: { pread(buf: Buffer, offset: number): Promise<void> },
  out: { write(buf: Buffer, offset: number, length: number, position: number): Promise<{ bytesWritten: number }> },
  buf: Buffer,
  from: number,
  to: number,
): Promise<number> {
  for (let pos = from; pos < to; ) {
    const piece = buf.subarray(0, Math.min(buf.length, to - pos));
    await top.pread(piece, pos);
    for (let done = 0; done < piece.length; ) done += (await out.write(piece, done, piece.length - done, pos + done)).bytesWritten;
    pos += piece.length;
  }
  return to - from;
}

async function requireQemuImg(qemuImg: string): Promise<void> {
  try {
    await run(qemuImg, ['--version']);
  } catch {
    throw new ServiceError('unsupported', 'qcow2 is written by qemu-img, which is not installed here (Debian: qemu-utils); commit as raw instead');
  }
}

async function convertToQcow2(qemuImg: string, raw: string, qcow: string): Promise<void> {
  try {
    await run(qemuImg, ['convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, qcow]);
    const fh = await open(qcow, 'r+');
    await fh.sync().finally(() => fh.close());
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new ServiceError('failed', `qemu-img convert failed: ${stderr || (err as Error).message}`);
  }
}

/** The rename is durable only once the folder's entry is on disk too. */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r').catch(() => null);
  if (!fh) return;
  await fh.sync().catch(() => {});
  await fh.close();
}
