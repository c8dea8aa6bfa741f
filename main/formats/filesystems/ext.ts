// ext2/3/4 share one superblock (at 1 KiB); which name applies follows blkid: features an
// older driver cannot mount make it ext4, otherwise a journal makes it ext3.
import { uuidFromBytes } from '../partitions/guid.ts';
import { cString, u16le } from './fields.ts';
import type { FilesystemSignature, ProbeInput } from './types.ts';

const SUPERBLOCK = 1024;
const EXT_MAGIC = 0xef53;
const COMPAT_HAS_JOURNAL = 0x4;
const INCOMPAT_JOURNAL_DEV = 0x8;
/** Incompat features ext2 (FILETYPE, META_BG) and ext3 (+ RECOVER) drivers understand. */
const EXT2_INCOMPAT = 0x2 | 0x10;
const EXT3_INCOMPAT = EXT2_INCOMPAT | 0x4;
/** SPARSE_SUPER, LARGE_FILE, BTREE_DIR: the ro_compat features both understand. */
const EXT23_RO_COMPAT = 0x1 | 0x2 | 0x4;

export function probeExt({ head }: ProbeInput): FilesystemSignature | null {
  if (u16le(head, SUPERBLOCK + 0x38) !== EXT_MAGIC || head.length < SUPERBLOCK + 1024) return null;
  const sb = head.subarray(SUPERBLOCK, SUPERBLOCK + 1024);
  const compat = sb.readUInt32LE(0x5c);
  const incompat = sb.readUInt32LE(0x60);
  const roCompat = sb.readUInt32LE(0x64);
  // An external journal device has an ext superblock but holds no files.
  if (incompat & INCOMPAT_JOURNAL_DEV) return null;
  const journal = (compat & COMPAT_HAS_JOURNAL) !== 0;
  const beyondExt3 = (incompat & ~EXT3_INCOMPAT) !== 0 || (roCompat & ~EXT23_RO_COMPAT) !== 0;
  const beyondExt2 = (incompat & ~EXT2_INCOMPAT) !== 0 || (roCompat & ~EXT23_RO_COMPAT) !== 0;
  const type = beyondExt3 || (!journal && beyondExt2) ? 'ext4' : journal ? 'ext3' : 'ext2';
  return { type, label: cString(sb, 0x78, 16), uuid: uuidFromBytes(sb.subarray(0x68, 0x78)) };
}
