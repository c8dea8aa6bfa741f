import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openImagePlugin, qemuChainMap } from '../layered-testing.ts';
import { makeTempDir, qemuImg, qemuIo, qemuRawBytes, sha256 } from '../qemu-oracle.ts';
import { qcow2Plugin } from './index.ts';

const tmp = makeTempDir('qcow2');
afterAll(() => tmp.remove());

/** Data, an unmapped zero range, an allocated zero range and a partial-cluster write. */
const WRITES = ['write -P 0xab 0 192k', 'write -z -u 64k 64k', 'write -z 128k 64k', 'write -P 0x11 1m 3k', 'write -P 0x22 3m 64k'];

interface Case {
  name: string;
  /** Build the image in the temp folder and return its path. */
  build(): string;
  rawDepths?: number[];
}

function qcow2(name: string, size: string, options: string, writes = WRITES): string {
  const file = tmp.file(name);
  qemuImg('create', '-f', 'qcow2', '-o', options, file, size);
  qemuIo(file, 'qcow2', ...writes);
  return file;
}

const cases: Case[] = [
  { name: 'v3, 64 KiB clusters', build: () => qcow2('v3.qcow2', '8M', 'compat=1.1') },
  { name: 'v2 (compat=0.10)', build: () => qcow2('v2.qcow2', '8M', 'compat=0.10') },
  { name: '512-byte clusters', build: () => qcow2('c512.qcow2', '8M', 'cluster_size=512') },
  { name: '2 MiB clusters', build: () => qcow2('c2m.qcow2', '9M', 'cluster_size=2M') },
  {
    name: 'extended L2 (subclusters)',
    build: () => qcow2('ext.qcow2', '8M', 'extended_l2=on,cluster_size=64k', [...WRITES, 'write -P 0x33 5m 4k', 'write -z 5m 2k', 'write -z -u 6m 6k']),
  },
  {
    name: 'extended L2 with 2 MiB clusters',
    build: () => qcow2('ext2m.qcow2', '8M', 'extended_l2=on,cluster_size=2M', ['write -P 1 0 64k', 'write -z 64k 64k', 'write -P 2 3m 200k']),
  },
  {
    name: 'odd virtual size',
    build: () => qcow2('odd.qcow2', '5000k', 'compat=1.1', ['write -P 7 4990k 10k', 'write -P 8 0 1k']),
  },
  {
    name: 'compressed (deflate)',
    build: () => {
      const src = qcow2('csrc.qcow2', '4M', 'compat=1.1', ['write -P 0x41 0 200k', 'write -P 0x42 2m 64k']);
      const file = tmp.file('compressed.qcow2');
      qemuImg('convert', '-c', '-O', 'qcow2', src, file);
      return file;
    },
  },
  {
    name: 'compressed, odd size',
    build: () => {
      const src = qcow2('cosrc.qcow2', '1000k', 'compat=1.1', ['write -P 0x41 0 1000k']);
      const file = tmp.file('compressed-odd.qcow2');
      qemuImg('convert', '-c', '-O', 'qcow2', src, file);
      return file;
    },
  },
  {
    name: 'external data file',
    build: () => qcow2('ext-data.qcow2', '4M', `data_file=${tmp.file('ext-data.raw')}`, ['write -P 5 0 64k', 'write -P 6 2m 128k']),
  },
  {
    name: 'external raw data file',
    build: () => qcow2('ext-raw.qcow2', '4M', `data_file=${tmp.file('ext-raw.raw')},data_file_raw=on`, ['write -P 5 64k 64k', 'write -P 6 3m 4k']),
  },
  {
    name: 'backing chain: qcow2 over qcow2 over raw, relative names',
    rawDepths: [2],
    build: () => {
      const base = tmp.file('chain-base.raw');
      qemuImg('create', '-f', 'raw', base, '6M');
      qemuIo(base, 'raw', 'write -P 0x01 0 1m', 'write -P 0x02 4m 64k');
      qemuImg('create', '-f', 'qcow2', '-b', 'chain-base.raw', '-F', 'raw', tmp.file('chain-mid.qcow2'), '8M');
      qemuIo(tmp.file('chain-mid.qcow2'), 'qcow2', 'write -P 0x03 512k 128k', 'write -z -u 4m 32k', 'write -P 0x04 6m 64k');
      const top = tmp.file('chain-top.qcow2');
      qemuImg('create', '-f', 'qcow2', '-b', 'chain-mid.qcow2', '-F', 'qcow2', top, '8M');
      qemuIo(top, 'qcow2', 'write -P 0x05 0 64k', 'write -z -u 256k 64k', 'write -P 0x06 7m 4k');
      return top;
    },
  },
  {
    name: 'backing file smaller than the image',
    build: () => {
      qcow2('small-base.qcow2', '1M', 'compat=1.1', ['write -P 9 0 1m']);
      const top = tmp.file('small-top.qcow2');
      qemuImg('create', '-f', 'qcow2', '-b', 'small-base.qcow2', '-F', 'qcow2', top, '4M');
      qemuIo(top, 'qcow2', 'write -P 3 512k 64k');
      return top;
    },
  },
];

describe.each(cases)('qcow2 $name', (c) => {
  let file = '';
  beforeAll(() => {
    file = c.build();
  });

  test('extents equal qemu-img map', async () => {
    const image = await openImagePlugin(qcow2Plugin, file);
    try {
      expect(await image.map()).toEqual(qemuChainMap(file, 'qcow2', c.rawDepths));
    } finally {
      await image.close();
    }
  });

  test('bytes equal qemu-img convert -O raw', async () => {
    const image = await openImagePlugin(qcow2Plugin, file);
    try {
      expect(await image.sha256()).toBe(sha256(qemuRawBytes(file, 'qcow2', tmp.file('scratch.raw'))));
    } finally {
      await image.close();
    }
  });
});

// Found by qcow2.prop.test.ts: a zero cluster whose entry keeps host offset 0 (the first
// cluster of an external data file) is a plain zero cluster to qemu, whatever its COPIED
// bit says; only a data cluster at offset 0 needs COPIED to count as allocated.
test.each(['on', 'off'])('a zeroed cluster at data-file offset 0 maps as qemu maps it (data_file_raw=%s)', async (raw) => {
  const file = tmp.file(`zero-at-0-${raw}.qcow2`);
  qemuImg('create', '-q', '-f', 'qcow2', '-o', `data_file=${tmp.file(`zero-at-0-${raw}.bin`)},data_file_raw=${raw}`, file, '1M');
  qemuIo(file, 'qcow2', 'write -P 1 0 128k', 'write -z 0 128k');
  const image = await openImagePlugin(qcow2Plugin, file);
  try {
    const map = await image.map();
    expect(map).toEqual(qemuChainMap(file, 'qcow2'));
    expect(map.slice(0, 2)).toEqual([[0, 65536, 3], [65536, 65536, 2]]);
  } finally {
    await image.close();
  }
});
