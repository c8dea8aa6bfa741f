// VHD on-disk structures (Microsoft "Virtual Hard Disk Image Format Specification"): the
// 512-byte footer and the 1024-byte dynamic disk header. All numbers are big-endian.
import { BlockError } from '../../backend/errors.ts';

export const FOOTER_BYTES = 512;
export const DYNAMIC_HEADER_BYTES = 1024;
export const SECTOR = 512;

export const DISK_FIXED = 2;
export const DISK_DYNAMIC = 3;
export const DISK_DIFFERENCING = 4;

/** CHS geometry qemu and Virtual PC treat as "too big for CHS, trust current size". */
const MAX_CHS_SECTORS = 65535 * 16 * 255;

export interface VhdFooter {
  diskType: number;
  /** Dynamic header position; null for fixed disks (all ones on disk). */
  dynamicHeaderOffset: number | null;
  creatorApp: string;
  currentSize: number;
  cylinders: number;
  heads: number;
  sectorsPerTrack: number;
  uniqueId: Buffer;
}

export interface ParentLocator {
  platform: string;
  dataLength: number;
  dataOffset: number;
}

export interface DynamicHeader {
  tableOffset: number;
  maxTableEntries: number;
  blockSize: number;
  checksumOk: boolean;
  parentUniqueId: Buffer;
  parentName: string;
  locators: ParentLocator[];
}

/** The spec's checksum: one's complement of the byte sum with the checksum field counted as zero. */
export function vhdChecksum(bytes: Buffer, checksumAt: number): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (i < checksumAt || i >= checksumAt + 4) sum = (sum + bytes[i]!) >>> 0;
  }
  return ~sum >>> 0;
}

export function hasFooterCookie(bytes: Buffer): boolean {
  return bytes.length >= FOOTER_BYTES && bytes.toString('latin1', 0, 8) === 'conectix';
}

export function footerChecksumOk(bytes: Buffer): boolean {
  return bytes.readUInt32BE(64) === vhdChecksum(bytes.subarray(0, FOOTER_BYTES), 64);
}

/** A u64 as an exact number, or null for the all-ones "none" value; absurd values are an error. */
function readOffset64(bytes: Buffer, at: number, path: string, what: string): number | null {
  const hi = bytes.readUInt32BE(at);
  const lo = bytes.readUInt32BE(at + 4);
  if (hi === 0xffffffff && lo === 0xffffffff) return null;
  const value = hi * 2 ** 32 + lo;
  if (!Number.isSafeInteger(value)) throw new BlockError('EINVAL', `${path}: ${what} ${value} is larger than 2^53`);
  return value;
}

export function parseFooter(bytes: Buffer, path: string): VhdFooter {
  const currentSize = readOffset64(bytes, 48, path, 'current size');
  return {
    diskType: bytes.readUInt32BE(60),
    dynamicHeaderOffset: readOffset64(bytes, 16, path, 'data offset'),
    creatorApp: bytes.toString('latin1', 28, 32),
    currentSize: currentSize ?? Infinity,
    cylinders: bytes.readUInt16BE(56),
    heads: bytes[58]!,
    sectorsPerTrack: bytes[59]!,
    uniqueId: Buffer.from(bytes.subarray(68, 84)),
  };
}

/**
 * The guest size as qemu computes it: Virtual PC and old qemu size a disk by its CHS
 * geometry (the current-size field may be larger), everyone else by the current-size field;
 * a disk at the CHS maximum is sized by current size so it is not truncated.
 */
export function virtualSize(footer: VhdFooter, path: string): number {
  const chsSectors = footer.cylinders * footer.heads * footer.sectorsPerTrack;
  const byChs = (footer.creatorApp === 'vpc ' || footer.creatorApp === 'qemu') && chsSectors !== MAX_CHS_SECTORS;
  const bytes = byChs ? chsSectors * SECTOR : Math.floor(footer.currentSize / SECTOR) * SECTOR;
  if (!Number.isSafeInteger(bytes)) throw new BlockError('EINVAL', `${path}: the footer's current size is not a usable number`);
  return bytes;
}

export function parseDynamicHeader(bytes: Buffer, path: string): DynamicHeader {
  if (bytes.toString('latin1', 0, 8) !== 'cxsparse') {
    throw new BlockError('EINVAL', `${path}: the dynamic disk header has no "cxsparse" cookie: the image is corrupt`);
  }
  const tableOffset = readOffset64(bytes, 16, path, 'BAT offset');
  if (tableOffset === null) throw new BlockError('EINVAL', `${path}: the dynamic disk header has no BAT offset`);
  const locators: ParentLocator[] = [];
  for (let i = 0; i < 8; i++) {
    const at = 576 + i * 24;
    const platform = bytes.toString('latin1', at, at + 4);
    if (bytes.readUInt32BE(at) === 0) continue;
    const dataOffset = readOffset64(bytes, at + 16, path, `parent locator ${i} offset`) ?? -1;
    locators.push({ platform, dataLength: bytes.readUInt32BE(at + 8), dataOffset });
  }
  return {
    tableOffset,
    maxTableEntries: bytes.readUInt32BE(28),
    blockSize: bytes.readUInt32BE(32),
    checksumOk: bytes.readUInt32BE(36) === vhdChecksum(bytes, 36),
    parentUniqueId: Buffer.from(bytes.subarray(40, 56)),
    parentName: decodeUtf16(bytes.subarray(64, 576), 'be'),
    locators,
  };
}

/** A NUL-terminated (or full-length) UTF-16 string. */
export function decodeUtf16(bytes: Buffer, endian: 'le' | 'be'): string {
  const even = bytes.subarray(0, bytes.length & ~1);
  const le = endian === 'le' ? Buffer.from(even) : Buffer.from(even).swap16();
  const text = le.toString('utf16le');
  const nul = text.indexOf('\0');
  return nul >= 0 ? text.slice(0, nul) : text;
}
