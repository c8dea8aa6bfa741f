import { describe, expect, it } from 'vitest';
import { Chain, type OpenChain } from '../../backend/chain.ts';
import type { PluginInstance } from '../../backend/types.ts';
import { mapOf, readAll } from '../../backend/testing.ts';
import { buildGpt } from '../../formats/partitions/gpt-writer.ts';
import { GPT_TYPE } from '../../formats/partitions/type-names.ts';
import { memoryPlugin } from '../../plugins/memory/index.ts';
import { parseParams } from '../../../shared/params.ts';
import { partitionFilter } from './index.ts';

const MiB = 1024 * 1024;
const DISK = 4 * MiB;

/** A 4 MiB RAM disk: GPT with p1 = [1 MiB, 2 MiB), p2 = [2 MiB, 3 MiB); 4 KiB of 0xa1 at p1+8K, 8 KiB of 0xb2 at p2+0. */
async function gptDisk(): Promise<PluginInstance> {
  const memory = await memoryPlugin.create({ size: DISK });
  const open = await new Chain({ name: 'memory', instance: memory }, []).open({ readonly: false, exportName: '' });
  const gpt = buildGpt({
    diskSize: DISK, sectorSize: 512, diskGuid: '11111111-2222-3333-4444-555555555555',
    partitions: [
      { type: GPT_TYPE.efiSystem, guid: 'AAAAAAAA-0000-0000-0000-000000000001', firstLba: 2048, lastLba: 4095, name: 'one' },
      { type: GPT_TYPE.linuxFilesystem, guid: 'AAAAAAAA-0000-0000-0000-000000000002', firstLba: 4096, lastLba: 6143, name: 'two' },
    ],
  });
  for (const w of gpt) await open.top.pwrite(w.data, w.offset);
  await open.top.pwrite(Buffer.alloc(4096, 0xa1), 1 * MiB + 8192);
  await open.top.pwrite(Buffer.alloc(8192, 0xb2), 2 * MiB);
  await open.close();
  return memory;
}

async function openPartition(disk: PluginInstance, partition: string): Promise<OpenChain> {
  const filter = await partitionFilter.create(parseParams('partition', partitionFilter.params, { partition }));
  return new Chain({ name: 'memory', instance: disk }, [{ name: 'partition', instance: filter }]).open({ readonly: false, exportName: '' });
}

describe('partition filter', () => {
  it('maps partition 1 with its data block 8 KiB in', async () => {
    const open = await openPartition(await gptDisk(), '1');
    expect(await mapOf(open)).toEqual([
      [0, 8192, 3],
      [8192, 4096, 0],
      [12288, 1 * MiB - 12288, 3],
    ]);
  });

  it('maps partition 2 with its data at the start', async () => {
    const open = await openPartition(await gptDisk(), '2');
    expect(await mapOf(open)).toEqual([
      [0, 8192, 0],
      [8192, 1 * MiB - 8192, 3],
    ]);
  });

  it('reads the partition bytes, not the disk bytes', async () => {
    const open = await openPartition(await gptDisk(), '2');
    expect(open.top.getSize()).toBe(1 * MiB);
    const head = await readAll(open, 8190, 4);
    expect([...head]).toEqual([0xb2, 0xb2, 0, 0]);
  });

  it('writes land inside the partition on the disk below', async () => {
    const disk = await gptDisk();
    const p1 = await openPartition(disk, '1');
    await p1.top.pwrite(Buffer.from('hello'), 100);
    await p1.close();
    const whole = await new Chain({ name: 'memory', instance: disk }, []).open({ readonly: false, exportName: '' });
    expect((await readAll(whole, 1 * MiB + 100, 5)).toString()).toBe('hello');
  });

  it('refuses requests beyond the end of the partition', async () => {
    const open = await openPartition(await gptDisk(), '1');
    await expect(open.top.pread(Buffer.alloc(512), 1 * MiB)).rejects.toThrow();
  });

  it('names the partitions that exist when the one asked for does not', async () => {
    await expect(openPartition(await gptDisk(), '5')).rejects.toThrow('partition: partition 5 not found; the disk has a GPT with partitions 1, 2');
  });

  it('says an MBR disk has no such partition', async () => {
    const memory = await memoryPlugin.create({ size: DISK });
    const open = await new Chain({ name: 'memory', instance: memory }, []).open({ readonly: false, exportName: '' });
    const mbr = Buffer.alloc(512);
    mbr.set([0, 0, 0, 0, 0x83], 0x1be);
    mbr.writeUInt32LE(2048, 0x1be + 8);
    mbr.writeUInt32LE(2048, 0x1be + 12);
    mbr.set([0, 0, 0, 0, 0x83], 0x1ce);
    mbr.writeUInt32LE(4096, 0x1ce + 8);
    mbr.writeUInt32LE(2048, 0x1ce + 12);
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
    await open.top.pwrite(mbr, 0);
    await expect(openPartition(memory, '5')).rejects.toThrow('partition: partition 5 not found; the disk has an MBR with partitions 1, 2');
  });

  it('says a blank disk has no partition table', async () => {
    const memory = await memoryPlugin.create({ size: DISK });
    await expect(openPartition(memory, '1')).rejects.toThrow('partition: partition 1 not found; the disk has no partition table');
  });

  it('requires a partition number of at least 1', () => {
    expect(() => parseParams('partition', partitionFilter.params, { partition: '0' })).toThrow('partition: partition: 0 is below the minimum 1');
  });
});
