// Random reads and extents queries over VHDX images in every block state we can produce:
// NOT_PRESENT, ZERO with and without space, UNDEFINED, UNMAPPED, FULLY_PRESENT, and
// PARTIALLY_PRESENT in a differencing child. qemu-img map shows a whole VHDX as data, so it
// is no oracle for the map here: extents are held to the bytes (zero claims only over
// zeroes) and to our own whole map. See ../format-properties.ts.
import { afterAll } from 'vitest';
import { describeImageProperties, type ImageCase, type OracleImage } from '../format-properties.ts';
import { MiB, oddSize, Random, randomWrites, writePatternFile, writeRandomSparseRaw, type WriteKind } from '../prop-layouts.ts';
import { makeTempDir, qemuImg, qemuIo, qemuRawBytes, readAt, writeAt } from '../qemu-oracle.ts';
import { vhdxPlugin } from './index.ts';
import { makeDifferencing, regions, u64 } from './vhdx-testing.ts';

const tmp = makeTempDir('vhdx-prop');
afterAll(() => tmp.remove());

/** Sparse enough that 1 MiB blocks in every state remain after a few writes. */
const SIZE = oddSize(17, 'vhdx');
const KINDS: WriteKind[] = ['data', 'data', 'byte', 'zero-data', 'zero'];
const FULLY_PRESENT = 6;

function qemuBytes(file: string): Buffer {
  return qemuRawBytes(file, 'vhdx', tmp.file('scratch.raw'));
}

/** A 1 MiB-block VHDX written by qemu-io from the seeded layout. */
function written(name: string, size: number, options: string, count: number, fixed: string[] = []): string {
  const random = new Random(name);
  const file = tmp.file(name);
  qemuImg('create', '-q', '-f', 'vhdx', '-o', `block_size=1M,${options}`, file, String(size));
  const pattern = writePatternFile(tmp.file(`${name}.pattern`), random);
  qemuIo(file, 'vhdx', ...fixed, ...randomWrites(random, { size, count, pattern, grain: MiB, kinds: KINDS }));
  return file;
}

function blockStates(file: string, blocks: number): number[] {
  const { bat } = regions(file);
  return Array.from({ length: blocks }, (_, b) => readAt(file, bat + 8 * b, 8).readUInt32LE(0) & 7);
}

/**
 * Written blocks turned ZERO (space kept) and UNMAPPED, an unwritten one UNDEFINED: qemu
 * reads all three as zeroes, so its bytes stay the oracle.
 */
function dynamicWithStates(): OracleImage {
  const file = written('states.vhdx', SIZE, 'block_state_zero=off', 6);
  const random = new Random('states');
  const blocks = Math.ceil(SIZE / MiB);
  const states = blockStates(file, blocks);
  const present = states.flatMap((s, b) => (s === FULLY_PRESENT ? [b] : []));
  const absent = states.flatMap((s, b) => (s === 0 ? [b] : []));
  const { bat } = regions(file);
  const restate = (block: number, state: number): void => {
    const host = Number(readAt(file, bat + 8 * block, 8).readBigUInt64LE(0) >> 20n);
    writeAt(file, bat + 8 * block, u64(state, host));
  };
  if (present.length > 0) restate(present.splice(random.int(0, present.length - 1), 1)[0]!, 2);
  if (present.length > 0) restate(present.splice(random.int(0, present.length - 1), 1)[0]!, 3);
  if (absent.length > 0) restate(random.pick(absent), 1);
  return { file, plugin: vhdxPlugin, bytes: qemuBytes(file) };
}

function converted(name: string, options: string[]): OracleImage {
  const raw = tmp.file(`${name}.raw`);
  writeRandomSparseRaw(raw, SIZE, new Random(name), 5);
  const file = tmp.file(name);
  if (options.some((o) => o.includes('subformat=fixed'))) {
    qemuImg('convert', '-f', 'raw', '-O', 'vhdx', ...options, raw, file);
  } else {
    // The new file reads as zero already: without saying so, qemu writes every hole as zeroes.
    qemuImg('create', '-q', '-f', 'vhdx', ...options, file, String(SIZE));
    qemuImg('convert', '-n', '--target-is-zero', '-f', 'raw', '-O', 'vhdx', raw, file);
  }
  return { file, plugin: vhdxPlugin, bytes: qemuBytes(file) };
}

/**
 * makeDifferencing's child (8 MiB, 1 MiB blocks): block 2 keeps its first half, blocks 6
 * and 7 read as zero, NOT_PRESENT blocks show the parent. The bytes are put together from
 * what qemu reads in each file before the child is made differencing.
 */
function differencing(): OracleImage {
  const size = 8 * MiB;
  const parent = written('base.vhdx', size, 'block_state_zero=off', 12);
  const child = written('child.vhdx', size, 'block_state_zero=off', 4, ['write -P 0xc2 2M 1M']);
  const parentBytes = qemuBytes(parent);
  const childBytes = qemuBytes(child);
  const states = blockStates(child, size / MiB);
  makeDifferencing(child, { relative_path: '.\\base.vhdx' });
  const expected = Buffer.from(parentBytes);
  states.forEach((state, b) => {
    const from = b * MiB;
    if (b === 6 || b === 7) expected.fill(0, from, from + MiB);
    else if (b === 2) childBytes.copy(expected, from, from, from + MiB / 2);
    else if (state === FULLY_PRESENT) childBytes.copy(expected, from, from, from + MiB);
  });
  return { file: child, plugin: vhdxPlugin, bytes: expected };
}

const cases: ImageCase[] = [
  { name: 'vhdx dynamic with ZERO (space kept), UNMAPPED and UNDEFINED blocks', build: dynamicWithStates },
  { name: 'vhdx converted, 32 MiB blocks (one partial block)', build: () => converted('big-block.vhdx', []) },
  { name: 'vhdx converted, unwritten blocks in state ZERO', build: () => converted('zero-state.vhdx', ['-o', 'block_size=1M']) },
  { name: 'vhdx converted, unwritten blocks NOT_PRESENT', build: () => converted('not-present.vhdx', ['-o', 'block_size=1M,block_state_zero=off']) },
  // qemu marks the blocks of a fixed image it did not write ZERO, without their space.
  { name: 'vhdx fixed, 1 MiB blocks', build: () => converted('fixed.vhdx', ['-o', 'block_size=1M,subformat=fixed']) },
  { name: 'vhdx fixed, every block present', build: () => converted('fixed-full.vhdx', ['-o', 'block_size=1M,subformat=fixed,block_state_zero=off']) },
  { name: 'vhdx differencing with a partially present block', build: differencing },
];

describeImageProperties(cases, { reads: 40, extents: 40 });
