// Random reads and extents queries against qemu, over qcow2 images (v2, v3, compressed,
// subclusters, zero clusters with and without space, backing chains ending in raw) and a
// sparse raw file, each laid out from the property seed. See ../format-properties.ts.
import { afterAll } from 'vitest';
import { defineImagePlugin } from '../image-plugin.ts';
import { RAW_FORMAT } from '../table.ts';
import { describeImageProperties, type ImageCase, type OracleImage } from '../format-properties.ts';
import { qemuChainMap } from '../layered-testing.ts';
import { compressedWrites, KiB, MiB, oddSize, Random, randomWrites, SECTOR, writePatternFile, writeRandomSparseRaw, type WriteKind } from '../prop-layouts.ts';
import { makeTempDir, qemuImg, qemuIo, qemuRawBytes } from '../qemu-oracle.ts';
import { qcow2Plugin } from './index.ts';

const tmp = makeTempDir('qcow2-prop');
afterAll(() => tmp.remove());

/** Not a multiple of 64 KiB: the last cluster is partial. */
const SIZE = oddSize(9, 'qcow2');
const ALL: WriteKind[] = ['data', 'data', 'byte', 'zero-data', 'zero', 'zero-unmap', 'discard'];

const rawPlugin = defineImagePlugin(RAW_FORMAT);

function oracle(file: string, rawDepths: number[] = []): OracleImage {
  return { file, plugin: qcow2Plugin, bytes: qemuRawBytes(file, 'qcow2', tmp.file('scratch.raw')), qemuMap: qemuChainMap(file, 'qcow2', rawDepths) };
}

interface Qcow2Options {
  /** qemu-img create options. */
  create?: string[];
  /** Commands before the random ones. */
  fixed?: string[];
  /** Compressed writes (into fresh clusters, so first of all). */
  compressed?: number;
}

/** A qcow2 image written by qemu-io from the seeded layout. */
function qcow2(name: string, size: number, options: string, kinds: WriteKind[], o: Qcow2Options = {}): string {
  const random = new Random(name);
  const file = tmp.file(name);
  qemuImg('create', '-q', '-f', 'qcow2', '-o', options, ...(o.create ?? []), file, String(size));
  const pattern = writePatternFile(tmp.file(`${name}.pattern`), random);
  const grain = options.includes('cluster_size=') ? parseSize(/cluster_size=(\w+)/.exec(options)![1]!) : 64 * KiB;
  const compressed = compressedWrites(random, size, grain, pattern, o.compressed ?? 0);
  qemuIo(file, 'qcow2', ...compressed, ...(o.fixed ?? []), ...randomWrites(random, { size, count: 24, pattern, grain, kinds }));
  return file;
}

function parseSize(text: string): number {
  const m = /^(\d+)([kKmM]?)$/.exec(text)!;
  return Number(m[1]) * (m[2] === '' ? 1 : /k/i.test(m[2]!) ? KiB : MiB);
}

/** Zero writes over data and over nothing, an unmapped zero range, all before the random ones. */
const ZERO_CLUSTERS = ['write -P 0x5a 0 256k', 'write -z 64k 64k', 'write -z 5m 128k', 'write -z -u 128k 64k', 'write -z 8m 4k'];

const cases: ImageCase[] = [
  {
    name: 'raw sparse file, odd size',
    build: () => {
      const file = tmp.file('sparse.raw');
      const size = oddSize(9, 'raw', 1);
      writeRandomSparseRaw(file, size, new Random('raw'));
      // qemu rounds a raw file up to whole sectors; the guest disk is the file itself.
      const bytes = qemuRawBytes(file, 'raw', tmp.file('scratch.raw')).subarray(0, size);
      return { file, plugin: rawPlugin, bytes, qemuMap: qemuChainMap(file, 'raw', [0]) };
    },
  },
  { name: 'qcow2 v2 (compat=0.10)', build: () => oracle(qcow2('v2.qcow2', SIZE, 'compat=0.10', ALL)) },
  { name: 'qcow2 v3, zero clusters with and without space', build: () => oracle(qcow2('v3.qcow2', SIZE, 'compat=1.1', ALL, { fixed: ZERO_CLUSTERS })) },
  { name: 'qcow2 v3, 4 KiB clusters', build: () => oracle(qcow2('c4k.qcow2', SIZE, 'cluster_size=4k', ALL, { fixed: ZERO_CLUSTERS })) },
  {
    name: 'qcow2 compressed clusters (qemu-io write -c and convert -c)',
    build: () => {
      const src = qcow2('csrc.qcow2', SIZE, 'compat=1.1', ALL, { fixed: ZERO_CLUSTERS, compressed: 8 });
      const file = tmp.file('compressed.qcow2');
      qemuImg('convert', '-c', '-f', 'qcow2', '-O', 'qcow2', src, file);
      return oracle(file);
    },
  },
  {
    name: 'qcow2 written compressed in place',
    build: () => oracle(qcow2('wc.qcow2', SIZE, 'compat=1.1', ['data', 'zero', 'discard'], { compressed: 16 })),
  },
  {
    name: 'qcow2 extended L2 (subclusters)',
    build: () => oracle(qcow2('ext.qcow2', SIZE, 'extended_l2=on,cluster_size=64k', ALL, { fixed: [...ZERO_CLUSTERS, 'write -P 0x33 6m 6k', 'write -z 6m 2k', 'write -z -u 6146k 1k'] })),
  },
  // Allocated clusters over host holes: the layer asks the host file about each cluster's offset.
  { name: 'qcow2 preallocation=metadata', build: () => oracle(qcow2('prealloc.qcow2', SIZE, 'compat=1.1,preallocation=metadata', ALL, { fixed: ZERO_CLUSTERS })) },
  {
    name: 'qcow2 with an external data file',
    build: () => oracle(qcow2('ext-data.qcow2', SIZE, `data_file=${tmp.file('ext-data.bin')}`, ['data', 'byte', 'zero-data', 'zero', 'discard'])),
  },
  {
    name: 'qcow2 with an external raw data file, metadata preallocated',
    build: () => oracle(qcow2('ext-raw.qcow2', SIZE, `data_file=${tmp.file('ext-raw.bin')},data_file_raw=on,preallocation=metadata`, ['data', 'byte', 'zero-data', 'zero'])),
  },
  {
    name: 'qcow2 backing chain: qcow2 over qcow2 over raw',
    build: () => {
      const base = tmp.file('chain-base.raw');
      writeRandomSparseRaw(base, 6 * MiB, new Random('chain-base'));
      qcow2('chain-mid.qcow2', 8 * MiB + 5 * SECTOR, 'compat=1.1', ALL, { create: ['-b', 'chain-base.raw', '-F', 'raw'] });
      const top = qcow2('chain-top.qcow2', SIZE, 'compat=1.1', ALL, { fixed: ['write -z -u 0 64k', 'write -z 1m 64k'], create: ['-b', 'chain-mid.qcow2', '-F', 'qcow2'] });
      return oracle(top, [2]);
    },
  },
  {
    name: 'qcow2 over a smaller qcow2 backing file',
    build: () => {
      qcow2('small-base.qcow2', MiB + SECTOR, 'compat=0.10', ['data', 'byte']);
      return oracle(qcow2('small-top.qcow2', SIZE, 'compat=1.1', ALL, { create: ['-b', 'small-base.qcow2', '-F', 'qcow2'] }));
    },
  },
];

describeImageProperties(cases, { reads: 40, extents: 40 });
