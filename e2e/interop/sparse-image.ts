// Test images for the interop properties: sparse raw files whose holes are real filesystem
// holes (truncate, then writes), unwritten ranges made with `fallocate -z`, GPT/MBR tables
// written by sgdisk/sfdisk, and qcow2/vhd copies made by qemu-img. Every builder returns
// the bytes the image holds as read back from disk, which is what the models start from.
import { closeSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import fc from 'fast-check';
import { qemuRawBytes } from '../../main/formats/qemu-oracle.ts';
import { ok } from './harness.ts';

export interface RunSpec {
  /** Where the run starts, as a fraction of the image in 1/65536ths. */
  at: number;
  length: number;
  /** Byte alignment of the start (1 = any byte). */
  align: number;
  /** data: seeded random bytes; zeroes: written zero bytes (allocated); unwritten: fallocate -z. */
  kind: 'data' | 'zeroes' | 'unwritten';
  seed: number;
}

export interface Layout {
  size: number;
  runs: RunSpec[];
}

/**
 * A position as a fraction of a range, in 1/65536ths. Unbiased: fast-check's usual bias
 * toward small integers would pile every run, window and partition at the start.
 */
export const fractionArb: fc.Arbitrary<number> = fc.noBias(fc.integer({ min: 0, max: 0xffff }));

export const runArb: fc.Arbitrary<RunSpec> = fc.record({
  at: fractionArb,
  length: fc.oneof(fc.integer({ min: 1, max: 8192 }), fc.integer({ min: 1, max: 768 << 10 })),
  align: fc.constantFrom(1, 512, 4096, 65536),
  kind: fc.oneof({ weight: 4, arbitrary: fc.constant('data' as const) }, fc.constant('zeroes' as const), fc.constant('unwritten' as const)),
  seed: fc.integer({ min: 1, max: 0x7fffffff }),
});

/** Images of `minSize`..`maxSize` bytes, rounded down to a multiple of one of `sizeAligns`. */
export function layoutArb(minSize: number, maxSize: number, sizeAligns: number[] = [1, 512, 4096]): fc.Arbitrary<Layout> {
  return fc.record({
    // Mostly full-sized images, some tiny ones for the edge cases.
    size: fc.oneof({ weight: 1, arbitrary: fc.integer({ min: minSize, max: minSize + 8192 }) }, { weight: 4, arbitrary: fc.noBias(fc.integer({ min: minSize, max: maxSize })) }),
    sizeAlign: fc.constantFrom(...sizeAligns),
    runs: fc.array(runArb, { maxLength: 8 }),
  }).map(({ size, sizeAlign, runs }) => ({ size: Math.max(sizeAlign, size - (size % sizeAlign)), runs }));
}

/** xorshift32: the same seed always gives the same bytes, so a shrunk case replays exactly. */
export function seededBytes(seed: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = seed >>> 0 || 0x9e3779b9;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** A run's byte range inside [lo, hi) of an image, or null if it lands on nothing. */
export function placeRun(run: RunSpec, lo: number, hi: number): [start: number, end: number] | null {
  const raw = lo + Math.floor(((hi - lo) * run.at) / 0x10000);
  const start = Math.max(lo, raw - (raw % run.align));
  const end = Math.min(hi, start + run.length);
  return end > start ? [start, end] : null;
}

export interface PlacedRun {
  start: number;
  end: number;
  kind: RunSpec['kind'];
  seed: number;
}

/** A sparse file of `size` bytes with `runs` written in order; returns its bytes as read back. */
export async function writeRuns(file: string, size: number, runs: readonly PlacedRun[]): Promise<Buffer> {
  closeSync(openSync(file, 'w'));
  truncateSync(file, size);
  for (const { start, end, kind, seed } of runs) {
    if (kind === 'unwritten') {
      await ok('fallocate', ['-z', '-o', String(start), '-l', String(end - start), file]);
      continue;
    }
    const bytes = kind === 'data' ? seededBytes(seed, end - start) : Buffer.alloc(end - start);
    const fd = openSync(file, 'r+');
    try {
      writeSync(fd, bytes, 0, bytes.length, start);
    } finally {
      closeSync(fd);
    }
  }
  return readFileSync(file);
}

/** Write `layout` as a sparse file, keeping its runs inside [lo, hi) (default: the whole image). */
export function writeSparseImage(file: string, layout: Layout, lo = 0, hi = layout.size): Promise<Buffer> {
  const placed = layout.runs.flatMap((run) => {
    const range = placeRun(run, lo, hi);
    return range ? [{ start: range[0], end: range[1], kind: run.kind, seed: run.seed }] : [];
  });
  return writeRuns(file, layout.size, placed);
}

export interface Partition {
  number: number;
  start: number;
  length: number;
}

/**
 * Write a GPT (sgdisk) or MBR (sfdisk) table with one partition per [startSector,
 * endSector) and return the partitions as sfdisk reads them back, in bytes.
 */
export async function writePartitionTable(file: string, scheme: 'gpt' | 'mbr', sectors: [number, number][]): Promise<Partition[]> {
  if (scheme === 'gpt') {
    // -a 1: no alignment, so the starts are exactly the (odd) sectors asked for.
    await ok('sgdisk', ['-o', '-a', '1', ...sectors.flatMap(([s, e], i) => ['-n', `${i + 1}:${s}:${e - 1}`]), file]);
  } else {
    const script = ['label: dos', ...sectors.map(([s, e]) => `start=${s}, size=${e - s}, type=83`)].join('\n');
    await ok('sfdisk', ['--no-reread', '--no-tell-kernel', '-q', file], { input: `${script}\n` });
  }
  const json = JSON.parse(await ok('sfdisk', ['--json', file])) as { partitiontable: { partitions: { node: string; start: number; size: number }[] } };
  return json.partitiontable.partitions.map((p) => ({
    number: Number(/(\d+)$/.exec(p.node)![1]),
    start: p.start * 512,
    length: p.size * 512,
  }));
}

/**
 * Two partitions between the tables (64 sectors kept free at each end): [c0, c1) and
 * [c2, c3) of the sectors in between, for four fractions (1/65536ths) in any order.
 */
export function partitionSectors(size: number, cuts: number[]): [number, number][] {
  const first = 64;
  const span = size / 512 - 2 * first;
  const [a, b, c, d] = cuts.slice().sort((x, y) => x - y).map((f) => first + Math.floor((span * f) / 0x10000)) as [number, number, number, number];
  const p1End = Math.max(b, a + 1);
  const p2Start = Math.max(c, p1End);
  return [[a, p1End], [p2Start, Math.max(d, p2Start + 1)]];
}

export type ImageFormat = 'qcow2' | 'vpc';

/** Convert a raw image to `format` and return the guest bytes as qemu reads them. */
export async function convertImage(raw: string, format: ImageFormat, out: string, clusterSize = 65536): Promise<Buffer> {
  const options = format === 'qcow2' ? `cluster_size=${clusterSize}` : 'subformat=dynamic,force_size=on';
  await ok('qemu-img', ['convert', '-f', 'raw', '-O', format, '-o', options, raw, out]);
  return qemuRawBytes(out, format, `${out}.check.raw`);
}
