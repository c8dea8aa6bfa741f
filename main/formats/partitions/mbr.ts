// MBR: four primary slots in sector 0, and for an extended partition a linked list of EBRs
// (one logical partition each). An EBR's logical entry is relative to that EBR; its link
// entry is relative to the start of the outermost extended partition.
import type { Disk } from './disk.ts';
import { EXTENDED_MBR_TYPES, mbrTypeName, mbrTypeText } from './type-names.ts';
import type { Partition } from './types.ts';

export interface MbrEntry {
  /** 0-3 in the sector. */
  slot: number;
  status: number;
  type: number;
  startLba: number;
  sectors: number;
}

/** Far more logical partitions than any tool makes; stops a crafted chain from running on. */
const MAX_LOGICALS = 256;

export function hasBootSignature(sector: Buffer): boolean {
  return sector.length >= 512 && sector[510] === 0x55 && sector[511] === 0xaa;
}

export function mbrEntries(sector: Buffer): MbrEntry[] {
  return [0, 1, 2, 3].map((slot) => {
    const at = 0x1be + slot * 16;
    return {
      slot,
      status: sector[at]!,
      type: sector[at + 4]!,
      startLba: sector.readUInt32LE(at + 8),
      sectors: sector.readUInt32LE(at + 12),
    };
  });
}

export function isUsedEntry(e: MbrEntry): boolean {
  return e.type !== 0 && e.sectors !== 0;
}

/**
 * Why sector 0 is not an MBR even though it ends in 55 AA, or null if it may be one. A
 * filesystem boot sector (FAT, NTFS, exFAT on an unpartitioned disk) carries the same
 * signature, and its code bytes would otherwise read as nonsense partitions.
 */
export function notAnMbrReason(sector: Buffer): string | null {
  const oem = sector.toString('latin1', 3, 11);
  if (oem === 'NTFS    ' || oem === 'EXFAT   ') return `sector 0 is an ${oem.trim()} boot sector`;
  if (sector.toString('latin1', 0x36, 0x3b) === 'FAT12' || sector.toString('latin1', 0x36, 0x3b) === 'FAT16' ||
    sector.toString('latin1', 0x52, 0x57) === 'FAT32') {
    return 'sector 0 is a FAT boot sector';
  }
  const bad = mbrEntries(sector).find((e) => e.status !== 0 && e.status !== 0x80);
  if (bad) return `MBR slot ${bad.slot + 1} has status byte ${mbrTypeText(bad.status)} (only 0x00 and 0x80 are valid)`;
  return null;
}

function toPartition(number: number, entry: MbrEntry, startLba: number, sectorSize: number): Partition {
  return {
    number,
    start: startLba * sectorSize,
    length: entry.sectors * sectorSize,
    type: mbrTypeText(entry.type),
    typeName: mbrTypeName(entry.type),
    name: '',
    bootable: entry.status === 0x80,
  };
}

/** Primary partitions (numbered by slot) followed by the logicals of every extended one. */
export async function readMbrPartitions(disk: Disk, sector0: Buffer, sectorSize: number, warnings: string[]): Promise<Partition[]> {
  const primaries = mbrEntries(sector0).filter(isUsedEntry);
  const out = primaries.map((e) => toPartition(e.slot + 1, e, e.startLba, sectorSize));
  const extended = primaries.filter((e) => EXTENDED_MBR_TYPES.has(e.type));
  if (extended.length > 1) warnings.push(`the MBR has ${extended.length} extended partitions (slots ${extended.map((e) => e.slot + 1).join(', ')}); only one is standard`);
  let nextNumber = 5;
  for (const ext of extended) {
    const logicals = await readLogicals(disk, ext, nextNumber, sectorSize, warnings);
    out.push(...logicals);
    nextNumber += logicals.length;
  }
  return out;
}

async function readLogicals(disk: Disk, ext: MbrEntry, firstNumber: number, sectorSize: number, warnings: string[]): Promise<Partition[]> {
  const out: Partition[] = [];
  const extEnd = ext.startLba + ext.sectors;
  const visited = new Set<number>();
  let ebr = ext.startLba;
  for (;;) {
    if (visited.has(ebr)) {
      warnings.push(`the EBR chain of extended partition ${ext.slot + 1} loops back to LBA ${ebr}; stopped there`);
      break;
    }
    if (visited.size >= MAX_LOGICALS) {
      warnings.push(`the EBR chain of extended partition ${ext.slot + 1} has more than ${MAX_LOGICALS} links; stopped there`);
      break;
    }
    visited.add(ebr);
    const sector = await disk.read(ebr * sectorSize, 512);
    if (!sector) {
      warnings.push(`the EBR at LBA ${ebr} lies beyond the end of the disk; logical partitions from there on are missing`);
      break;
    }
    if (!hasBootSignature(sector)) {
      warnings.push(`the EBR at LBA ${ebr} has no 55 AA signature; logical partitions from there on are ignored`);
      break;
    }
    const [logical, link] = mbrEntries(sector) as [MbrEntry, MbrEntry];
    if (isUsedEntry(logical)) {
      const startLba = ebr + logical.startLba;
      const number = firstNumber + out.length;
      if (startLba < ext.startLba || startLba + logical.sectors > extEnd) {
        warnings.push(`logical partition ${number} (LBA ${startLba}, ${logical.sectors} sectors) is not inside its extended partition ${ext.slot + 1}`);
      }
      out.push(toPartition(number, logical, startLba, sectorSize));
    }
    if (!isUsedEntry(link)) break;
    if (!EXTENDED_MBR_TYPES.has(link.type)) {
      warnings.push(`the EBR at LBA ${ebr} links to an entry of type ${mbrTypeText(link.type)}, not an extended type; chain stopped`);
      break;
    }
    const next = ext.startLba + link.startLba;
    if (next >= extEnd) {
      warnings.push(`the EBR at LBA ${ebr} links to LBA ${next}, outside its extended partition; chain stopped`);
      break;
    }
    ebr = next;
  }
  return out;
}
