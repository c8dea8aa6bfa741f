// What a partition-table reader returns. Offsets are bytes from the start of the disk so
// callers (the partition filter, the map labels) never multiply by a sector size.

import type { PartitionEntry } from '../../../shared/ipc.ts';

/** Random access to the disk: exactly `length` bytes at `offset`. */
export type ReadAt = (offset: number, length: number) => Promise<Buffer>;

export type PartitionScheme = 'gpt' | 'mbr' | 'none';

export interface Partition extends PartitionEntry {
  /** GPT unique partition GUID. */
  guid?: string;
  /** MBR status 0x80, or GPT attribute bit 2 (legacy BIOS bootable). */
  bootable?: boolean;
  /** Set when the partition runs past the end of the disk: reading all of it would fail. */
  pastEnd?: boolean;
}

export interface PartitionTable {
  scheme: PartitionScheme;
  sectorSize: number;
  /** GPT disk GUID, or the MBR disk signature as 8 hex digits. */
  diskGuid?: string;
  partitions: Partition[];
  /** Problems that did not stop the reader, each naming what is wrong and where. */
  warnings: string[];
}
