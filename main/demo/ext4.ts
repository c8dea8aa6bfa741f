// An ext4 superblock (and nothing else of the filesystem): enough for blkid and our
// signature reader to name the partition "ext4, demo-root", without shipping or running
// mkfs. metadata_csum stays off, because blkid would then check a checksum we do not write.
import { guidToBytes } from '../formats/partitions/guid.ts';
import type { SparseImage } from './sparse-image.ts';

const SUPERBLOCK_AT = 1024;
const BLOCK_SIZE_LOG = 2; // 1024 << 2 = 4 KiB blocks
const INODES_PER_GROUP = 2048;
const FIXED_TIME = 1704110400; // 2024-01-01 12:00 UTC

const COMPAT = 0x4 | 0x8 | 0x20; // has_journal, ext_attr, dir_index
const INCOMPAT = 0x2 | 0x40 | 0x200; // filetype, extents, flex_bg
const RO_COMPAT = 0x1 | 0x2 | 0x8 | 0x20 | 0x40; // sparse_super, large_file, huge_file, dir_nlink, extra_isize

export interface Ext4Options {
  bytes: number;
  label: string;
  uuid: string;
}

export function writeExt4Superblock(image: SparseImage, offset: number, o: Ext4Options): void {
  const blocks = Math.floor(o.bytes / (1024 << BLOCK_SIZE_LOG));
  const s = Buffer.alloc(1024);
  s.writeUInt32LE(INODES_PER_GROUP, 0x00);
  s.writeUInt32LE(blocks, 0x04);
  s.writeUInt32LE(Math.floor(blocks / 20), 0x08); // 5% reserved for root
  s.writeUInt32LE(blocks - 64, 0x0c);
  s.writeUInt32LE(INODES_PER_GROUP - 11, 0x10);
  s.writeUInt32LE(0, 0x14); // first data block: 0 with 4 KiB blocks
  s.writeUInt32LE(BLOCK_SIZE_LOG, 0x18);
  s.writeUInt32LE(BLOCK_SIZE_LOG, 0x1c);
  s.writeUInt32LE(32768, 0x20);
  s.writeUInt32LE(32768, 0x24);
  s.writeUInt32LE(INODES_PER_GROUP, 0x28);
  s.writeUInt32LE(FIXED_TIME, 0x30);
  s.writeUInt16LE(0xffff, 0x36); // max mount count: never force a check
  s.writeUInt16LE(0xef53, 0x38);
  s.writeUInt16LE(1, 0x3a); // cleanly unmounted
  s.writeUInt16LE(1, 0x3c); // on errors: continue
  s.writeUInt32LE(FIXED_TIME, 0x40);
  s.writeUInt32LE(1, 0x4c); // dynamic revision
  s.writeUInt32LE(11, 0x54);
  s.writeUInt16LE(256, 0x58);
  s.writeUInt32LE(COMPAT, 0x5c);
  s.writeUInt32LE(INCOMPAT, 0x60);
  s.writeUInt32LE(RO_COMPAT, 0x64);
  Buffer.from(o.uuid.replace(/-/g, ''), 'hex').copy(s, 0x68);
  s.write(o.label.slice(0, 16), 0x78, 'utf8');
  s.writeUInt32LE(8, 0xe0); // journal inode
  guidToBytes('5EED0000-0000-4000-8000-000000000001').copy(s, 0xec); // dir hash seed
  s[0xfc] = 1; // half_md4
  s.writeUInt32LE(FIXED_TIME, 0x108);
  s.writeUInt16LE(32, 0x15c);
  s.writeUInt16LE(32, 0x15e);
  image.write(offset + SUPERBLOCK_AT, s);
}
