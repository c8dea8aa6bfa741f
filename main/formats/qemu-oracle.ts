// Test support: qemu's own tools as the oracle for format readers. Images are built in a
// fresh temp folder per test file; nothing binary is committed.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { extentTriples, pushExtent, type Extent } from '../../shared/extents.ts';
import { tempDir } from '../temp-dir.ts';

export type ExtentTriple = [offset: number, length: number, flags: number];

export function makeTempDir(prefix: string): { dir: string; file: (name: string) => string; remove: () => void } {
  const { dir, cleanup } = tempDir(`blockscope-${prefix}-`);
  return { dir, file: (name) => path.join(dir, name), remove: cleanup };
}

export function qemuImg(...args: string[]): string {
  return execFileSync('qemu-img', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Run qemu-io commands against an image, e.g. `write -P 0xab 0 64k`. */
export function qemuIo(image: string, format: string, ...commands: string[]): void {
  execFileSync('qemu-io', ['-f', format, ...commands.flatMap((c) => ['-c', c]), image], { stdio: ['ignore', 'pipe', 'pipe'] });
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The guest bytes as qemu reads them. */
export function qemuRawBytes(image: string, format: string, scratch: string): Buffer {
  qemuImg('convert', '-f', format, '-O', 'raw', image, scratch);
  const bytes = readFileSync(scratch);
  rmSync(scratch);
  return bytes;
}

export function qemuVirtualSize(image: string, format: string): number {
  return (JSON.parse(qemuImg('info', '-f', format, '--output=json', image)) as { 'virtual-size': number })['virtual-size'];
}

interface MapEntry {
  start: number;
  length: number;
  zero: boolean;
  data: boolean;
}

/** `qemu-img map --output=json` as coalesced base:allocation triples. */
export function qemuMap(image: string, format: string): ExtentTriple[] {
  const entries = JSON.parse(qemuImg('map', '-f', format, '--output=json', image)) as MapEntry[];
  return coalesce(entries.map((e) => [e.start, e.length, e.data ? (e.zero ? 2 : 0) : e.zero ? 3 : 1]));
}

export function coalesce(list: readonly ExtentTriple[]): ExtentTriple[] {
  const out: Extent[] = [];
  for (const [offset, length, flags] of list) pushExtent(out, offset, length, flags);
  return extentTriples(out);
}

/** `length` bytes of a test image at `offset` (for tests that inspect or corrupt tables). */
export function readAt(image: string, offset: number, length: number): Buffer {
  const fd = openSync(image, 'r');
  try {
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, offset);
    return buf;
  } finally {
    closeSync(fd);
  }
}

/** Overwrite bytes of a test image in place. */
export function writeAt(image: string, offset: number, bytes: Buffer): void {
  const fd = openSync(image, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}
