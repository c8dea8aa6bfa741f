// Test support for the format properties (*.prop.test.ts): seeded random layouts that qemu
// writes into an image (qemu-io commands) or that a sparse raw source holds. The seed is the
// property seed, so `npm run fuzz -- --seed S` varies the images as well as the queries.
import { writeFileSync } from 'node:fs';
import { propertyParams } from '../testing/property-params.ts';
import { writeSparseFile, type DataRun } from '../testing/sparse-file.ts';
import { prng } from './fuzz-support.ts';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const SECTOR = 512;

export class Random {
  private readonly next: () => number;

  /** Seeded by the property seed and `salt`, so each image gets its own layout. */
  constructor(salt: string) {
    let h = Number(propertyParams(1).seed) >>> 0;
    for (const ch of salt) h = (Math.imul(h ^ ch.charCodeAt(0), 0x01000193) + 0x9e3779b9) >>> 0;
    this.next = prng(h);
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Bytes that neither compress nor look like zeroes anywhere (no zero byte at all). */
  bytes(length: number): Buffer {
    const out = Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++) out[i] = 1 + Math.floor(this.next() * 255);
    return out;
  }
}

/**
 * `mib` MiB and 1 to 127 sectors more (seeded): never a multiple of a 64 KiB cluster or
 * grain, so the last one is partial. `unit` 1 gives raw files an unaligned end as well.
 */
export function oddSize(mib: number, salt: string, unit = SECTOR): number {
  const random = new Random(`${salt}-size`);
  return mib * MiB + random.int(1, 127) * SECTOR + (unit === 1 ? random.int(1, SECTOR - 1) : 0);
}

/** A pattern file for `write -s` (qemu-io repeats it); its odd length keeps writes unaligned to it. */
export function writePatternFile(path: string, random: Random): string {
  writeFileSync(path, random.bytes(3 * 64 * KiB + 777));
  return path;
}

export type WriteKind = 'data' | 'byte' | 'zero-data' | 'zero' | 'zero-unmap' | 'discard';

export interface LayoutOptions {
  size: number;
  /** Operations to generate. */
  count: number;
  pattern: string;
  /** The format's allocation unit (cluster, grain, block): offsets often snap to it. */
  grain: number;
  /** Which operations the format takes (qemu-io refuses some on some formats). */
  kinds: readonly WriteKind[];
}

function command(kind: WriteKind, at: number, length: number, pattern: string, random: Random): string {
  switch (kind) {
    case 'data':
      return `write -s ${pattern} ${at} ${length}`;
    case 'byte':
      return `write -P ${random.int(1, 255)} ${at} ${length}`;
    case 'zero-data':
      return `write -P 0 ${at} ${length}`;
    case 'zero':
      return `write -z ${at} ${length}`;
    case 'zero-unmap':
      return `write -z -u ${at} ${length}`;
    case 'discard':
      return `discard ${at} ${length}`;
  }
}

/**
 * qemu-io commands over [0, size): data, single-byte patterns, zeroes written as data, zero
 * writes with and without unmap and discards, at offsets and lengths
 * that are sometimes sector-, sometimes grain- and sometimes MiB-granular. Overlaps are
 * welcome: they make zero clusters over data and data over zero clusters.
 */
export function randomWrites(random: Random, o: LayoutOptions): string[] {
  const out: string[] = [];
  for (let i = 0; i < o.count; i++) {
    const kind = random.pick(o.kinds);
    const units = [SECTOR, 4 * KiB, o.grain, MiB].filter((u) => u < o.size);
    const unit = random.pick(units);
    const at = random.int(0, Math.floor((o.size - 1) / unit)) * unit;
    const maxLength = random.pick([8 * KiB, 128 * KiB, 2 * MiB]);
    const length = Math.min(random.int(1, Math.max(1, Math.floor(maxLength / unit))) * unit, o.size - at);
    out.push(command(kind, at, length, o.pattern, random));
  }
  return out;
}

/**
 * qcow2 compressed writes (`write -c`) of whole clusters, each run on clusters no earlier one
 * touched: qemu refuses to compress into an allocated cluster. Run them before anything else.
 */
export function compressedWrites(random: Random, size: number, cluster: number, pattern: string, count: number): string[] {
  const clusters = Math.ceil(size / cluster);
  const used = new Uint8Array(clusters);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const first = random.int(0, clusters - 1);
    let n = 0;
    while (n < random.int(1, 6) && first + n < clusters && !used[first + n]) n++;
    if (n === 0) continue;
    used.fill(1, first, first + n);
    out.push(`write -c -s ${pattern} ${first * cluster} ${Math.min(n * cluster, size - first * cluster)}`);
  }
  return out;
}

/**
 * A sparse raw file of `size` bytes: seeded data runs (some sector-, some page-, some
 * MiB-aligned, some ending at odd bytes) and holes between; returns its contents.
 */
export function writeRandomSparseRaw(path: string, size: number, random: Random, runs = 12): Buffer {
  const list: DataRun[] = [];
  for (let i = 0; i < runs; i++) {
    const unit = random.pick([1, SECTOR, 4 * KiB, 64 * KiB, MiB]);
    const offset = Math.min(size - 1, random.int(0, Math.floor((size - 1) / unit)) * unit);
    const length = Math.min(size - offset, random.int(1, random.pick([600, 70 * KiB, 1200 * KiB])));
    list.push({ offset, length });
  }
  // Now and then the very end of the file is data.
  if (random.chance(0.5)) list.push({ offset: size - 1000, length: 1000 });
  return writeSparseFile(path, size, list, (n) => random.bytes(n));
}
