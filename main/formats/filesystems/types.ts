// What the signature reader returns, and the shape every per-format probe has.
import type { ReadAt } from '../partitions/types.ts';

export type FilesystemType =
  | 'ext2' | 'ext3' | 'ext4' | 'xfs' | 'btrfs' | 'ntfs' | 'fat12' | 'fat16' | 'fat32' | 'exfat'
  | 'iso9660' | 'swap' | 'lvm2-pv' | 'luks1' | 'luks2';

export interface FilesystemSignature {
  type: FilesystemType;
  /** The volume label, when the format has one and it is set. */
  label?: string;
  /** Formatted as blkid prints it (a UUID, "7BBE-F1DA" for FAT, a date for ISO9660, ...). */
  uuid?: string;
}

/** Bytes a probe may look at without asking: enough for every magic (Btrfs sits at 64 KiB). */
export const HEAD_BYTES = 0x11000;

export interface ProbeInput {
  /** The first HEAD_BYTES of the volume (fewer if the volume is smaller). */
  head: Buffer;
  /** Further reads, for labels kept outside the head (NTFS $Volume, the exFAT root directory); null when outside the volume. */
  read: (offset: number, length: number) => Promise<Buffer | null>;
  size: number;
}

export type Probe = (input: ProbeInput) => FilesystemSignature | null | Promise<FilesystemSignature | null>;

export type { ReadAt };
