// Random reads and extents queries against qemu, over every VMDK subformat qemu writes, a
// zeroed-grain image and a delta disk, each laid out from the property seed. See
// ../format-properties.ts.
import { writeFileSync } from 'node:fs';
import { afterAll } from 'vitest';
import { describeImageProperties, type ImageCase, type OracleImage } from '../format-properties.ts';
import { qemuChainMap } from '../layered-testing.ts';
import { KiB, MiB, oddSize, Random, randomWrites, writePatternFile, writeRandomSparseRaw, type WriteKind } from '../prop-layouts.ts';
import { makeTempDir, qemuImg, qemuIo, qemuRawBytes } from '../qemu-oracle.ts';
import { vmdkPlugin } from './index.ts';

const tmp = makeTempDir('vmdk-prop');
afterAll(() => tmp.remove());

/** Not a multiple of the 64 KiB grain: the last grain is partial. */
const SIZE = oddSize(9, 'vmdk');
const GRAIN = 64 * KiB;
const KINDS: WriteKind[] = ['data', 'data', 'byte', 'zero-data', 'zero', 'zero-unmap'];

function oracle(file: string): OracleImage {
  return { file, plugin: vmdkPlugin, bytes: qemuRawBytes(file, 'vmdk', tmp.file('scratch.raw')), qemuMap: qemuChainMap(file, 'vmdk') };
}

/** A sparse raw file with data, holes and explicit zeroes, built once for every conversion. */
let sourceFile: string | undefined;
function source(): string {
  if (sourceFile) return sourceFile;
  const random = new Random('vmdk-source');
  const file = tmp.file('source.raw');
  writeRandomSparseRaw(file, SIZE, random);
  const pattern = writePatternFile(tmp.file('source.pattern'), random);
  qemuIo(file, 'raw', ...randomWrites(random, { size: SIZE, count: 10, pattern, grain: GRAIN, kinds: ['data', 'byte', 'zero-data', 'zero'] }));
  sourceFile = file;
  return file;
}

function convert(subformat: string): OracleImage {
  const file = tmp.file(`${subformat}.vmdk`);
  qemuImg('convert', '-f', 'raw', '-O', 'vmdk', '-o', `subformat=${subformat}`, source(), file);
  return oracle(file);
}

/** A vmdk written in place by qemu-io from the seeded layout. */
function written(name: string, options: string[], kinds: WriteKind[], fixed: string[] = []): string {
  const random = new Random(name);
  const file = tmp.file(name);
  qemuImg('create', '-q', '-f', 'vmdk', ...options, file, String(SIZE));
  const pattern = writePatternFile(tmp.file(`${name}.pattern`), random);
  qemuIo(file, 'vmdk', ...fixed, ...randomWrites(random, { size: SIZE, count: 20, pattern, grain: GRAIN, kinds }));
  return file;
}

const cases: ImageCase[] = ['monolithicSparse', 'streamOptimized', 'monolithicFlat', 'twoGbMaxExtentSparse', 'twoGbMaxExtentFlat'].map(
  (subformat): ImageCase => ({ name: `vmdk ${subformat} converted from a sparse raw file`, build: () => convert(subformat) }),
);

cases.push(
  {
    name: 'vmdk with zeroed grains (zeroed_grain=on, write -z over data and over nothing)',
    build: () => oracle(written('zeroed.vmdk', ['-o', 'zeroed_grain=on'], KINDS, ['write -P 1 0 256k', 'write -z 64k 64k', 'write -z 4m 128k'])),
  },
  {
    // A FLAT extent that starts 512 KiB into its file: host holes are looked up there.
    name: 'vmdk descriptor: a FLAT extent at a file offset, then a SPARSE one',
    build: () => {
      writeRandomSparseRaw(tmp.file('part-flat.raw'), 3 * MiB, new Random('part-flat'), 8);
      const sparse = tmp.file('part-sparse.vmdk');
      qemuImg('convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=monolithicSparse', source(), sparse);
      const file = tmp.file('mixed.vmdk');
      // qemu 7.2 reads the first extent twice unless a comment line comes between the header
      // and the extents, as in the descriptors qemu itself writes.
      const lines = ['# Disk DescriptorFile', 'version=1', 'CID=fffffffe', 'parentCID=ffffffff', 'createType="twoGbMaxExtentSparse"', '', '# Extent description'];
      lines.push('RW 4096 FLAT "part-flat.raw" 1024', `RW ${SIZE / 512} SPARSE "part-sparse.vmdk"`, '');
      writeFileSync(file, lines.join('\n'));
      return oracle(file);
    },
  },
  {
    name: 'vmdk delta disk over a monolithicSparse parent',
    build: () => {
      written('parent.vmdk', [], KINDS);
      return oracle(written('child.vmdk', ['-b', 'parent.vmdk', '-F', 'vmdk'], KINDS));
    },
  },
);

describeImageProperties(cases, { reads: 40, extents: 40 });
