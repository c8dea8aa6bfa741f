import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mapOf } from '../backend/testing.ts';
import { openTestChain } from '../testing/chains.ts';
import { detectFilesystem } from '../formats/filesystems/index.ts';
import { readPartitionTable } from '../formats/partitions/index.ts';
import { fileReadAt, runTool, tempDir } from '../formats/partitions/testing.ts';
import { demoLayout, ensureDemoImage } from './index.ts';

const MiB = 1024 * 1024;
/** Change together with DEMO_CONTENT_VERSION when the demo's bytes change on purpose. */
const EXPECTED_SHA256 = '8802029eb6cd8f995d0aaa07d6ad586d9bd59a9d5cf8877014853d4e7beb0d9a';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('ensureDemoImage', () => {
  it('generates the same bytes every time', async () => {
    const first = await ensureDemoImage(path.join(dir, 'a'));
    const second = await ensureDemoImage(path.join(dir, 'b'));
    expect(sha256(first)).toBe(EXPECTED_SHA256);
    expect(sha256(second)).toBe(EXPECTED_SHA256);
  });

  it('reuses an image that is already there', async () => {
    const first = await ensureDemoImage(dir);
    const inode = statSync(first).ino;
    expect(await ensureDemoImage(dir)).toBe(first);
    expect(statSync(first).ino).toBe(inode);
  });

  it('brings the original back after the image was written to', async () => {
    const sub = path.join(dir, 'written');
    const first = await ensureDemoImage(sub);
    const fd = openSync(first, 'r+');
    writeSync(fd, Buffer.from('scribble'), 0, 8, 4096);
    closeSync(fd);
    expect(sha256(first)).not.toBe(EXPECTED_SHA256);
    expect(sha256(await ensureDemoImage(sub))).toBe(EXPECTED_SHA256);
  });

  it('defaults to $XDG_CACHE_HOME/blockscope', async () => {
    const saved = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = dir;
    try {
      expect(await ensureDemoImage()).toBe(path.join(dir, 'blockscope', 'demo-v1.img'));
    } finally {
      if (saved === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved;
    }
  });
});

describe('the demo image, checked by independent tools', () => {
  it('has a GPT that sgdisk -v finds valid', async () => {
    const file = await ensureDemoImage(dir);
    expect(runTool('sgdisk', ['-v', file], 'gdisk')).toContain('No problems found');
  });

  it('has filesystems blkid recognises, with their labels', async () => {
    const file = await ensureDemoImage(dir);
    const probe = (offset: number) => runTool('blkid', ['-p', '-o', 'export', '-O', String(offset), file], 'util-linux');
    expect(probe(1 * MiB)).toMatch(/LABEL=DEMO-EFI\n(.*\n)*VERSION=FAT32\n(.*\n)*TYPE=vfat/);
    expect(probe(35 * MiB)).toMatch(/LABEL=demo-root\n(.*\n)*TYPE=ext4/);
    expect(probe(55 * MiB)).toMatch(/LABEL=demo-swap\n(.*\n)*TYPE=swap/);
  });

  it('has an EFI System partition that fsck.fat passes and mtools can read', async () => {
    const file = await ensureDemoImage(dir);
    const esp = path.join(dir, 'esp.img');
    runTool('dd', [`if=${file}`, `of=${esp}`, 'bs=1M', 'skip=1', 'count=34', 'conv=sparse', 'status=none'], 'coreutils');
    expect(runTool('fsck.fat', ['-n', esp], 'dosfstools')).toContain('3 files, 514/68528 clusters');
    expect(runTool('mtype', ['-i', `${file}@@${1 * MiB}`, '::README.TXT'], 'mtools')).toContain('Blockscope demo image');
  });

  it('has its preallocated ranges as unwritten extents (filefrag; needs a temp dir on ext4, XFS or Btrfs)', async () => {
    const file = await ensureDemoImage(dir);
    const unwritten = runTool('filefrag', ['-v', '-b4096', file], 'e2fsprogs')
      .split('\n')
      .filter((line) => line.includes('unwritten'))
      .map((line) => {
        const [, first, last] = /^\s*\d+:\s+(\d+)\.\.\s*(\d+):/.exec(line)!;
        return { offset: Number(first) * 4096, length: (Number(last) - Number(first) + 1) * 4096 };
      });
    expect(unwritten).toEqual(demoLayout().zeroRanges);
  });
});

describe('the demo image, read by our own readers', () => {
  it('has the partitions the layout promises', async () => {
    const file = await ensureDemoImage(dir);
    const table = await readPartitionTable(fileReadAt(file), demoLayout().size);
    expect(table.warnings).toEqual([]);
    expect(table.partitions.map((p) => ({ number: p.number, name: p.name, typeName: p.typeName, offset: p.start, length: p.length }))).toEqual(
      demoLayout().partitions.map((p) => ({ number: p.number, name: p.name, typeName: p.typeName, offset: p.offset, length: p.length })),
    );
  });

  it('has the filesystems the layout promises', async () => {
    const file = await ensureDemoImage(dir);
    const read = fileReadAt(file);
    for (const p of demoLayout().partitions) {
      const found = await detectFilesystem((offset, length) => read(p.offset + offset, length), p.length);
      expect(found).toEqual(p.filesystem);
    }
  });
});

describe('the demo image, served', () => {
  it('maps through the file plugin exactly as demoLayout says (needs the native addon)', async () => {
    const file = await ensureDemoImage(dir);
    const open = await openTestChain('file', { file });
    try {
      const expected = [
        ...demoLayout().dataRanges.map((r) => [r.offset, r.length, 0]),
        ...demoLayout().zeroRanges.map((r) => [r.offset, r.length, 2]),
        ...demoLayout().holeRanges.map((r) => [r.offset, r.length, 3]),
      ].sort((a, b) => a[0]! - b[0]!);
      expect(await mapOf(open)).toEqual(expected);
    } finally {
      await open.close();
    }
  });

  it('serves the ext4 partition through the partition filter', async () => {
    const file = await ensureDemoImage(dir);
    const open = await openTestChain('file', { file }, [['partition', { partition: '2' }]]);
    try {
      expect(open.top.getSize()).toBe(20 * MiB);
      expect(await mapOf(open)).toEqual([
        [0, 4096, 0],
        [4096, 1 * MiB - 4096, 3],
        [1 * MiB, 2 * MiB, 0],
        [3 * MiB, 3 * MiB, 3],
        [6 * MiB, 512 * 1024, 0],
        [6.5 * MiB, 3.5 * MiB, 3],
        [10 * MiB, 4 * MiB, 2],
        [14 * MiB, 6 * MiB, 3],
      ]);
    } finally {
      await open.close();
    }
  });
});

describe('demoLayout', () => {
  it('lists the partitions', () => {
    expect(demoLayout().partitions.map((p) => [p.number, p.name, p.typeName, p.offset, p.length, p.filesystem.type, p.filesystem.label])).toEqual([
      [1, 'demo-efi', 'EFI System', 1 * MiB, 34 * MiB, 'fat32', 'DEMO-EFI'],
      [2, 'demo-root', 'Linux filesystem', 35 * MiB, 20 * MiB, 'ext4', 'demo-root'],
      [3, 'demo-swap', 'Linux swap', 55 * MiB, 8 * MiB, 'swap', 'demo-swap'],
    ]);
  });

  it('has data, zero and hole ranges that tile the disk', () => {
    const all = [...demoLayout().dataRanges, ...demoLayout().zeroRanges, ...demoLayout().holeRanges].sort((a, b) => a.offset - b.offset);
    let pos = 0;
    for (const r of all) {
      expect(r.offset).toBe(pos);
      pos += r.length;
    }
    expect(pos).toBe(64 * MiB);
  });

  it('puts the "files" and preallocated regions where the map tests expect them', () => {
    expect(demoLayout().dataRanges).toContainEqual({ offset: 36 * MiB, length: 2 * MiB });
    expect(demoLayout().dataRanges).toContainEqual({ offset: 41 * MiB, length: 512 * 1024 });
    expect(demoLayout().zeroRanges).toEqual([
      { offset: 45 * MiB, length: 4 * MiB },
      { offset: 56 * MiB, length: 2 * MiB },
    ]);
  });
});
