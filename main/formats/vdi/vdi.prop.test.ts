// Random reads and extents queries against qemu over VDIs: dynamic (with a block discarded
// by hand, which qemu reads as zero) and static made from a sparse file. See
// ../format-properties.ts.
import { afterAll } from 'vitest';
import { describeImageProperties, type ImageCase, type OracleImage } from '../format-properties.ts';
import { MiB, oddSize, Random, randomWrites, writePatternFile, writeRandomSparseRaw } from '../prop-layouts.ts';
import { makeTempDir, qemuImg, qemuIo, qemuMap, qemuRawBytes, readAt, writeAt } from '../qemu-oracle.ts';
import { vdiPlugin } from './index.ts';

const tmp = makeTempDir('vdi-prop');
afterAll(() => tmp.remove());

const SIZE = oddSize(9, 'vdi');
const BLOCK = MiB;
const BLOCK_MAP_AT = 0x200;
const DISCARDED = 0xfffffffe;

function oracle(file: string): OracleImage {
  return { file, plugin: vdiPlugin, bytes: qemuRawBytes(file, 'vdi', tmp.file('scratch.raw')), qemuMap: qemuMap(file, 'vdi') };
}

function dynamic(): OracleImage {
  const random = new Random('dynamic.vdi');
  const file = tmp.file('dynamic.vdi');
  qemuImg('create', '-q', '-f', 'vdi', file, String(SIZE));
  const pattern = writePatternFile(tmp.file('dynamic.pattern'), random);
  qemuIo(file, 'vdi', ...randomWrites(random, { size: SIZE, count: 16, pattern, grain: BLOCK, kinds: ['data', 'data', 'byte', 'zero-data', 'zero'] }));
  const blocks = Math.ceil(SIZE / BLOCK);
  const allocated = Array.from({ length: blocks }, (_, b) => b).filter((b) => readAt(file, BLOCK_MAP_AT + 4 * b, 4).readUInt32LE(0) < DISCARDED);
  if (allocated.length > 0) {
    const entry = Buffer.alloc(4);
    entry.writeUInt32LE(DISCARDED);
    writeAt(file, BLOCK_MAP_AT + 4 * random.pick(allocated), entry);
  }
  return oracle(file);
}

const cases: ImageCase[] = [
  { name: 'vdi dynamic with a discarded block', build: dynamic },
  {
    name: 'vdi static converted from a sparse raw file',
    build: () => {
      const raw = tmp.file('static-source.raw');
      writeRandomSparseRaw(raw, SIZE, new Random('static-source'));
      const file = tmp.file('static.vdi');
      qemuImg('convert', '-f', 'raw', '-O', 'vdi', '-o', 'static=on', raw, file);
      return oracle(file);
    },
  },
];

describeImageProperties(cases, { reads: 40, extents: 40 });
