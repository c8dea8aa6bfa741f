import { statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { extentTriples, pushExtent, type Extent } from '../../../shared/extents.ts';
import { openImageChain } from '../backing.ts';
import { detectImage } from '../detect.ts';
import { crc32c } from '../crc32c.ts';
import { bytesAndMap, chainContents } from '../layered-testing.ts';
import { guidToBytes } from '../partitions/guid.ts';
import { makeTempDir, qemuImg, qemuIo, qemuMap, qemuRawBytes, qemuVirtualSize, readAt, sha256, writeAt } from '../qemu-oracle.ts';
import { vhdxPlugin } from './index.ts';
import { makeDifferencing, regions, u64 } from './vhdx-testing.ts';

const tmp = makeTempDir('vhdx');
afterAll(() => tmp.remove());

const MiB = 1024 * 1024;
type Triple = [number, number, number];

/**
 * The map the BAT records, derived in the test itself: block size and virtual size from
 * qemu-img info, one u64 per payload block, a sector bitmap entry after every chunk ratio
 * (2^23 * 512 / block size) payload entries. qemu-img map cannot be the oracle: it shows
 * a whole VHDX as data.
 */
function expectedMapFromBat(image: string): Triple[] {
  const info = JSON.parse(qemuImg('info', '-f', 'vhdx', '--output=json', image)) as { 'virtual-size': number; 'cluster-size': number };
  const size = info['virtual-size'];
  const blockSize = info['cluster-size'];
  const ratio = (2 ** 23 * 512) / blockSize;
  const bat = regions(image).bat;
  const out: Extent[] = [];
  for (let block = 0; block * blockSize < size; block++) {
    const entry = readAt(image, bat + 8 * (block + Math.floor(block / ratio)), 8).readBigUInt64LE(0);
    const state = Number(entry & 7n);
    const flags = state === 6 ? 0 : state === 2 && entry >> 20n !== 0n ? 2 : 3;
    const length = Math.min(blockSize, size - block * blockSize);
    pushExtent(out, block * blockSize, length, flags);
  }
  return extentTriples(out);
}


function sourceVhd(): string {
  const image = tmp.file('source.vhd');
  qemuImg('create', '-q', '-f', 'vpc', image, '16M');
  qemuIo(image, 'vpc', 'write -P 0xab 1M 64k', 'write -P 0x11 9M 3M');
  return image;
}

const source = sourceVhd();

describe.each([
  ['default (unwritten blocks in state ZERO)', []],
  ['block_state_zero=off (unwritten blocks NOT_PRESENT)', ['-o', 'block_state_zero=off']],
  ['subformat=fixed', ['-o', 'subformat=fixed']],
  ['block_size=1M', ['-o', 'block_size=1M']],
  ['block_size=32M', ['-o', 'block_size=32M']],
])('vhdx converted by qemu-img, %s', (name, options) => {
  const image = tmp.file(`${name.replace(/\W+/g, '-')}.vhdx`);
  qemuImg('convert', '-f', 'vpc', '-O', 'vhdx', ...options, source, image);

  it('reads the guest bytes qemu reads', async () => {
    const { bytes } = await bytesAndMap(vhdxPlugin, image);
    expect(bytes.length).toBe(qemuVirtualSize(image, 'vhdx'));
    expect(sha256(bytes)).toBe(sha256(qemuRawBytes(image, 'vhdx', tmp.file('out.raw'))));
  });

  it('maps what the BAT records (qemu-img map shows one data extent)', async () => {
    const { map } = await bytesAndMap(vhdxPlugin, image);
    expect(map).toEqual(expectedMapFromBat(image));
    expect(qemuMap(image, 'vhdx')).toHaveLength(1);
  });
});

describe('vhdx fixed with a partial last block', () => {
  // Found by vhdx.prop.test.ts: qemu stores only the guest part of the last block, so the
  // file ends 1536 bytes into it; a check for the whole block refused every read there.
  it('reads and maps the last block, which the file holds only in part', async () => {
    const image = tmp.file('fixed-odd.vhdx');
    qemuImg('create', '-q', '-f', 'vhdx', '-o', 'block_size=1M,subformat=fixed,block_state_zero=off', image, String(4 * MiB + 1536));
    qemuIo(image, 'vhdx', 'write -P 0x5c 4M 1536');
    expect(statSync(image).size % MiB).toBe(1536);
    const { bytes, map } = await bytesAndMap(vhdxPlugin, image);
    expect(sha256(bytes)).toBe(sha256(qemuRawBytes(image, 'vhdx', tmp.file('fixed-odd.raw'))));
    expect(bytes[4 * MiB + 1535]).toBe(0x5c);
    expect(map).toEqual([[0, 4 * MiB + 1536, 0]]);
  });
});

describe('vhdx block states', () => {
  it('reports 1 MiB blocks exactly as written, holes where nothing was', async () => {
    const image = tmp.file('states.vhdx');
    qemuImg('create', '-q', '-f', 'vhdx', '-o', 'block_size=1M,block_state_zero=off', image, '8M');
    qemuIo(image, 'vhdx', 'write -P 0xab 1M 64k', 'write -P 0x11 3M 2M');
    const { map } = await bytesAndMap(vhdxPlugin, image);
    expect(map).toEqual([
      [0, MiB, 3],
      [MiB, MiB, 0],
      [2 * MiB, MiB, 3],
      [3 * MiB, 2 * MiB, 0],
      [5 * MiB, 3 * MiB, 3],
    ]);
  });

  it('is detected as vhdx by its file identifier', async () => {
    expect(await detectImage(tmp.file('states.vhdx'))).toEqual({ format: 'vhdx', plugin: 'vhdx' });
  });

  it('reports a ZERO block with space reserved as allocated zero', async () => {
    const image = tmp.file('allocated-zero.vhdx');
    qemuImg('create', '-q', '-f', 'vhdx', '-o', 'block_size=1M', image, '4M');
    qemuIo(image, 'vhdx', 'write -P 0x22 0 1M');
    const bat = regions(image).bat;
    const host = Number(readAt(image, bat, 8).readBigUInt64LE(0) >> 20n);
    writeAt(image, bat, u64(2, host));
    const { bytes, map } = await bytesAndMap(vhdxPlugin, image);
    expect(map).toEqual([
      [0, MiB, 2],
      [MiB, 3 * MiB, 3],
    ]);
    expect(bytes.subarray(0, MiB).every((b) => b === 0)).toBe(true);
  });

  // qemu refuses logical sectors other than 512, so the image is written with 512 and then
  // relabelled 4096: the payload (and so the guest bytes qemu read before) does not move.
  it('reads an image with 4096-byte logical sectors', async () => {
    const image = tmp.file('4k-sectors.vhdx');
    qemuImg('create', '-q', '-f', 'vhdx', '-o', 'block_size=1M', image, '8M');
    qemuIo(image, 'vhdx', 'write -P 0x44 1M 8k', 'write -P 0x45 7M 1M');
    const before = sha256(qemuRawBytes(image, 'vhdx', tmp.file('4k.raw')));
    const { metadata } = regions(image);
    const table = readAt(image, metadata, 64 * 1024);
    for (let i = 0; i < table.readUInt16LE(10); i++) {
      const e = table.subarray(32 + i * 32, 64 + i * 32);
      if (e.subarray(0, 16).equals(guidToBytes('8141BF1D-A96F-4709-BA47-F233A8FAAB5F'))) {
        writeAt(image, metadata + e.readUInt32LE(16), Buffer.from(Uint32Array.of(4096).buffer));
      }
    }
    const { bytes, map } = await bytesAndMap(vhdxPlugin, image);
    expect(sha256(bytes)).toBe(before);
    expect(map).toEqual([
      [0, MiB, 3],
      [MiB, MiB, 0],
      [2 * MiB, 5 * MiB, 3],
      [7 * MiB, MiB, 0],
    ]);
  });

  it('refuses an unknown block state, naming the image', async () => {
    const image = tmp.file('bad-state.vhdx');
    qemuImg('create', '-q', '-f', 'vhdx', '-o', 'block_size=1M', image, '4M');
    writeAt(image, regions(image).bat + 8, u64(4));
    const chain = await openImageChain(image, 'vhdx');
    await expect(chain.read(Buffer.alloc(512), MiB)).rejects.toThrow(`${image}: BAT entry of block 1 has unknown state 4`);
    await chain.close();
  });
});

/** Rewrite one header (0 = at 64 KiB, 1 = at 128 KiB) and fix its CRC-32C. */
function editHeader(image: string, which: 0 | 1, edit: (h: Buffer) => void, fixCrc = true): void {
  const at = (which + 1) * 64 * 1024;
  const header = readAt(image, at, 4096);
  edit(header);
  if (fixCrc) {
    header.writeUInt32LE(0, 4);
    header.writeUInt32LE(crc32c(header), 4);
  }
  writeAt(image, at, header);
}

function currentHeaderIndex(image: string): 0 | 1 {
  const a = readAt(image, 64 * 1024, 16).readBigUInt64LE(8);
  const b = readAt(image, 128 * 1024, 16).readBigUInt64LE(8);
  return b > a ? 1 : 0;
}

describe('vhdx headers and log', () => {
  function fresh(name: string): string {
    const image = tmp.file(name);
    qemuImg('create', '-q', '-f', 'vhdx', '-o', 'block_size=1M', image, '4M');
    qemuIo(image, 'vhdx', 'write -P 0x33 0 1M');
    return image;
  }

  it('refuses an image with a pending log, saying how to replay it', async () => {
    const image = fresh('dirty.vhdx');
    editHeader(image, currentHeaderIndex(image), (h) => h.fill(0x77, 48, 64));
    await expect(openImageChain(image, 'vhdx')).rejects.toThrow(
      `${image}: has a pending log; open it once in Hyper-V or run qemu-img check -r all to replay it`,
    );
  });

  it('ignores a log GUID in the older header', async () => {
    const image = fresh('old-dirty.vhdx');
    editHeader(image, currentHeaderIndex(image) === 0 ? 1 : 0, (h) => h.fill(0x77, 48, 64));
    const { bytes } = await bytesAndMap(vhdxPlugin, image);
    expect(bytes[0]).toBe(0x33);
  });

  it('falls back to the other header when the current one has a bad checksum', async () => {
    const image = fresh('one-header.vhdx');
    editHeader(image, currentHeaderIndex(image), (h) => h.writeUInt32LE((h.readUInt32LE(4) ^ 1) >>> 0, 4), false);
    const { bytes } = await bytesAndMap(vhdxPlugin, image);
    expect(bytes[0]).toBe(0x33);
  });

  it('names the image when both headers are damaged', async () => {
    const image = fresh('no-header.vhdx');
    editHeader(image, 0, (h) => h.write('xxxx', 0), false);
    editHeader(image, 1, (h) => h.write('xxxx', 0), false);
    await expect(openImageChain(image, 'vhdx')).rejects.toThrow(`${image}: both VHDX headers are damaged`);
  });

  it('uses the region table copy when the first one is damaged', async () => {
    const image = fresh('region-copy.vhdx');
    writeAt(image, 192 * 1024 + 16, Buffer.alloc(16, 0xee));
    const { bytes } = await bytesAndMap(vhdxPlugin, image);
    expect(bytes[0]).toBe(0x33);
  });
});

describe('vhdx differencing', () => {
  function chain(prefix: string, parentRef: (parent: string) => Record<string, string>): { parent: string; child: string } {
    const parent = tmp.file(`${prefix}-base.vhdx`);
    qemuImg('create', '-q', '-f', 'vhdx', '-o', 'block_size=1M', parent, '8M');
    qemuIo(parent, 'vhdx', 'write -P 0xa1 0 8M');
    const child = tmp.file(`${prefix}-child.vhdx`);
    qemuImg('create', '-q', '-f', 'vhdx', '-o', 'block_size=1M,block_state_zero=off', child, '8M');
    qemuIo(child, 'vhdx', 'write -P 0xc2 1M 2M');
    makeDifferencing(child, parentRef(parent));
    return { parent, child };
  }

  it('reads child sectors over the parent, per sector in a partially present block', async () => {
    const { child } = chain('rel', (p) => ({ parent_linkage: '{00000000-0000-0000-0000-000000000000}', relative_path: `.\\${path.basename(p)}` }));
    const { bytes, extents, depth } = await chainContents(child, 'vhdx');
    const expected = Buffer.alloc(8 * MiB);
    expected.fill(0xa1, 0, 6 * MiB);
    expected.fill(0xc2, MiB, 2.5 * MiB);
    expect(sha256(bytes)).toBe(sha256(expected));
    expect(extents.map((e) => [e.offset, e.length, e.flags])).toEqual([
      [0, 6 * MiB, 0],
      [6 * MiB, 2 * MiB, 3],
    ]);
    expect(depth.map((d) => [d.offset, d.length, d.depth])).toEqual([
      [0, MiB, 2],
      [MiB, 1.5 * MiB, 1],
      [2.5 * MiB, 3.5 * MiB, 2],
      [6 * MiB, 2 * MiB, 1],
    ]);
  });

  it('finds the parent beside the child by the name in absolute_win32_path', async () => {
    const { child } = chain('win', (p) => ({ absolute_win32_path: `C:\\Hyper-V\\${path.basename(p)}` }));
    const stack = await openImageChain(child, 'vhdx');
    await stack.close();
    expect(stack.layers.map((l) => path.basename(l.path))).toEqual(['win-child.vhdx', 'win-base.vhdx']);
  });

  it('names both images when the parent is missing', async () => {
    const { child } = chain('missing', () => ({ relative_path: 'nowhere.vhdx' }));
    await expect(openImageChain(child, 'vhdx')).rejects.toThrow(`${child}: backing file`);
    await expect(openImageChain(child, 'vhdx')).rejects.toThrow(tmp.file('nowhere.vhdx'));
  });
});
