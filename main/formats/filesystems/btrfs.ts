// Btrfs: the primary superblock sits at 64 KiB, leaving room for a boot loader before it.
import { uuidFromBytes } from '../partitions/guid.ts';
import { cString, hasMagic } from './fields.ts';
import type { FilesystemSignature, ProbeInput } from './types.ts';

const SUPERBLOCK = 0x10000;

export function probeBtrfs({ head }: ProbeInput): FilesystemSignature | null {
  if (!hasMagic(head, SUPERBLOCK + 0x40, '_BHRfS_M') || head.length < SUPERBLOCK + 0x22b) return null;
  return { type: 'btrfs', label: cString(head, SUPERBLOCK + 0x12b, 256), uuid: uuidFromBytes(head.subarray(SUPERBLOCK + 0x20, SUPERBLOCK + 0x30)) };
}
