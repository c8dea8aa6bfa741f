// The demo disk, described once: partitions, what each holds, and where the "files" and
// preallocated regions go. build.ts turns this into bytes; the ranges the allocation map
// should show are computed from the built pages, so they cannot drift from the content.
import { GPT_TYPE } from '../formats/partitions/type-names.ts';

const MiB = 1024 * 1024;

/** Bump when the bytes change: the cached image's file name carries it. */
export const DEMO_CONTENT_VERSION = 1;
export const DEMO_SIZE = 64 * MiB;
export const DEMO_SECTOR = 512;
export const DEMO_DISK_GUID = 'B10C5C0B-E000-4000-8000-00000000D15C';

export interface ByteRange {
  offset: number;
  length: number;
}

export interface DemoPartitionPlan {
  number: number;
  name: string;
  type: string;
  guid: string;
  offset: number;
  length: number;
  filesystem: { type: 'fat32' | 'ext4' | 'swap'; label: string; uuid: string };
  /**
   * Pseudo-random "files". FAT places them itself; the ext4 partition is only a superblock,
   * so its files say where their blocks go (relative to the partition).
   */
  files: readonly { name: string; seed: number; length: number; offset?: number }[];
  /** Regions preallocated with fallocate (allocated, reading as zero), relative to the partition. */
  preallocated: readonly ByteRange[];
}

export const DEMO_PARTITIONS: readonly DemoPartitionPlan[] = [
  {
    number: 1, name: 'demo-efi', type: GPT_TYPE.efiSystem, guid: 'B10C5C0B-E000-4000-8000-000000000001',
    offset: 1 * MiB, length: 34 * MiB,
    filesystem: { type: 'fat32', label: 'DEMO-EFI', uuid: 'DE30-0EF1' },
    files: [{ name: 'BOOTX64.EFI', seed: 1, length: 256 * 1024 }],
    preallocated: [],
  },
  {
    number: 2, name: 'demo-root', type: GPT_TYPE.linuxFilesystem, guid: 'B10C5C0B-E000-4000-8000-000000000002',
    offset: 35 * MiB, length: 20 * MiB,
    filesystem: { type: 'ext4', label: 'demo-root', uuid: 'b10c5c0b-e000-4000-8000-0000000e4f00' },
    files: [
      { name: 'file-a', seed: 2, offset: 1 * MiB, length: 2 * MiB },
      { name: 'file-b', seed: 3, offset: 6 * MiB, length: 512 * 1024 },
    ],
    preallocated: [{ offset: 10 * MiB, length: 4 * MiB }],
  },
  {
    number: 3, name: 'demo-swap', type: GPT_TYPE.linuxSwap, guid: 'B10C5C0B-E000-4000-8000-000000000003',
    offset: 55 * MiB, length: 8 * MiB,
    filesystem: { type: 'swap', label: 'demo-swap', uuid: 'b10c5c0b-e000-4000-8000-00000005a900' },
    files: [],
    preallocated: [{ offset: 1 * MiB, length: 2 * MiB }],
  },
];

export const DEMO_README = 'Blockscope demo image: a GPT disk with an EFI System partition (FAT32),\r\nan ext4 root and a swap area, built byte for byte the same on every run.\r\n';
