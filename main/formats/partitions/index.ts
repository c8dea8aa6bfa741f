// Partition tables (GPT, MBR with logical partitions) read through any chain layer: the
// reader only needs random access and the disk size, so the partition filter can use the
// layer below it and `blockscope info` can use a whole chain.
import { Disk } from './disk.ts';
import { findGpt, gptPartitions } from './gpt.ts';
import { hasBootSignature, isUsedEntry, mbrEntries, notAnMbrReason, readMbrPartitions } from './mbr.ts';
import { EXTENDED_MBR_TYPES, PROTECTIVE_MBR_TYPE } from './type-names.ts';
import type { Partition, PartitionTable, ReadAt } from './types.ts';

export type { Partition, PartitionScheme, PartitionTable, ReadAt } from './types.ts';

export interface ReadPartitionOptions {
  /**
   * Logical sector size for MBR disks. GPT finds its own (512 or 4096); an MBR records no
   * sector size, so a 4Kn disk with an MBR must say so.
   */
  mbrSectorSize?: number;
}

export async function readPartitionTable(read: ReadAt, diskSize: number, options: ReadPartitionOptions = {}): Promise<PartitionTable> {
  const disk = new Disk(read, diskSize);
  const warnings: string[] = [];
  const sector0 = await disk.read(0, 512);
  if (!sector0) return none(512, warnings);

  const signed = hasBootSignature(sector0);
  const notMbr = signed ? notAnMbrReason(sector0) : 'no 55 AA signature';
  const used = notMbr ? [] : mbrEntries(sector0).filter(isUsedEntry);
  const protective = used.some((e) => e.type === PROTECTIVE_MBR_TYPE);

  const problems: string[] = [];
  const found = await findGpt(disk, protective, problems);
  if (found) {
    warnings.push(...found.warnings);
    if (!protective) warnings.push('GPT found but sector 0 has no protective MBR (type 0xee): some firmware and tools will not see it');
    else if (used.length > 1) warnings.push('hybrid MBR: sector 0 has partitions next to the protective 0xee entry; the GPT is used');
    const { header } = found.gpt;
    const partitions = gptPartitions(found.gpt, warnings);
    checkLayout(partitions, diskSize, warnings);
    return { scheme: 'gpt', sectorSize: header.sectorSize, diskGuid: header.diskGuid, partitions, warnings };
  }
  warnings.push(...problems);
  if (protective) {
    warnings.push('sector 0 holds a protective MBR but no valid GPT header was found');
    return none(512, warnings);
  }
  if (notMbr || used.length === 0) {
    if (signed && notMbr && !notMbr.startsWith('sector 0 is a')) warnings.push(`sector 0 ends in 55 AA but is not an MBR: ${notMbr}`);
    return none(512, warnings);
  }

  const sectorSize = options.mbrSectorSize ?? 512;
  const partitions = await readMbrPartitions(disk, sector0, sectorSize, warnings);
  checkLayout(partitions, diskSize, warnings);
  const diskGuid = sector0.readUInt32LE(0x1b8).toString(16).padStart(8, '0');
  return { scheme: 'mbr', sectorSize, diskGuid, partitions, warnings };
}

function none(sectorSize: number, warnings: string[]): PartitionTable {
  return { scheme: 'none', sectorSize, partitions: [], warnings };
}

/** Flags partitions past the end of the disk and reports overlaps, which both schemes can have. */
function checkLayout(partitions: Partition[], diskSize: number, warnings: string[]): void {
  for (const p of partitions) {
    if (p.start + p.length > diskSize) {
      p.pastEnd = true;
      warnings.push(`partition ${p.number} (bytes ${p.start}-${p.start + p.length}) extends past the end of the disk (${diskSize} bytes)`);
    }
  }
  const byStart = [...partitions].sort((a, b) => a.start - b.start);
  for (let i = 1; i < byStart.length; i++) {
    const prev = byStart[i - 1]!;
    const cur = byStart[i]!;
    if (cur.start < prev.start + prev.length && !isExtendedContainer(prev, cur)) {
      warnings.push(`partitions ${prev.number} and ${cur.number} overlap`);
    }
  }
}

/** Logical partitions sit inside their extended partition by design. */
function isExtendedContainer(outer: Partition, inner: Partition): boolean {
  return outer.guid === undefined && EXTENDED_MBR_TYPES.has(Number(outer.type)) && inner.number >= 5;
}
