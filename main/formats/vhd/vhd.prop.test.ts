// Random reads and extents queries over VHDs: fixed (made from a sparse file: the host holes
// must be looked up at the guest offset asked), dynamic, and differencing with sectors the
// child's bitmap hands back to the parent. See ../format-properties.ts.
import { afterAll } from 'vitest';
import { describeImageProperties, type ImageCase, type OracleImage } from '../format-properties.ts';
import { MiB, oddSize, Random, randomWrites, SECTOR, writePatternFile, writeRandomSparseRaw, type WriteKind } from '../prop-layouts.ts';
import { makeTempDir, qemuImg, qemuIo, qemuMap, qemuRawBytes, qemuVirtualSize, readAt, writeAt } from '../qemu-oracle.ts';
import { vhdPlugin } from './index.ts';
import { makeDifferencing } from './vhd-testing.ts';

const tmp = makeTempDir('vhd-prop');
afterAll(() => tmp.remove());

/** Blocks are 2 MiB: a larger disk leaves some of them unallocated. */
const SIZE = oddSize(21, 'vhd');
const BLOCK = 2 * MiB;
/** Where qemu puts the BAT: after the footer copy and the dynamic header. */
const BAT_AT = 512 + 1024;
const KINDS: WriteKind[] = ['data', 'data', 'byte', 'zero-data', 'zero'];

function oracle(file: string): OracleImage {
  return { file, plugin: vhdPlugin, bytes: qemuRawBytes(file, 'vpc', tmp.file('scratch.raw')), qemuMap: qemuMap(file, 'vpc') };
}

/** A dynamic VHD written by qemu-io from the seeded layout. */
function dynamic(name: string, count: number): string {
  const random = new Random(name);
  const file = tmp.file(name);
  qemuImg('create', '-q', '-f', 'vpc', file, String(SIZE));
  const size = qemuVirtualSize(file, 'vpc');
  const pattern = writePatternFile(tmp.file(`${name}.pattern`), random);
  qemuIo(file, 'vpc', ...randomWrites(random, { size, count, pattern, grain: BLOCK, kinds: KINDS }));
  return file;
}

/**
 * A child over a parent, both written by qemu, then made differencing; one allocated block
 * of the child loses some sectors to the parent. qemu cannot read the chain, so the bytes
 * are put together here: the child's allocated blocks over the parent, minus those sectors.
 */
function differencing(): OracleImage {
  const parent = dynamic('base.vhd', 16);
  const child = dynamic('child.vhd', 6);
  const expected = qemuRawBytes(parent, 'vpc', tmp.file('scratch.raw'));
  const childBytes = qemuRawBytes(child, 'vpc', tmp.file('scratch.raw'));
  for (const [o, l, flags] of qemuMap(child, 'vpc')) if (flags === 0) childBytes.copy(expected, o, o, o + l);
  const random = new Random('child-bitmap');
  const blocks = Math.ceil(expected.length / BLOCK);
  const allocated = Array.from({ length: blocks }, (_, b) => b).filter((b) => readAt(child, BAT_AT + 4 * b, 4).readUInt32BE(0) !== 0xffffffff);
  const parentBytes = qemuRawBytes(parent, 'vpc', tmp.file('scratch.raw'));
  for (const block of allocated.filter((_, i) => i === 0 || random.chance(0.5))) {
    const bitmapAt = readAt(child, BAT_AT + 4 * block, 4).readUInt32BE(0) * SECTOR;
    // Whole bitmap bytes (8 sectors each), then half a byte: bits are most significant first.
    const first = random.int(0, 500);
    const bytes = random.int(0, 8);
    writeAt(child, bitmapAt + first, Buffer.concat([Buffer.alloc(bytes), Buffer.from([0x0f])]));
    const from = block * BLOCK + first * 8 * SECTOR;
    const to = Math.min(expected.length, from + (bytes * 8 + 4) * SECTOR);
    if (from < to) parentBytes.copy(expected, from, from, to);
  }
  makeDifferencing(child, parent, 'base.vhd');
  return { file: child, plugin: vhdPlugin, bytes: expected };
}

const cases: ImageCase[] = [
  {
    name: 'vhd fixed converted from a sparse raw file',
    build: () => {
      const raw = tmp.file('fixed-source.raw');
      writeRandomSparseRaw(raw, SIZE, new Random('fixed-source'), 16);
      const file = tmp.file('fixed.vhd');
      qemuImg('convert', '-f', 'raw', '-O', 'vpc', '-o', 'subformat=fixed', raw, file);
      return oracle(file);
    },
  },
  { name: 'vhd dynamic', build: () => oracle(dynamic('dynamic.vhd', 6)) },
  { name: 'vhd differencing, sectors handed back to the parent', build: differencing },
];

describeImageProperties(cases, { reads: 40, extents: 40 });
