import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openImagePlugin, qemuChainMap } from '../layered-testing.ts';
import { makeTempDir, qemuImg, qemuIo, qemuRawBytes, sha256 } from '../qemu-oracle.ts';
import { vmdkPlugin } from './index.ts';

const tmp = makeTempDir('vmdk');
afterAll(() => tmp.remove());

let source = '';
beforeAll(() => {
  // Data in several grains, an all-zero written range and a partial grain near the end.
  source = tmp.file('source.qcow2');
  qemuImg('create', '-f', 'qcow2', source, '5M');
  qemuIo(source, 'qcow2', 'write -P 0xab 0 100k', 'write -P 0 1m 64k', 'write -P 0xcd 2m 4k', 'write -P 0xef 5060k 60k');
});

function convert(name: string, subformat: string): string {
  const file = tmp.file(name);
  qemuImg('convert', '-f', 'qcow2', '-O', 'vmdk', '-o', `subformat=${subformat}`, source, file);
  return file;
}

interface Case {
  name: string;
  build(): string;
}

const cases: Case[] = [
  { name: 'monolithicSparse', build: () => convert('sparse.vmdk', 'monolithicSparse') },
  { name: 'streamOptimized', build: () => convert('stream.vmdk', 'streamOptimized') },
  { name: 'monolithicFlat', build: () => convert('flat.vmdk', 'monolithicFlat') },
  { name: 'twoGbMaxExtentSparse', build: () => convert('split-sparse.vmdk', 'twoGbMaxExtentSparse') },
  { name: 'twoGbMaxExtentFlat', build: () => convert('split-flat.vmdk', 'twoGbMaxExtentFlat') },
  {
    name: 'zeroed grains',
    build: () => {
      const file = tmp.file('zeroed.vmdk');
      qemuImg('create', '-f', 'vmdk', '-o', 'zeroed_grain=on', file, '4M');
      qemuIo(file, 'vmdk', 'write -P 1 0 128k', 'write -z 64k 64k', 'write -z 1m 128k');
      return file;
    },
  },
  {
    name: 'delta disk over a parent (parentFileNameHint)',
    build: () => {
      const parent = convert('parent.vmdk', 'monolithicSparse');
      const child = tmp.file('child.vmdk');
      qemuImg('create', '-f', 'vmdk', '-b', 'parent.vmdk', '-F', 'vmdk', child);
      qemuIo(child, 'vmdk', 'write -P 0x77 64k 64k', 'write -P 0x78 3m 4k');
      void parent;
      return child;
    },
  },
  {
    name: 'hand-written descriptor with FLAT and SPARSE extents',
    build: () => {
      const flat = tmp.file('part-flat.raw');
      qemuImg('create', '-f', 'raw', flat, '2M');
      qemuIo(flat, 'raw', 'write -P 0x31 0 64k', 'write -P 0x32 1536k 64k');
      convert('part-sparse.vmdk', 'monolithicSparse');
      const file = tmp.file('mixed.vmdk');
      writeFileSync(file, [
        '# Disk DescriptorFile',
        'version=1',
        'CID=fffffffe',
        'parentCID=ffffffff',
        'createType="twoGbMaxExtentSparse"',
        '',
        '# Extent description',
        'RW 2048 FLAT "part-flat.raw" 1024',
        'RW 10240 SPARSE "part-sparse.vmdk"',
        '',
      ].join('\n'));
      return file;
    },
  },
];

test('a ZERO extent reads as zeroes and is reported as a hole (qemu misplaces ZERO extents, so no oracle)', async () => {
  qemuImg('create', '-f', 'raw', tmp.file('zx-flat.raw'), '1M');
  qemuIo(tmp.file('zx-flat.raw'), 'raw', 'write -P 0x31 0 64k');
  const file = tmp.file('zero-extent.vmdk');
  writeFileSync(file, '# Disk DescriptorFile\nversion=1\nparentCID=ffffffff\ncreateType="custom"\nRW 2048 ZERO\nRW 2048 FLAT "zx-flat.raw" 0\n');
  const image = await openImagePlugin(vmdkPlugin, file);
  try {
    expect(await image.map()).toEqual([[0, 1048576, 3], [1048576, 65536, 0], [1114112, 983040, 2]]);
  } finally {
    await image.close();
  }
});

describe.each(cases)('vmdk $name', (c) => {
  let file = '';
  beforeAll(() => {
    file = c.build();
  });

  test('extents equal qemu-img map', async () => {
    const image = await openImagePlugin(vmdkPlugin, file);
    try {
      expect(await image.map()).toEqual(qemuChainMap(file, 'vmdk'));
    } finally {
      await image.close();
    }
  });

  test('bytes equal qemu-img convert -O raw', async () => {
    const image = await openImagePlugin(vmdkPlugin, file);
    try {
      expect(await image.sha256()).toBe(sha256(qemuRawBytes(file, 'vmdk', tmp.file('scratch.raw'))));
    } finally {
      await image.close();
    }
  });
});
